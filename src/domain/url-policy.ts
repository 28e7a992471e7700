/**
 * Which webhook target URLs we accept (SSRF guard, first line). Pure: host names are NOT resolved here; the
 * delivery path checks the addresses a name resolves to at connect time (`delivery/guarded-lookup.ts`), which is what
 * defeats DNS rebinding. This module refuses what can be refused from the URL alone: wrong scheme, credentials,
 * local-only names and literal IP addresses that are not globally reachable.
 *
 * WHATWG URL parsing already normalises odd IPv4 spellings (`2130706433`, `0x7f.1`, `0177.0.0.1`, `127.1`) to dotted
 * form and IPv6 to its compressed form in brackets, so only canonical spellings reach the address checks.
 */
import { isIP, isIPv4, isIPv6 } from 'node:net';

export type UrlPolicyResult = { ok: true; url: URL } | { ok: false; reason: string };

/** Long enough for any sane endpoint, short enough to keep rows and logs bounded. */
const MAX_URL_LENGTH = 2048;

/**
 * Special-use names that only ever mean "this machine" or "this site": RFC 6761 (`localhost`), RFC 6762 (`local`,
 * mDNS), RFC 8375 (`home.arpa`) and ICANN's 2024 private-use `internal`.
 */
const LOCAL_ONLY_SUFFIXES = ['localhost', 'local', 'internal', 'home.arpa'];

