import { describe, expect, it } from 'vitest';
import { type AttemptOutcome, classifyOutcome, coerceError } from '../../src/domain/outcome.js';

const response = (status: number, retryAfterMs: number | null = null): AttemptOutcome => ({
  kind: 'response',
  status,
  retryAfterMs,
});

describe('classifyOutcome', () => {
  it('treats every 2xx as success, not counted as a failure', () => {
    for (const status of [200, 201, 202, 204, 299]) {
      expect(classifyOutcome(response(status))).toMatchObject({ result: 'success', countsAsFailure: false });
    }
  });

  it('treats 410 as gone', () => {
    expect(classifyOutcome(response(410))).toMatchObject({ result: 'gone', countsAsFailure: true });
  });

  it('retries 429 and 503 and passes their Retry-After on', () => {
    expect(classifyOutcome(response(429, 30_000))).toMatchObject({ result: 'retry', retryAfterMs: 30_000 });
    expect(classifyOutcome(response(503, 5_000))).toMatchObject({
      result: 'retry',
      retryAfterMs: 5_000,
      countsAsFailure: true,
    });
    expect(classifyOutcome(response(503)).retryAfterMs).toBeNull();
  });

  it('does not count a 429 against the endpoint: it is back-pressure from a live receiver', () => {
    expect(classifyOutcome(response(429, 1_000)).countsAsFailure).toBe(false);
  });

  it('retries other 5xx, 4xx and 3xx, without Retry-After', () => {
    for (const status of [500, 502, 504, 400, 401, 404, 413, 301, 302, 307]) {
      const c = classifyOutcome(response(status, 9_000));
      expect(c).toMatchObject({ result: 'retry', countsAsFailure: true, retryAfterMs: null });
      expect(c.reason).toContain(String(status));
    }
  });

  it('retries timeouts and connection errors', () => {
    for (const kind of ['timeout', 'connection_error'] as const) {
      expect(classifyOutcome({ kind, status: null, retryAfterMs: null })).toMatchObject({
        result: 'retry',
        countsAsFailure: true,
      });
    }
  });

  it('fails finally on targets we refuse ourselves', () => {
    for (const kind of ['ssrf_blocked', 'invalid_target'] as const) {
      expect(classifyOutcome({ kind, status: null, retryAfterMs: null }).result).toBe('final_failure');
    }
  });

  it('retries a response without a usable status rather than calling it success', () => {
    expect(classifyOutcome({ kind: 'response', status: null, retryAfterMs: null }).result).toBe('retry');
    expect(classifyOutcome(response(999)).result).toBe('retry');
  });

  it('always gives a reason', () => {
    expect(classifyOutcome(response(500)).reason.length).toBeGreaterThan(0);
    expect(classifyOutcome({ kind: 'ssrf_blocked', status: null, retryAfterMs: null }).reason.length).toBeGreaterThan(
      0,
    );
  });
});

describe('coerceError', () => {
  it('keeps the message and code of an Error', () => {
    const e = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:443'), { code: 'ECONNREFUSED' });
    expect(coerceError(e)).toEqual({ message: 'connect ECONNREFUSED 127.0.0.1:443', code: 'ECONNREFUSED' });
  });

  it('digs the cause out of a fetch failure', () => {
    const cause = Object.assign(new Error('getaddrinfo ENOTFOUND nowhere.invalid'), { code: 'ENOTFOUND' });
    const e = new TypeError('fetch failed', { cause });
    expect(coerceError(e)).toEqual({
      message: 'fetch failed: getaddrinfo ENOTFOUND nowhere.invalid',
      code: 'ENOTFOUND',
    });
  });

  it('finds the code inside an AggregateError with an empty message', () => {
    const inner = Object.assign(new Error('connect ECONNREFUSED ::1:443'), { code: 'ECONNREFUSED' });
    const c = coerceError(new AggregateError([inner], ''));
    expect(c.code).toBe('ECONNREFUSED');
    expect(c.message).toContain('ECONNREFUSED');
  });

  it('handles strings, plain objects, null, undefined and odd values without throwing', () => {
    expect(coerceError('boom')).toEqual({ message: 'boom' });
    expect(coerceError({ message: 'from an object', code: 'E_X' })).toEqual({ message: 'from an object', code: 'E_X' });
    expect(coerceError({ status: 500 }).message).toBe('{"status":500}');
    expect(coerceError(null).message).toBe('Unknown error');
    expect(coerceError(undefined).message).toBe('Unknown error');
    expect(coerceError(42).message).toBe('42');
    expect(coerceError(Symbol('s')).message).toBe('Symbol(s)');
    expect(coerceError(10n).message).toBe('10');
    expect(coerceError(new Error('')).message).toBe('Error');
    expect(coerceError(new DOMException('aborted', 'AbortError'))).toEqual({ message: 'aborted' });
  });

  it('survives hostile values: throwing getters, cycles, unserialisable objects', () => {
    const hostile = {
      get message(): string {
        throw new Error('no');
      },
    };
    expect(() => coerceError(hostile)).not.toThrow();

    const a: { message: string; cause?: unknown } = { message: 'a' };
    a.cause = a;
    expect(coerceError(a).message).toBe('a');

    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(typeof coerceError(cyclic).message).toBe('string');
  });

  it('bounds the message length', () => {
    expect(coerceError('x'.repeat(100_000)).message.length).toBeLessThanOrEqual(1000);
  });
});
