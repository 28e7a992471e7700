/** Load shapes: a closed loop (N clients, each sending as soon as its answer came) and an open loop at a fixed rate. */
import { Pool } from 'undici';
import { nowMs, sleep } from './clock.js';

export interface ClosedLoopResult {
  /** Successful requests completed inside the measured window. */
  ok: number;
  /** Failed requests over the whole run, warm-up included. */
  errors: number;
  firstError: string | null;
  measuredMs: number;
  perSecond: number;
  /** What `cpuMs` read at the end of the measured window minus at its start (null without `cpuMs`). */
  cpuMsInWindow: number | null;
}

/**
 * `concurrency` clients call `fire` back to back for `warmupMs + durationMs`; only completions in the last
 * `durationMs` count. `fire` resolves true for a success.
 */
export async function closedLoop(o: {
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  fire: () => Promise<boolean>;
  /** A CPU clock of the server under load (e.g. its main thread's), read when the measured window opens and closes. */
  cpuMs?: () => number | null;
}): Promise<ClosedLoopResult> {
  const start = nowMs();
  const measureFrom = start + o.warmupMs;
  const end = measureFrom + o.durationMs;
  let cpuAtStart: number | null = null;
  let cpuAtEnd: number | null = null;
  const readCpu = o.cpuMs;
  const timers =
    readCpu === undefined
      ? []
      : [
          setTimeout(() => {
            cpuAtStart = readCpu();
          }, o.warmupMs),
          setTimeout(() => {
            cpuAtEnd = readCpu();
          }, o.warmupMs + o.durationMs),
        ];
  let ok = 0;
  let errors = 0;
  let firstError: string | null = null;
  const lane = async () => {
    while (nowMs() < end) {
      let success = false;
      try {
        success = await o.fire();
      } catch (err) {
        firstError ??= String(err);
      }
      const at = nowMs();
      // Failures count whenever they happen; successes only inside the measured window.
      if (!success) errors++;
      else if (at >= measureFrom && at <= end) ok++;
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, lane));
  for (const t of timers) clearTimeout(t);
  // The last answers can beat a late timer: the window then closes here.
  if (readCpu !== undefined && cpuAtStart !== null && cpuAtEnd === null) cpuAtEnd = readCpu();
  const cpuMsInWindow = cpuAtStart !== null && cpuAtEnd !== null ? cpuAtEnd - cpuAtStart : null;
  return { ok, errors, firstError, measuredMs: o.durationMs, perSecond: (ok * 1000) / o.durationMs, cpuMsInWindow };
}

/** `concurrency` clients POSTing `body` to `origin + path` through one undici Pool (own connection each); 2xx = success. */
export async function postLoop(o: {
  origin: string;
  path: string;
  body: string | ((i: number) => string);
  headers: Record<string, string> | ((i: number) => Record<string, string>);
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  cpuMs?: () => number | null;
}): Promise<ClosedLoopResult> {
  const pool = new Pool(o.origin, { connections: o.concurrency, pipelining: 1 });
  let i = 0;
  try {
    return await closedLoop({
      concurrency: o.concurrency,
      warmupMs: o.warmupMs,
      durationMs: o.durationMs,
      ...(o.cpuMs === undefined ? {} : { cpuMs: o.cpuMs }),
      fire: async () => {
        const n = i++;
        const res = await pool.request({
          method: 'POST',
          path: o.path,
          headers: typeof o.headers === 'function' ? o.headers(n) : o.headers,
          body: typeof o.body === 'function' ? o.body(n) : o.body,
        });
        if (res.statusCode >= 200 && res.statusCode < 300) {
          await res.body.dump();
          return true;
        }
        throw new Error(`HTTP ${res.statusCode}: ${(await res.body.text()).slice(0, 200)}`);
      },
    });
  } finally {
    await pool.destroy();
  }
}

export interface FixedRateResult {
  sent: number;
  errors: number;
  firstError: string | null;
  /** Achieved send rate (the schedule is kept unless the harness itself falls behind). */
  perSecond: number;
}

/**
 * An open loop: send number `i` goes out at `i / ratePerSecond` seconds whatever the earlier answers did, for
 * `durationMs`. `fire` resolves when its request was answered (and throws on a failure); it times its own answers.
 */
export async function fixedRate(o: {
  ratePerSecond: number;
  durationMs: number;
  fire: (i: number) => Promise<void>;
}): Promise<FixedRateResult> {
  const total = Math.round((o.ratePerSecond * o.durationMs) / 1000);
  const inFlight = new Set<Promise<void>>();
  let errors = 0;
  let firstError: string | null = null;
  let sent = 0;
  const start = nowMs();
  while (sent < total) {
    const due = Math.min(total, Math.floor(((nowMs() - start) * o.ratePerSecond) / 1000) + 1);
    while (sent < due) {
      const p = o
        .fire(sent++)
        .catch((err: unknown) => {
          errors++;
          firstError ??= String(err);
        })
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    await sleep(1);
  }
  const sendingMs = nowMs() - start;
  await Promise.all([...inFlight]);
  return {
    sent,
    errors,
    firstError,
    perSecond: (sent * 1000) / Math.max(sendingMs, 1),
  };
}
