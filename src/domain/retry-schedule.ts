/**
 * When to try a delivery again.
 *
 * A schedule is a list of waits in seconds, one per attempt: `schedule[i]` is the wait before attempt `i + 1`,
 * counted from the end of the previous attempt. So `schedule[0]` is the wait before the first attempt (0: send at
 * once), and a schedule of length N allows N attempts in all; after the last one fails the delivery is failed.
 * Jitter spreads retries of many deliveries that failed together, so a recovering endpoint is not hit by a thundering
 * herd; `Retry-After` from the receiver is honoured within a cap, as Svix `worker.rs` `calculate_retry_delay` does.
 */

/** Immediate, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, then failed (DESIGN.md "Delivery semantics"). */
export const DEFAULT_RETRY_SCHEDULE_SECONDS: readonly number[] = Object.freeze([
  0, 5, 300, 1800, 7200, 18000, 36000, 36000,
]);

export const DEFAULT_JITTER_RATIO = 0.1;

export interface NextRetryInput {
  /** Waits in seconds, `schedule[i]` before attempt `i + 1`. */
  schedule: readonly number[];
  /**
   * How many attempts of this delivery have already been made, counting the one that just failed. 0 asks for the
   * delay before the first attempt; after attempt k failed, pass k to get the wait before attempt k + 1.
   */
  attemptsMade: number;
  /** The receiver's `Retry-After`, already parsed (see `parseRetryAfter`); null or absent when it sent none. */
  retryAfterMs?: number | null;
  /** Upper bound for `Retry-After`, so a receiver cannot park a delivery for days. */
  maxRetryAfterMs: number;
  /** Each scheduled delay varies by up to ± this fraction of itself; 0 turns jitter off. Default 0.1. */
  jitterRatio?: number;
  /** A source of numbers in [0, 1); inject one for deterministic tests. Default `Math.random`. */
  random?: () => number;
}

/**
 * The delay in ms before the next attempt, or null when the schedule is used up (the delivery has failed).
 * `Retry-After` only ever lengthens the wait: it applies when it is longer than the (jittered) scheduled delay, capped
 * at `maxRetryAfterMs`, and it is never jittered because it is the receiver's "not before".
 */
export function nextRetryDelayMs(input: NextRetryInput): number | null {
  const { schedule, attemptsMade, maxRetryAfterMs } = input;
  const jitterRatio = input.jitterRatio ?? DEFAULT_JITTER_RATIO;
  const random = input.random ?? Math.random;
  if (!Number.isInteger(attemptsMade) || attemptsMade < 0) {
    throw new RangeError(`attemptsMade must be a non-negative integer, got ${attemptsMade}`);
  }
  if (!(jitterRatio >= 0 && jitterRatio <= 1)) {
    throw new RangeError(`jitterRatio must be within [0, 1], got ${jitterRatio}`);
  }

  const scheduledSeconds = schedule[attemptsMade];
  if (scheduledSeconds === undefined) return null;

  const baseMs = Math.max(0, scheduledSeconds * 1000);
  // random() in [0, 1) maps to a factor in [1 - ratio, 1 + ratio).
  const jittered = Math.max(0, Math.round(baseMs * (1 + jitterRatio * (2 * random() - 1))));

  const retryAfterMs = input.retryAfterMs;
  if (retryAfterMs === null || retryAfterMs === undefined || !(retryAfterMs > 0)) return jittered;
  const honoured = Math.ceil(Math.min(retryAfterMs, Math.max(0, maxRetryAfterMs)));
  return Math.max(jittered, honoured);
}

/**
 * `Retry-After` (RFC 9110 §10.2.3) as a delay in ms from `nowMs`: either delay-seconds (a non-negative decimal
 * integer) or an HTTP-date (§5.6.7). A date in the past means 0. Null when absent or unparseable, in which case the
 * caller should just follow its schedule.
 */
export function parseRetryAfter(headerValue: string | undefined, nowMs: number): number | null {
  if (headerValue === undefined) return null;
  const value = headerValue.trim();
  if (value === '') return null;
  if (/^\d+$/.test(value)) {
    const ms = Number(value) * 1000;
    return Number.isFinite(ms) ? ms : null;
  }
  const dateMs = parseHttpDate(value, nowMs);
  return dateMs === null ? null : Math.max(0, dateMs - nowMs);
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

// RFC 9110 §5.6.7: senders use IMF-fixdate, recipients must also accept the obsolete RFC 850 and asctime forms.
// All three are GMT; Date.parse is not used because it reads the zone-less asctime form as local time.
const IMF_FIXDATE = /^[A-Z][a-z]{2}, (\d{2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
const RFC850_DATE = /^[A-Z][a-z]+, (\d{2})-([A-Z][a-z]{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
const ASCTIME_DATE = /^[A-Z][a-z]{2} ([A-Z][a-z]{2}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/;

function parseHttpDate(value: string, nowMs: number): number | null {
  let m = IMF_FIXDATE.exec(value);
  if (m) return utc(Number(m[3]), m[2], Number(m[1]), m[4], m[5], m[6]);
  m = RFC850_DATE.exec(value);
  if (m) return utc(fullYearFromTwoDigits(Number(m[3]), nowMs), m[2], Number(m[1]), m[4], m[5], m[6]);
  m = ASCTIME_DATE.exec(value);
  if (m) return utc(Number(m[6]), m[1], Number(m[2]?.trim()), m[3], m[4], m[5]);
  return null;
}

/** RFC 9110 §5.6.7: a two-digit year more than 50 years in the future is the most recent past year ending so. */
function fullYearFromTwoDigits(yy: number, nowMs: number): number {
  const nowYear = new Date(nowMs).getUTCFullYear();
  const year = nowYear - (nowYear % 100) + yy;
  return year > nowYear + 50 ? year - 100 : year;
}

/** Regex groups to epoch ms; null for impossible dates (Feb 30, 25:00) that Date.UTC would silently roll over. */
function utc(
  year: number,
  monthName: string | undefined,
  day: number,
  hour: string | undefined,
  minute: string | undefined,
  second: string | undefined,
): number | null {
  const month = MONTHS.indexOf(monthName ?? '');
  const [h, min, s] = [hour, minute, second].map(Number);
  if (month < 0 || h === undefined || min === undefined || s === undefined) return null;
  // HTTP allows a leap second (60); Date.UTC rolls it into the next minute, which is close enough for a delay.
  if (h > 23 || min > 59 || s > 60) return null;
  const ms = Date.UTC(year, month, day, h, min, s);
  const check = new Date(ms);
  if (Number.isNaN(ms) || check.getUTCMonth() !== month || check.getUTCDate() !== day) return null;
  return ms;
}
