/**
 * Classify what happened to one attempt before acting on it (Outpost `deliverymq/messagehandler.go`, BullMQ
 * `UnrecoverableError`): the worker then only maps a class to actions, instead of re-deciding per call site.
 *
 * - success: a 2xx (RFC 9110 §15.3). Redirects are not followed, so a 3xx is not success.
 * - gone: 410 (RFC 9110 §15.5.11 "no longer available … likely permanent"): the receiver asks us to stop; the
 *   webhook is disabled.
 * - retry: anything the receiver may recover from: 429 / 503 (honouring `Retry-After`, RFC 9110 §10.2.3 and
 *   RFC 6585 §4), other 5xx, 3xx, 4xx (often a deploy in progress or a config fix away), timeouts, connection errors.
 * - final_failure: retrying cannot help because we refuse the target ourselves (SSRF guard, invalid URL).
 */

export type OutcomeKind = 'response' | 'timeout' | 'connection_error' | 'ssrf_blocked' | 'invalid_target';

export interface AttemptOutcome {
  kind: OutcomeKind;
  /** The HTTP status when `kind` is `response`, else null. */
  status: number | null;
  /** The parsed `Retry-After` of the response, if any (see `parseRetryAfter`). */
  retryAfterMs: number | null;
}

export type OutcomeResult = 'success' | 'retry' | 'final_failure' | 'gone';

export interface Classification {
  result: OutcomeResult;
  /**
   * Whether the attempt counts as a failure of the endpoint: towards the circuit breaker, `failuresSinceLastSuccess`
   * and auto-disable. A 429 does not: the receiver is up and asking us to slow down, and opening the circuit would
   * cut off a healthy receiver under load; `Retry-After` is the back-pressure instead.
   */
  countsAsFailure: boolean;
  /** The delay the receiver asked for, passed on only where it is honoured (429, 503). */
  retryAfterMs: number | null;
  /** Short human-readable cause, for the attempt log and the dashboard. */
  reason: string;
}

function retry(reason: string, retryAfterMs: number | null = null, countsAsFailure = true): Classification {
  return { result: 'retry', countsAsFailure, retryAfterMs, reason };
}

export function classifyOutcome(outcome: AttemptOutcome): Classification {
  switch (outcome.kind) {
    case 'timeout':
      return retry('timed out waiting for the response');
    case 'connection_error':
      return retry('could not connect or the connection failed');
    case 'ssrf_blocked':
      return {
        result: 'final_failure',
        countsAsFailure: true,
        retryAfterMs: null,
        reason: 'target address is not allowed (private, loopback or link-local)',
      };
    case 'invalid_target':
      return { result: 'final_failure', countsAsFailure: true, retryAfterMs: null, reason: 'target URL is not valid' };
    case 'response':
      return classifyStatus(outcome.status, outcome.retryAfterMs);
  }
}

function classifyStatus(status: number | null, retryAfterMs: number | null): Classification {
  if (status === null || !Number.isInteger(status) || status < 100 || status > 599) {
    return retry(`invalid HTTP status ${String(status)}`);
  }
  if (status >= 200 && status < 300) {
    return { result: 'success', countsAsFailure: false, retryAfterMs: null, reason: `HTTP ${status}` };
  }
  if (status === 410) {
    return { result: 'gone', countsAsFailure: true, retryAfterMs: null, reason: 'HTTP 410: endpoint is gone' };
  }
  const honoured = retryAfterMs !== null && retryAfterMs >= 0 ? retryAfterMs : null;
  if (status === 429) return retry('HTTP 429: rate limited by the receiver', honoured, false);
  if (status === 503) return retry('HTTP 503: receiver unavailable', honoured);
  if (status >= 300 && status < 400) return retry(`HTTP ${status}: redirects are not followed`);
  return retry(`HTTP ${status}`);
}

/** A thrown value reduced once to something loggable; `code` is a Node/undici error code such as `ECONNREFUSED`. */
export interface CoercedError {
  message: string;
  code?: string;
}

/** Attempt logs keep the message; an endpoint or library could otherwise put megabytes into it. */
const MAX_MESSAGE_LENGTH = 1000;
/** Bounds the walk down `cause` chains (which can be circular). */
const MAX_CAUSE_DEPTH = 5;

/**
 * Normalise any thrown value (graphile-worker `src/lib.ts` `coerceError`). undici's fetch throws
 * `TypeError('fetch failed')` with the useful part in `cause` (and Node's happy-eyeballs connect an AggregateError in
 * `errors`), so the messages of the cause chain are joined and the first error code found is kept.
 */
export function coerceError(e: unknown): CoercedError {
  const messages: string[] = [];
  let code: string | undefined;
  let current: unknown = e;
  const seen = new Set<unknown>();
  for (let depth = 0; depth < MAX_CAUSE_DEPTH && current !== undefined && !seen.has(current); depth++) {
    seen.add(current);
    const message = messageOf(current);
    if (message !== '' && !messages.includes(message)) messages.push(message);
    code ??= codeOf(current);
    current = nextCause(current);
  }
  const joined = messages.join(': ') || 'Unknown error';
  const message = joined.length > MAX_MESSAGE_LENGTH ? `${joined.slice(0, MAX_MESSAGE_LENGTH - 1)}…` : joined;
  return code === undefined ? { message } : { message, code };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

/** Reads a property without letting a throwing getter escape. */
function prop(v: unknown, key: string): unknown {
  if (!isRecord(v)) return undefined;
  try {
    return v[key];
  } catch {
    return undefined;
  }
}

function messageOf(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null) return '';
  const message = prop(v, 'message');
  if (typeof message === 'string' && message !== '') return message;
  if (v instanceof Error) return v.name;
  if (isRecord(v)) {
    try {
      return JSON.stringify(v) ?? '';
    } catch {
      return Object.prototype.toString.call(v);
    }
  }
  try {
    return String(v);
  } catch {
    return '';
  }
}

function codeOf(v: unknown): string | undefined {
  const code = prop(v, 'code');
  // Only string codes: DOMException's numeric legacy `code` (20 for AbortError) would mislead.
  if (typeof code === 'string' && code !== '') return code;
  const errors = prop(v, 'errors');
  if (Array.isArray(errors)) {
    for (const inner of errors) {
      const innerCode = prop(inner, 'code');
      if (typeof innerCode === 'string' && innerCode !== '') return innerCode;
    }
  }
  return undefined;
}

function nextCause(v: unknown): unknown {
  const cause = prop(v, 'cause');
  if (cause !== undefined) return cause;
  const errors = prop(v, 'errors');
  return Array.isArray(errors) && errors.length > 0 ? errors[0] : undefined;
}