export function checkTargetUrl(raw: string, opts: { allowPrivate: boolean }): UrlPolicyResult {
  if (raw.length > MAX_URL_LENGTH) return refuse(`url must be at most ${MAX_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return refuse('url must be an absolute URL');
  }
  if (url.href.length > MAX_URL_LENGTH) return refuse(`url must be at most ${MAX_URL_LENGTH} characters`);

  if (opts.allowPrivate) {
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return refuse('url must use https:// or http://');
  } else if (url.protocol !== 'https:') {
    return refuse('url must use https://');
  }
  // Credentials in a URL end up in logs and dashboards, and receivers authenticate us by signature instead.
  if (url.username !== '' || url.password !== '') return refuse('url must not contain a username or password');

  const host = bareHost(url.hostname);
  if (host === '') return refuse('url must have a host');
  if (opts.allowPrivate) return { ok: true, url };

  if (isIP(host) !== 0) {
    if (isForbiddenAddress(host)) return refuse(`url points to a private or loopback address (${host})`);
    return { ok: true, url };
  }
  // A trailing dot makes a name fully qualified (`localhost.`) but names the same host.
  const name = host.replace(/\.+$/, '');
  if (LOCAL_ONLY_SUFFIXES.some((suffix) => name === suffix || name.endsWith(`.${suffix}`))) {
    return refuse(`url points to a local-only host name (${name})`);
  }
  return { ok: true, url };
}

/**
 * Whether a connection to this IP address must be refused: anything that is not globally reachable unicast
 * (private, loopback, link-local, unspecified, CGNAT, multicast, broadcast, documentation, benchmarking, reserved),
 * including IPv4 addresses smuggled inside IPv6 forms (mapped, translated, NAT64, 6to4).
 *
 * Fails closed: a string that is not an IP address is reported as forbidden.
 */
export function isForbiddenAddress(ip: string): boolean {
  const address = bareHost(ip);
  if (isIPv4(address)) {
    const bytes = parseIPv4(address);
    return bytes === null || isForbiddenIPv4(bytes);
  }
  if (isIPv6(address)) {
    const bytes = parseIPv6(address);
    return bytes === null || isForbiddenIPv6(bytes);
  }
  return true;
}

function refuse(reason: string): UrlPolicyResult {
  return { ok: false, reason };
}

/** `[::1]` → `::1`, and drops an IPv6 zone (`fe80::1%eth0`), which only matters on the local link anyway. */
function bareHost(host: string): string {
  const unbracketed = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const zone = unbracketed.indexOf('%');
  return (zone === -1 ? unbracketed : unbracketed.slice(0, zone)).toLowerCase();
}

type Prefix = readonly [bytes: readonly number[], bits: number];

/** IANA IPv4 Special-Purpose Address Registry entries that are not globally reachable, plus multicast and class E. */
const FORBIDDEN_IPV4: readonly Prefix[] = [
  [[0], 8], // "this network", incl. 0.0.0.0
  [[10], 8], // private (RFC 1918)
  [[100, 64], 10], // shared address space / CGNAT (RFC 6598)
  [[127], 8], // loopback
  [[169, 254], 16], // link-local, incl. cloud metadata 169.254.169.254
  [[172, 16], 12], // private (RFC 1918)
  [[192, 0, 0], 24], // IETF protocol assignments
  [[192, 0, 2], 24], // TEST-NET-1
  [[192, 88, 99], 24], // 6to4 relay anycast (deprecated)
  [[192, 168], 16], // private (RFC 1918)
  [[198, 18], 15], // benchmarking
  [[198, 51, 100], 24], // TEST-NET-2
  [[203, 0, 113], 24], // TEST-NET-3
  [[224], 4], // multicast
  [[240], 4], // reserved, incl. broadcast 255.255.255.255
];

/**
 * Forbidden ranges inside 2000::/3 (global unicast). Everything outside 2000::/3 is refused wholesale (::, ::1,
 * IPv4-compatible ::/96, 100::/64 discard, 64:ff9b:1::/48 local NAT64, fc00::/7 ULA, fe80::/10 link-local,
 * fec0::/10 site-local, ff00::/8 multicast, 5f00::/16 SRv6, unallocated space), except the IPv4-embedding forms
 * handled before this table is consulted.
 */
const FORBIDDEN_IPV6_GLOBAL: readonly Prefix[] = [
  [[0x20, 0x01, 0x00], 23], // IETF protocol assignments: Teredo, benchmarking, ORCHID
  [[0x20, 0x01, 0x0d, 0xb8], 32], // documentation
  [[0x3f, 0xff, 0x00], 20], // documentation (RFC 9637)
];

function isForbiddenIPv4(bytes: readonly number[]): boolean {
  return FORBIDDEN_IPV4.some((prefix) => matches(bytes, prefix));
}

function isForbiddenIPv6(bytes: readonly number[]): boolean {
  // Forms that carry an IPv4 address the packet ends up at: judge the embedded address.
  if (matches(bytes, [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff], 96])) return isForbiddenIPv4(bytes.slice(12)); // mapped
  if (matches(bytes, [[0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0], 96])) return isForbiddenIPv4(bytes.slice(12)); // SIIT
  if (matches(bytes, [[0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0], 96])) return isForbiddenIPv4(bytes.slice(12)); // NAT64
  if (matches(bytes, [[0x20, 0x02], 16])) return isForbiddenIPv4(bytes.slice(2, 6)); // 6to4
  if (!matches(bytes, [[0x20], 3])) return true;
  return FORBIDDEN_IPV6_GLOBAL.some((prefix) => matches(bytes, prefix));
}

function matches(bytes: readonly number[], [prefix, bits]: Prefix): boolean {
  for (let i = 0; i * 8 < bits; i++) {
    const take = Math.min(8, bits - i * 8);
    const mask = (0xff << (8 - take)) & 0xff;
    if (((bytes[i] ?? 0) & mask) !== ((prefix[i] ?? 0) & mask)) return false;
  }
  return true;
}

/** Dotted-quad only: callers validate with `isIPv4`, which accepts nothing else. */
function parseIPv4(address: string): number[] | null {
  const parts = address.split('.').map((part) => Number.parseInt(part, 10));
  return parts.length === 4 && parts.every((n) => n >= 0 && n <= 255) ? parts : null;
}

/** 16 bytes from any valid IPv6 spelling, including `::` compression and a trailing dotted IPv4 part. */
function parseIPv6(address: string): number[] | null {
  let text = address;
  const groups: number[] = [];
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const v4 = parseIPv4(tail);
    if (v4 === null) return null;
    // Rewrite the dotted tail as two hex groups so one code path handles both spellings.
    text = `${text.slice(0, lastColon + 1)}${(((v4[0] ?? 0) << 8) | (v4[1] ?? 0)).toString(16)}:${(((v4[2] ?? 0) << 8) | (v4[3] ?? 0)).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const toGroups = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => Number.parseInt(g, 16)));
  const head = toGroups(halves[0] ?? '');
  const rest = halves.length === 2 ? toGroups(halves[1] ?? '') : [];
  const missing = 8 - head.length - rest.length;
  if (halves.length === 2 ? missing < 0 : missing !== 0) return null;
  groups.push(...head, ...new Array<number>(missing).fill(0), ...rest);
  if (groups.some((g) => !Number.isInteger(g) || g < 0 || g > 0xffff)) return null;
  return groups.flatMap((g) => [g >> 8, g & 0xff]);
}
