import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_SCHEDULE_SECONDS, nextRetryDelayMs, parseRetryAfter } from '../../src/domain/retry-schedule.js';

const HOUR = 3_600_000;
const noJitter = { jitterRatio: 0, maxRetryAfterMs: HOUR } as const;

describe('DEFAULT_RETRY_SCHEDULE_SECONDS', () => {
  it('is immediate, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h', () => {
    expect(DEFAULT_RETRY_SCHEDULE_SECONDS).toEqual([0, 5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600]);
  });
});

describe('nextRetryDelayMs', () => {
  const schedule = DEFAULT_RETRY_SCHEDULE_SECONDS;

  it('walks the schedule: attemptsMade k gives the wait before attempt k + 1', () => {
    const delays = schedule.map((_, k) => nextRetryDelayMs({ ...noJitter, schedule, attemptsMade: k }));
    expect(delays).toEqual(schedule.map((s) => s * 1000));
  });

  it('returns null once every scheduled attempt has been made', () => {
    expect(nextRetryDelayMs({ ...noJitter, schedule, attemptsMade: schedule.length })).toBeNull();
    expect(nextRetryDelayMs({ ...noJitter, schedule, attemptsMade: schedule.length + 3 })).toBeNull();
    expect(nextRetryDelayMs({ ...noJitter, schedule: [], attemptsMade: 0 })).toBeNull();
  });

  it('rejects a negative or fractional attempt count', () => {
    expect(() => nextRetryDelayMs({ ...noJitter, schedule, attemptsMade: -1 })).toThrow(RangeError);
    expect(() => nextRetryDelayMs({ ...noJitter, schedule, attemptsMade: 1.5 })).toThrow(RangeError);
    expect(() => nextRetryDelayMs({ schedule, attemptsMade: 1, maxRetryAfterMs: 0, jitterRatio: 2 })).toThrow(
      RangeError,
    );
  });

  it('applies jitter within ± the ratio, deterministically for an injected random', () => {
    const at = (r: number): number | null =>
      nextRetryDelayMs({ schedule: [0, 100], attemptsMade: 1, maxRetryAfterMs: 0, jitterRatio: 0.1, random: () => r });
    expect(at(0)).toBe(90_000);
    expect(at(0.5)).toBe(100_000);
    expect(at(0.999_999)).toBeLessThanOrEqual(110_000);
    expect(at(0.999_999)).toBeGreaterThan(109_000);
    expect(at(0.25)).toBe(at(0.25));
  });

  it('uses a default jitter of ±10% and stays within it for real randomness', () => {
    for (let i = 0; i < 200; i++) {
      const d = nextRetryDelayMs({ schedule: [0, 300], attemptsMade: 1, maxRetryAfterMs: 0 });
      expect(d).toBeGreaterThanOrEqual(270_000);
      expect(d).toBeLessThanOrEqual(330_000);
    }
    expect(nextRetryDelayMs({ schedule: [0, 300], attemptsMade: 1, maxRetryAfterMs: 0, random: () => 0 })).toBe(
      270_000,
    );
  });

  it('keeps an immediate attempt immediate', () => {
    expect(nextRetryDelayMs({ schedule, attemptsMade: 0, maxRetryAfterMs: HOUR, random: () => 0.99 })).toBe(0);
  });

  it('honours a Retry-After longer than the scheduled delay, never jittered', () => {
    const d = nextRetryDelayMs({
      schedule: [0, 5],
      attemptsMade: 1,
      retryAfterMs: 60_000,
      maxRetryAfterMs: HOUR,
      random: () => 0,
    });
    expect(d).toBe(60_000);
  });

  it('caps Retry-After at maxRetryAfterMs', () => {
    const d = nextRetryDelayMs({ ...noJitter, schedule: [0, 5], attemptsMade: 1, retryAfterMs: 10 * HOUR });
    expect(d).toBe(HOUR);
  });

  it('ignores a Retry-After shorter than the schedule, and a cap never shortens the schedule', () => {
    expect(nextRetryDelayMs({ ...noJitter, schedule: [0, 300], attemptsMade: 1, retryAfterMs: 1_000 })).toBe(300_000);
    expect(
      nextRetryDelayMs({
        schedule: [0, 300],
        attemptsMade: 1,
        retryAfterMs: HOUR,
        maxRetryAfterMs: 1_000,
        jitterRatio: 0,
      }),
    ).toBe(300_000);
  });

  it('does not extend a used-up schedule because of Retry-After', () => {
    expect(nextRetryDelayMs({ ...noJitter, schedule: [0], attemptsMade: 1, retryAfterMs: 1_000 })).toBeNull();
  });
});

describe('parseRetryAfter (RFC 9110 §10.2.3)', () => {
  const now = Date.UTC(2024, 10, 6, 8, 49, 37);

  it('reads delay-seconds', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
  });

  it('reads an IMF-fixdate relative to now', () => {
    expect(parseRetryAfter('Wed, 06 Nov 2024 08:50:37 GMT', now)).toBe(60_000);
  });

  it('reads the obsolete RFC 850 and asctime forms as GMT', () => {
    expect(parseRetryAfter('Wednesday, 06-Nov-24 08:51:37 GMT', now)).toBe(120_000);
    expect(parseRetryAfter('Wed Nov  6 08:52:37 2024', now)).toBe(180_000);
  });

  it('reads a two-digit year more than 50 years ahead as the past century', () => {
    // '94' from 2024 is 1994 (in the past, so no wait), while '30' is 2030.
    expect(parseRetryAfter('Sunday, 06-Nov-94 08:49:37 GMT', now)).toBe(0);
    expect(parseRetryAfter('Wednesday, 06-Nov-30 08:49:37 GMT', now)).toBe(Date.UTC(2030, 10, 6, 8, 49, 37) - now);
  });

  it('treats a date in the past as no wait', () => {
    expect(parseRetryAfter('Tue, 05 Nov 2024 08:49:37 GMT', now)).toBe(0);
  });

  it('returns null for absent or unparseable values', () => {
    for (const v of [
      undefined,
      '',
      '  ',
      '-5',
      '1.5',
      '10s',
      'soon',
      'Wed, 31 Feb 2024 08:50:37 GMT',
      'Wed, 06 Nov 2024 25:00:00 GMT',
      'Wed, 06 Nov 2024 08:50:37 CET',
    ]) {
      expect(parseRetryAfter(v, now)).toBeNull();
    }
  });
});
