import { describe, expect, it } from 'vitest';
import { checkTargetUrl, isForbiddenAddress } from '../../src/domain/url-policy.js';

const strict = { allowPrivate: false };
const lenient = { allowPrivate: true };

describe('checkTargetUrl', () => {
  it.each([
    'https://example.com',
    'https://example.com:8443/hooks?x=1#frag',
    'https://8.8.8.8/',
    'https://[2606:4700:4700::1111]/',
    'https://[::ffff:8.8.8.8]/', // mapped, but a public address
    'https://[64:ff9b::808:808]/', // NAT64 of 8.8.8.8
    'https://my-service.example/', // host names are not resolved here
    'https://intranet/', // single-label: the connect-time guard judges what it resolves to
  ])('accepts %s', (raw) => {
    const result = checkTargetUrl(raw, strict);
    expect(result).toMatchObject({ ok: true });
    if (result.ok) expect(result.url).toBeInstanceOf(URL);
  });

  it.each([
    // scheme, shape
    ['http://example.com', 'https://'],
    ['ftp://example.com', 'https://'],
    ['not a url', 'absolute URL'],
    ['/relative/path', 'absolute URL'],
    ['https://user:pass@example.com/', 'username or password'],
    ['https://user@example.com/', 'username or password'],
    [`https://example.com/${'a'.repeat(2048)}`, '2048'],
    // loopback, incl. spellings WHATWG URL normalises to 127.0.0.1
    ['https://127.0.0.1/', '127.0.0.1'],
    ['https://127.0.0.1./', '127.0.0.1'],
    ['https://2130706433/', '127.0.0.1'],
    ['https://0x7f.1/', '127.0.0.1'],
    ['https://0x7f000001/', '127.0.0.1'],
    ['https://0177.0.0.1/', '127.0.0.1'],
    ['https://127.1/', '127.0.0.1'],
    ['https://127.254.1.2/', '127.254.1.2'],
    ['https://[::1]/', '::1'],
    ['https://[0:0:0:0:0:0:0:1]/', '::1'],
    ['https://[::ffff:127.0.0.1]/', '::ffff:7f00:1'],
    ['https://[::ffff:7f00:1]/', '::ffff:7f00:1'],
    ['https://[::127.0.0.1]/', '::7f00:1'], // IPv4-compatible
    ['https://[64:ff9b::7f00:1]/', '64:ff9b::7f00:1'], // NAT64 of 127.0.0.1
    ['https://[2002:7f00:1::]/', '2002:7f00:1::'], // 6to4 of 127.0.0.1
    // unspecified
    ['https://0.0.0.0/', '0.0.0.0'],
    ['https://0/', '0.0.0.0'],
    ['https://[::]/', '::'],
    // link-local, incl. cloud metadata
    ['https://169.254.169.254/latest/meta-data/', '169.254.169.254'],
    ['https://[fe80::1]/', 'fe80::1'],
    ['https://[::ffff:169.254.169.254]/', '::ffff:a9fe:a9fe'],
    // private and shared ranges, both edges
    ['https://10.0.0.1/', '10.0.0.1'],
    ['https://10.255.255.255/', '10.255.255.255'],
    ['https://172.16.0.1/', '172.16.0.1'],
    ['https://172.31.255.254/', '172.31.255.254'],
    ['https://192.168.1.1/', '192.168.1.1'],
    ['https://100.64.0.1/', '100.64.0.1'],
    ['https://100.127.255.254/', '100.127.255.254'],
    ['https://[fc00::1]/', 'fc00::1'],
    ['https://[fd12:3456::1]/', 'fd12:3456::1'],
    // multicast, broadcast, reserved, documentation
    ['https://224.0.0.1/', '224.0.0.1'],
    ['https://255.255.255.255/', '255.255.255.255'],
    ['https://240.0.0.1/', '240.0.0.1'],
    ['https://192.0.2.10/', '192.0.2.10'],
    ['https://[ff02::1]/', 'ff02::1'],
    ['https://[2001:db8::1]/', '2001:db8::1'],
    // local-only names
    ['https://localhost/', 'localhost'],
    ['https://LOCALHOST:8443/', 'localhost'],
    ['https://localhost./', 'localhost'],
    ['https://api.localhost/', 'api.localhost'],
    ['https://printer.local/', 'printer.local'],
    ['https://db.internal/', 'db.internal'],
    ['https://router.home.arpa/', 'router.home.arpa'],
  ])('refuses %s', (raw, reasonPart) => {
    const result = checkTargetUrl(raw, strict);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toContain(reasonPart);
  });

  it('gives readable reasons', () => {
    expect(checkTargetUrl('http://example.com', strict)).toEqual({ ok: false, reason: 'url must use https://' });
    expect(checkTargetUrl('https://2130706433/', strict)).toEqual({
      ok: false,
      reason: 'url points to a private or loopback address (127.0.0.1)',
    });
  });

  it('accepts http and private targets only when allowPrivate', () => {
    for (const raw of ['http://127.0.0.1:8080/hook', 'http://localhost:3000/', 'https://[::1]/', 'http://10.0.0.5/']) {
      expect(checkTargetUrl(raw, lenient)).toMatchObject({ ok: true });
      expect(checkTargetUrl(raw, strict)).toMatchObject({ ok: false });
    }
  });

  it('still refuses credentials, other schemes and malformed URLs when allowPrivate', () => {
    expect(checkTargetUrl('http://u:p@127.0.0.1/', lenient)).toMatchObject({ ok: false });
    expect(checkTargetUrl('ftp://127.0.0.1/', lenient)).toMatchObject({ ok: false });
    expect(checkTargetUrl('file:///etc/passwd', lenient)).toMatchObject({ ok: false });
    expect(checkTargetUrl('127.0.0.1:8080', lenient)).toMatchObject({ ok: false });
  });
});

