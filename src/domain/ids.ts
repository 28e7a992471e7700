/**
 * Prefixed, time-sortable identifiers (`wh_01J…`).
 *
 * The body is a ULID-style string: 48 bits of milliseconds then 80 random bits, in Crockford base32, so ids sort by
 * creation time as plain strings. That is what lets every list page by id alone (`WHERE id < cursor`). A brand on the
 * type keeps a delivery id from being passed where a webhook id belongs (Svix `create_id_type!`).
 */
import { randomBytes } from 'node:crypto';

export const ID_PREFIXES = {
  tenant: 'ten',
  apiKey: 'key',
  account: 'acc',
  webhook: 'wh',
  webhookVersion: 'whv',
  event: 'evt',
  delivery: 'dlv',
  attempt: 'att',
} as const;

export type IdKind = keyof typeof ID_PREFIXES;
export type Id<K extends IdKind> = string & { readonly __id: K };

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * Random bytes are drawn from the system generator 4 KB at a time: a `randomBytes` call per id cost more than the
 * rest of making the id (measured in the publish path), and the bytes are the same either way.
 */
const POOL_BYTES = 4096;
const RANDOM_BYTES = 10;
let pool = Buffer.alloc(0);
let poolAt = 0;

function freshRandom(): Uint8Array {
  if (poolAt + RANDOM_BYTES > pool.length) {
    pool = randomBytes(POOL_BYTES);
    poolAt = 0;
  }
  poolAt += RANDOM_BYTES;
  // A view, not a copy: the generator copies before it increments (below), so the pool is never written to.
  return pool.subarray(poolAt - RANDOM_BYTES, poolAt);
}

let lastMs = 0;
let lastRandom: Uint8Array = new Uint8Array(RANDOM_BYTES);

/** 48 bits of milliseconds as 10 Crockford base32 characters: the part of an id that sorts by time. */
function timePart(ms: number): string {
  let out = '';
  let t = ms;
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[t % 32] + out;
    t = Math.floor(t / 32);
  }
  return out;
}

/** Monotonic within one process: ids made in the same millisecond still sort in creation order. */
function ulidBody(nowMs: number): string {
  let random: Uint8Array;
  if (nowMs <= lastMs) {
    nowMs = lastMs;
    random = Uint8Array.from(lastRandom);
    for (let i = random.length - 1; i >= 0; i--) {
      const byte = random[i] ?? 0;
      if (byte < 255) {
        random[i] = byte + 1;
        break;
      }
      random[i] = 0;
    }
  } else {
    random = freshRandom();
  }
  lastMs = nowMs;
  lastRandom = random;

  let out = timePart(nowMs);
  // 80 random bits -> 16 base32 characters, 5 bits at a time.
  let bits = 0;
  let value = 0;
  for (const byte of random) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}

export function newId<K extends IdKind>(kind: K, nowMs: number = Date.now()): Id<K> {
  return `${ID_PREFIXES[kind]}_${ulidBody(nowMs)}` as Id<K>;
}

/**
 * The least id of this kind made at `ms` or later: every id made before `ms` sorts below it, every id made from `ms`
 * on sorts at or above it. Lets "older than" be an id range (the primary key) instead of an index on a timestamp.
 */
export function firstIdAt<K extends IdKind>(kind: K, ms: number): Id<K> {
  return `${ID_PREFIXES[kind]}_${timePart(Math.max(0, Math.floor(ms)))}${'0'.repeat(16)}` as Id<K>;
}

const ID_PATTERN = /^[a-z]{2,4}_[0-9A-HJKMNP-TV-Z]{26}$/;

/** True when `value` looks like an id of this kind; used to answer 404 early for malformed ids. */
export function isId<K extends IdKind>(kind: K, value: string): value is Id<K> {
  return value.startsWith(`${ID_PREFIXES[kind]}_`) && ID_PATTERN.test(value);
}
