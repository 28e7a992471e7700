/**
 * Request signing per Standard Webhooks (https://www.standardwebhooks.com/, spec `standard-webhooks.md`,
 * "Signature scheme"): the signed content is `${webhook-id}.${webhook-timestamp}.${body}`, signed with HMAC-SHA256
 * under the secret's base64-decoded bytes, and sent as `v1,<base64 signature>`. Several signatures are separated by a
 * single space, which is how secret rotation works: while the old secret is in its grace period we sign with both,
 * and a receiver accepts the request if any `v1` signature verifies with the secret it holds.
 */
import { createHmac, randomBytes } from 'node:crypto';

export const WEBHOOK_SECRET_PREFIX = 'whsec_';

/** The spec asks for secrets of 24 to 64 bytes; we generate 32 (256 bits, matching the SHA-256 output). */
const MIN_SECRET_BYTES = 24;
const MAX_SECRET_BYTES = 64;
const GENERATED_SECRET_BYTES = 32;

/** Standard (not url-safe) base64 with canonical padding, as the spec and the reference libraries use. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function generateWebhookSecret(): string {
  return `${WEBHOOK_SECRET_PREFIX}${randomBytes(GENERATED_SECRET_BYTES).toString('base64')}`;
}

/** The key bytes of a secret, or null when it is not `whsec_` + strict base64 of 24..64 bytes. */
function decodeSecret(secret: string): Buffer | null {
  if (!secret.startsWith(WEBHOOK_SECRET_PREFIX)) return null;
  const encoded = secret.slice(WEBHOOK_SECRET_PREFIX.length);
  // Buffer.from(…, 'base64') silently skips invalid characters, so check the alphabet first.
  if (encoded.length === 0 || !BASE64.test(encoded)) return null;
  const key = Buffer.from(encoded, 'base64');
  return key.length >= MIN_SECRET_BYTES && key.length <= MAX_SECRET_BYTES ? key : null;
}

/**
 * Decoded signing keys by secret: checking and decoding a secret cost as much as hashing a 1 KB body, and a worker
 * signs with the same few secrets over and over. (Buffers, not `KeyObject`s: HMAC is no faster with a KeyObject, and
 * creating one costs more than decoding.) Bounded: cleared when it grows past `MAX_CACHED_KEYS`; a rotated secret's
 * entry ages out with the rest.
 */
const keys = new Map<string, Buffer>();
const MAX_CACHED_KEYS = 10_000;

function signingKey(secret: string): Buffer {
  let key = keys.get(secret);
  if (key === undefined) {
    const bytes = decodeSecret(secret);
    if (bytes === null) throw new Error('signPayload was given an invalid webhook secret');
    key = bytes;
    if (keys.size >= MAX_CACHED_KEYS) keys.clear();
    keys.set(secret, key);
  }
  return key;
}

export function isValidWebhookSecret(s: string): boolean {
  return decodeSecret(s) !== null;
}

/**
 * The `webhook-signature` header value: one `v1,<sig>` per secret, space separated, in the order given
 * (duplicates dropped). Throws on an invalid secret or timestamp: signing with a malformed key would send requests no
 * receiver can verify, which is a bug to surface, not a delivery failure to retry.
 */
export function signPayload(secrets: string[], msgId: string, timestampSec: number, body: string): string {
  if (secrets.length === 0) throw new Error('signPayload needs at least one secret');
  if (!Number.isSafeInteger(timestampSec) || timestampSec < 0) {
    throw new Error('signPayload timestamp must be whole seconds since the Unix epoch');
  }
  // The signed content `${msgId}.${timestampSec}.${body}` is fed in two parts, so the body is not copied into a new
  // string first.
  const prefix = `${msgId}.${timestampSec}.`;
  const signatures: string[] = [];
  for (const secret of new Set(secrets)) {
    const hmac = createHmac('sha256', signingKey(secret)).update(prefix, 'utf8').update(body, 'utf8');
    signatures.push(`v1,${hmac.digest('base64')}`);
  }
  return signatures.join(' ');
}