describe('isForbiddenAddress', () => {
  it.each([
    '127.0.0.1',
    '0.0.0.0',
    '10.1.2.3',
    '172.20.0.1',
    '192.168.0.1',
    '100.64.0.1',
    '169.254.169.254',
    '198.18.0.1',
    '203.0.113.9',
    '255.255.255.255',
    '::',
    '::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:10.0.0.1',
    '::ffff:0:127.0.0.1', // IPv4-translated (SIIT)
    '::127.0.0.1',
    '::8.8.8.8', // IPv4-compatible is deprecated: refused whatever it embeds
    '64:ff9b::127.0.0.1',
    '64:ff9b::a9fe:a9fe',
    '64:ff9b:1::808:808', // local-use NAT64
    '2002:a00:1::1', // 6to4 of 10.0.0.1
    '2002:c0a8:101::', // 6to4 of 192.168.1.1
    'fc00::1',
    'fdff:ffff::1',
    'fe80::1',
    'fe80::1%eth0',
    'febf::1',
    'fec0::1',
    'ff02::1',
    '100::1',
    '2001::1', // Teredo
    '2001:db8::1',
    '3fff::1',
    '[::1]',
    'not-an-ip',
    '',
  ])('forbids %s', (ip) => {
    expect(isForbiddenAddress(ip)).toBe(true);
  });

  it.each([
    '8.8.8.8',
    '1.1.1.1',
    '172.15.255.255',
    '172.32.0.1',
    '100.63.255.255',
    '100.128.0.1',
    '169.253.0.1',
    '11.0.0.1',
    '223.255.255.254',
    '::ffff:8.8.8.8',
    '64:ff9b::8.8.8.8',
    '2002:808:808::1', // 6to4 of 8.8.8.8
    '2606:4700:4700::1111',
    '2a00:1450:4001:80b::200e',
  ])('allows %s', (ip) => {
    expect(isForbiddenAddress(ip)).toBe(false);
  });
});
