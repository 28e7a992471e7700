/**
 * Short-lived caches of the lookups made on every request: the API key behind a bearer token, and the catalogue entry
 * (schema) of a published event type. At thousands of requests a second these lookups cost more than the write they
 * guard. An entry lives `ttlMs`; a change made through this process drops the cache at once, and another process sees
 * it within `ttlMs` (one second by default) — so a revoked key stops working at once where it was revoked and within a
 * second everywhere else.
 */
import type { Selectable } from 'kysely';
import type { ApiKeysTable, EventTypesTable } from '../db/schema.js';

export class LookupCache<V> {
  private readonly entries = new Map<string, { value: V; expiresAt: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number,
    /** A bound on memory: random tokens or type names must not grow the cache without limit. */
    private readonly maxEntries = 10_000,
  ) {}

  get(key: string): V | undefined {
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    if (e.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return e.value;
  }

  set(key: string, value: V): void {
    if (this.ttlMs <= 0) return;
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    this.entries.set(key, { value, expiresAt: this.now() + this.ttlMs });
  }

  /** After a change: every entry goes, as a change is rare and an entry is cheap to look up again. */
  clear(): void {
    this.entries.clear();
  }
}

export interface LookupCaches {
  /**
   * Active tenant keys by the presented token (held only in this process's memory, like the request that carried it);
   * unknown tokens are not cached, so a key created in another process works at once.
   */
  apiKeys: LookupCache<Selectable<ApiKeysTable>>;
  /** Catalogue entries by tenant and name; `null` (no entry) is cached too, being the common case. */
  eventTypes: LookupCache<Selectable<EventTypesTable> | null>;
}

export const LOOKUP_CACHE_TTL_MS = 1000;

export function createLookupCaches(now: () => number, ttlMs = LOOKUP_CACHE_TTL_MS): LookupCaches {
  return { apiKeys: new LookupCache(ttlMs, now), eventTypes: new LookupCache(ttlMs, now) };
}
