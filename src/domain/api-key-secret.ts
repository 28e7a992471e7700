/**
 * API key values. A key is shown once and stored only as a SHA-256 hash: keys carry 190+ bits of randomness, so a
 * fast hash is enough (a slow KDF protects low-entropy passwords, not random tokens) and lookups stay one index probe.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Mode } from './principal.js';

export function generateApiKey(mode: Mode | 'root'): string {
  return `hl_${mode}_${randomBytes(24).toString('base64url')}`;
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** The first characters, kept in clear so people can tell their keys apart in lists. */
export function apiKeyPrefix(key: string): string {
  return key.slice(0, 12);
}

export function hashesEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a, 'hex');
  const bb = Buffer.from(b, 'hex');
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}
