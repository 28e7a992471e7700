/**
 * The result of a call that exchanged nothing with the endpoint: refused before it was sent, or handed back unsent.
 * A module of its own so the main thread can build one without loading the HTTP sender (and undici).
 */
import type { SendResult } from './http-sender.js';

export function noExchange(outcome: 'connection_error' | 'not_sent', error: string | null): SendResult {
  const now = Date.now();
  return {
    outcome,
    status: null,
    reasonPhrase: null,
    headers: {},
    body: null,
    bodyTruncated: false,
    elapsedMs: 0,
    error,
    startedAt: now,
    finishedAt: now,
  };
}
