import { createHmac } from 'node:crypto';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { generateWebhookSecret, isValidWebhookSecret, signPayload } from '../../src/domain/signing.js';

const nowSec = (): number => Math.floor(Date.now() / 1000);
/** The three Standard Webhooks headers as a request carries them (the sender adds the signature to the other two). */
const signedHeaders = (secrets: string[], msgId: string, ts: number, text: string) => ({
  'webhook-id': msgId,
  'webhook-timestamp': String(ts),
  'webhook-signature': signPayload(secrets, msgId, ts, text),
});
const body = JSON.stringify({ type: 'order.created', data: { id: 'ord_1', total: 12.5, note: 'crème brûlée ✓' } });

describe('generateWebhookSecret', () => {
  it('produces valid, distinct whsec_ secrets of 32 bytes', () => {
    const a = generateWebhookSecret();
    const b = generateWebhookSecret();
    expect(a).not.toBe(b);
    for (const s of [a, b]) {
      expect(s.startsWith('whsec_')).toBe(true);
      expect(isValidWebhookSecret(s)).toBe(true);
      expect(Buffer.from(s.slice('whsec_'.length), 'base64')).toHaveLength(32);
    }
  });
});

describe('isValidWebhookSecret', () => {
  const b64 = (n: number): string => Buffer.alloc(n, 7).toString('base64');

  it('accepts 24 to 64 bytes of base64 behind the prefix', () => {
    expect(isValidWebhookSecret(`whsec_${b64(24)}`)).toBe(true);
    expect(isValidWebhookSecret(`whsec_${b64(64)}`)).toBe(true);
  });

  it('rejects wrong sizes, a missing prefix and non-base64 text', () => {
    expect(isValidWebhookSecret(`whsec_${b64(23)}`)).toBe(false);
    expect(isValidWebhookSecret(`whsec_${b64(65)}`)).toBe(false);
    expect(isValidWebhookSecret(b64(32))).toBe(false);
    expect(isValidWebhookSecret('whsec_')).toBe(false);
    expect(isValidWebhookSecret('')).toBe(false);
    expect(isValidWebhookSecret(`whsec_${b64(32).slice(0, -1)}!`)).toBe(false);
    expect(isValidWebhookSecret(`whsec_${Buffer.alloc(32, 255).toString('base64url')}`)).toBe(false);
  });
});

describe('signPayload', () => {
  it('computes v1,<base64 HMAC-SHA256> over id.timestamp.body with the decoded key', () => {
    const secret = generateWebhookSecret();
    const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
    const expected = createHmac('sha256', key).update(`msg_1.1700000000.${body}`).digest('base64');
    expect(signPayload([secret], 'msg_1', 1_700_000_000, body)).toBe(`v1,${expected}`);
  });

  it('signs the UTF-8 bytes of a body with characters outside ASCII', () => {
    const secret = generateWebhookSecret();
    const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
    const text = JSON.stringify({ name: 'Zoë — 東京 🚀' });
    const expected = createHmac('sha256', key)
      .update(Buffer.from(`msg_1.1700000000.${text}`, 'utf8'))
      .digest('base64');
    expect(signPayload([secret], 'msg_1', 1_700_000_000, text)).toBe(`v1,${expected}`);
  });

  it('emits one space-separated signature per distinct secret, in order', () => {
    const [a, b] = [generateWebhookSecret(), generateWebhookSecret()];
    const both = signPayload([a, b, a], 'msg_1', 1_700_000_000, body).split(' ');
    expect(both).toEqual([
      signPayload([a], 'msg_1', 1_700_000_000, body),
      signPayload([b], 'msg_1', 1_700_000_000, body),
    ]);
  });

  it('changes when any signed part changes', () => {
    const s = generateWebhookSecret();
    const base = signPayload([s], 'msg_1', 1_700_000_000, body);
    expect(signPayload([s], 'msg_2', 1_700_000_000, body)).not.toBe(base);
    expect(signPayload([s], 'msg_1', 1_700_000_001, body)).not.toBe(base);
    expect(signPayload([s], 'msg_1', 1_700_000_000, `${body} `)).not.toBe(base);
  });

  it('refuses invalid input instead of sending unverifiable requests', () => {
    const s = generateWebhookSecret();
    expect(() => signPayload([], 'msg_1', 1, body)).toThrow();
    expect(() => signPayload(['whsec_short'], 'msg_1', 1, body)).toThrow();
    expect(() => signPayload([s], 'msg_1', 1.5, body)).toThrow();
    expect(() => signPayload([s], 'msg_1', -1, body)).toThrow();
  });
});

describe('signatures, checked with the standardwebhooks package', () => {
  it('verifies with the receiver-side library', () => {
    const secret = generateWebhookSecret();
    const headers = signedHeaders([secret], 'dlv_01ABC', nowSec(), body);
    expect(headers['webhook-id']).toBe('dlv_01ABC');
    expect(headers['webhook-timestamp']).toMatch(/^\d+$/);
    expect(new Webhook(secret).verify(body, { ...headers })).toEqual(JSON.parse(body));
  });

  it('verifies with either secret during a rotation, and not with a stranger', () => {
    const oldSecret = generateWebhookSecret();
    const newSecret = generateWebhookSecret();
    const headers = signedHeaders([newSecret, oldSecret], 'dlv_rot', nowSec(), body);
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(new Webhook(oldSecret).verify(body, { ...headers })).toEqual(JSON.parse(body));
    expect(new Webhook(newSecret).verify(body, { ...headers })).toEqual(JSON.parse(body));
    expect(() => new Webhook(generateWebhookSecret()).verify(body, { ...headers })).toThrow(WebhookVerificationError);
  });

  it('fails verification when the body is tampered with', () => {
    const secret = generateWebhookSecret();
    const headers = signedHeaders([secret], 'dlv_t', nowSec(), body);
    expect(() => new Webhook(secret).verify(body.replace('12.5', '1250'), { ...headers })).toThrow(
      WebhookVerificationError,
    );
  });

  it('agrees with the library signer byte for byte', () => {
    const secret = generateWebhookSecret();
    const ts = 1_700_000_000;
    expect(signPayload([secret], 'msg_x', ts, body)).toBe(new Webhook(secret).sign('msg_x', new Date(ts * 1000), body));
  });
});
