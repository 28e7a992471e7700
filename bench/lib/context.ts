/** What every scenario gets, what it reports, and the steps scenarios share. */
import path from 'node:path';
import { nowMs, sleep } from './clock.js';
import { HooklineApi, publishBatch, setupTenant } from './hookline-api.js';
import { postLoop } from './load.js';
import type { Params } from './params.js';
import { benchEvent } from './payload.js';
import { type HooklineProcess, type Resources, type Role, startHookline } from './processes.js';
import type { ReceiverClient } from './receiver-client.js';
import type { GroupReport } from './receiver-protocol.js';

export type Unit = 'events/s' | 'deliveries/s' | 'requests/s' | 'ms' | 'µs' | 'MB' | '×';

/** One line of the results table. */
export interface Row {
  scenario: string;
  figure: string;
  value: number | null;
  unit: Unit;
  /** What `value` is compared with: a ceiling measured in this run, a target, or both. */
  reference: string;
  /** `value` ÷ the reference's number (the ceiling when there is one, otherwise the target). */
  ratio: number | null;
  /** Whether the target is met; null when the figure has no target. */
  met: boolean | null;
}

/** One delivery verification: did exactly the expected deliveries arrive? */
export interface Check {
  scenario: string;
  what: string;
  expected: number;
  delivered: number;
  /** Expected deliveries that did not arrive (with `unfinished`, had not arrived yet when the wait ended). */
  lost: number;
  /** The wait ran out of time while deliveries were still arriving. */
  unfinished: boolean;
  /** Requests repeating a `webhook-id` (a retry) — none is legitimate against a healthy receiver. */
  redeliveries: number;
  /** A second delivery (another `webhook-id`) of the same event to the same webhook. */
  duplicateDeliveries: number;
  unexpected: number;
  /** Publish requests that failed (the events were never accepted). */
  publishErrors: number;
  ok: boolean;
  /** What Hookline's attempt log says, looked up when the check failed (failed attempts explain retries). */
  notes: string[];
}

export interface Ctx {
  params: Params;
  res: Resources;
  receiver: ReceiverClient;
  rootKey: string;
  /** Base64 of 32 bytes: the same `HOOKLINE_ENCRYPTION_KEY` in every process of a run. */
  encryptionKey: string;
  /** Where SQLite data directories go; removed with the run. */
  tmpRoot: string;
  databaseUrl: string | null;
  log(line: string): void;
  /** The receiver's requests/s driven directly at `concurrency`, measured anew at each call (right after a scenario). */
  ceiling(concurrency: number): Promise<number>;
  rows: Row[];
  checks: Check[];
  /** Figures one scenario leaves for another (the throughput rate the backlog compares with). */
  figures: Map<string, number>;
}

export type Scenario = (ctx: Ctx) => Promise<void>;

let dirCounter = 0;

/** A fresh SQLite data directory under the run's temp root. */
export function dataDir(ctx: Ctx, name: string): string {
  dirCounter++;
  return path.join(ctx.tmpRoot, `${String(dirCounter).padStart(2, '0')}-${name}`);
}

export function hooklineEnv(ctx: Ctx, o: { dataDir: string; databaseUrl?: string }): Record<string, string> {
  return {
    HOOKLINE_DATA_DIR: o.dataDir,
    ...(o.databaseUrl !== undefined ? { HOOKLINE_DATABASE_URL: o.databaseUrl } : {}),
    HOOKLINE_ADMIN_KEY: ctx.rootKey,
    HOOKLINE_ENCRYPTION_KEY: ctx.encryptionKey,
    HOOKLINE_ALLOW_PRIVATE_TARGETS: 'true',
    HOOKLINE_LOG_LEVEL: 'warn',
    HOOKLINE_WORKER_CONCURRENCY: String(ctx.params.workerConcurrency),
    HOOKLINE_PER_WEBHOOK_CONCURRENCY: String(ctx.params.perWebhookConcurrency),
    HOOKLINE_SENDER_THREAD: String(ctx.params.senderThread),
  };
}

export interface Running {
  proc: HooklineProcess;
  /** Root-key client of the API process. */
  root: HooklineApi;
  /** Client of a fresh tenant with an admin key. */
  tenant: HooklineApi;
}

/** Starts an API-serving Hookline (`all` or `api`) and sets up a tenant. */
export async function startWithTenant(
  ctx: Ctx,
  role: Extract<Role, 'all' | 'api'>,
  env: Record<string, string>,
  connections = 16,
): Promise<Running> {
  const proc = await startHookline(ctx.res, role, env);
  const root = new HooklineApi(HooklineApi.pool(ctx.res, proc.base ?? '', connections), ctx.rootKey);
  const tenant = await setupTenant(root, 'bench');
  return { proc, root, tenant };
}

export interface PublishedBatches {
  /** Harness clock when the first request left. */
  startedAt: number;
  /** Harness clock when the last answer came. */
  finishedAt: number;
  events: number;
  /** Events whose answer reported another number of deliveries than expected. */
  wrongFanOut: number;
}

/**
 * Publishes events `0 … count-1` through `POST /v1/events/batch`, `batchSize` per request and `inFlight` requests at
 * a time; each answer must report `deliveriesPerEvent` deliveries per event.
 */
export async function publishInBatches(
  api: HooklineApi,
  o: {
    count: number;
    batchSize: number;
    inFlight: number;
    deliveriesPerEvent: number;
    onProgress?: (published: number) => void;
  },
): Promise<PublishedBatches> {
  const startedAt = nowMs();
  let next = 0;
  let done = 0;
  let wrongFanOut = 0;
  const lane = async () => {
    for (;;) {
      const from = next;
      if (from >= o.count) return;
      const n = Math.min(o.batchSize, o.count - from);
      next += n;
      const sentAt = nowMs();
      const events = Array.from({ length: n }, (_, j) => benchEvent(from + j, sentAt));
      const counts = await publishBatch(api, events);
      for (const c of counts) if (c !== o.deliveriesPerEvent) wrongFanOut++;
      done += n;
      o.onProgress?.(done);
    }
  };
  await Promise.all(Array.from({ length: o.inFlight }, lane));
  return { startedAt, finishedAt: nowMs(), events: o.count, wrongFanOut };
}

/** A progress logger printing at most every `everyMs`. */
export function throttledLog(ctx: Ctx, label: string, total: number, everyMs = 5000): (n: number) => void {
  let last = nowMs();
  return (n) => {
    const now = nowMs();
    if (now - last < everyMs) return;
    last = now;
    ctx.log(`  ${label}: ${n.toLocaleString('en-US')} of ${total.toLocaleString('en-US')}`);
  };
}

/**
 * Waits for the group's expected deliveries (or a stall), keeps listening `settleMs` for duplicates, then records
 * the verification. Returns the receiver's report.
 */
export async function awaitAndVerify(
  ctx: Ctx,
  o: {
    scenario: string;
    what: string;
    group: string;
    expected: number;
    publishErrors?: number;
    /** Stop waiting after this long even if deliveries still arrive (the check then fails as unfinished). */
    maxWaitMs?: number;
    /** Called when the check fails, while Hookline still runs: lines explaining it (e.g. failed attempts). */
    diagnose?: () => Promise<string[]>;
  },
): Promise<GroupReport> {
  const wait = await ctx.receiver.waitFor(o.group, o.expected, {
    stallMs: ctx.params.stallMs,
    ...(o.maxWaitMs !== undefined ? { maxMs: o.maxWaitMs } : {}),
    onProgress: (filled) =>
      ctx.log(`  ${o.what}: ${filled.toLocaleString('en-US')} of ${o.expected.toLocaleString('en-US')} received`),
  });
  const stopped =
    wait.ended === 'stalled'
      ? `nothing new for ${ctx.params.stallMs / 1000} s: stopped waiting at ${wait.filled} of ${o.expected} (the rest is lost)`
      : wait.ended === 'time limit'
        ? `still arriving after ${(o.maxWaitMs ?? 0) / 1000} s: stopped waiting at ${wait.filled} of ${o.expected} (unfinished, not necessarily lost)`
        : null;
  if (stopped !== null) ctx.log(`  ${o.what}: ${stopped}`);
  await sleep(ctx.params.settleMs);
  const r = await ctx.receiver.report(o.group);
  const check = recordCheck(ctx, o.scenario, o.what, r, o.publishErrors ?? 0);
  if (stopped !== null) check.notes.push(stopped);
  check.unfinished = wait.ended === 'time limit' && r.missing > 0;
  if (!check.ok && o.diagnose !== undefined) {
    try {
      check.notes.push(...(await o.diagnose()));
    } catch (err) {
      check.notes.push(`could not look up Hookline's attempt log: ${String(err)}`);
    }
    if (!check.notes.some((n) => n.startsWith('wh_')))
      check.notes.push('Hookline recorded no failed attempt for the webhooks looked at');
    for (const n of check.notes) ctx.log(`    ${n}`);
  }
  return r;
}

export function recordCheck(ctx: Ctx, scenario: string, what: string, r: GroupReport, publishErrors: number): Check {
  const check: Check = {
    scenario,
    what,
    expected: r.expected,
    delivered: r.filled,
    lost: r.missing,
    redeliveries: r.redeliveries,
    duplicateDeliveries: r.duplicateDeliveries,
    unexpected: r.unexpected,
    publishErrors,
    unfinished: false,
    notes: [],
    ok: r.missing === 0 && r.redeliveries === 0 && r.duplicateDeliveries === 0 && r.unexpected === 0,
  };
  // A failed publish is not a lost delivery (the event was refused, not dropped), but it is a failed run all the same.
  check.ok &&= publishErrors === 0;
  ctx.checks.push(check);
  if (!check.ok)
    ctx.log(
      `  ✗ ${what}: lost ${check.lost}, redelivered ${check.redeliveries}, duplicated ${check.duplicateDeliveries}, unexpected ${check.unexpected}, publish errors ${publishErrors}`,
    );
  return check;
}

/** Rows for "more is better" figures compared with a ceiling and a minimum ratio. */
export function ceilingRow(
  scenario: string,
  figure: string,
  value: number | null,
  unit: Unit,
  ceiling: number,
  ceilingLabel: string,
  minRatio: number | null,
): Row {
  const ratio = value === null || ceiling <= 0 ? null : value / ceiling;
  return {
    scenario,
    figure,
    value,
    unit,
    reference: `${ceilingLabel} ${fmtNumber(ceiling)}/s${minRatio === null ? '' : `; target ≥ ${Math.round(minRatio * 100)} %`}`,
    ratio,
    met: minRatio === null ? null : ratio !== null && ratio >= minRatio,
  };
}

/** A figure shown for reading the others, with no reference and no target. */
export function infoRow(scenario: string, figure: string, value: number | null, unit: Unit): Row {
  return { scenario, figure, value, unit, reference: '', ratio: null, met: null };
}

/** Rows for "less is better" figures with a maximum (ms, MB, ×). */
export function maxRow(scenario: string, figure: string, value: number | null, unit: Unit, max: number | null): Row {
  return {
    scenario,
    figure,
    value,
    unit,
    reference: max === null ? '' : `target ≤ ${fmtNumber(max)}${unit === '×' ? '×' : ` ${unit}`}`,
    ratio: max === null || value === null ? null : value / max,
    met: max === null ? null : value !== null && value <= max,
  };
}

/** `1 webhook`, `10 webhooks`. */
export function plural(n: number, noun: string): string {
  return `${n.toLocaleString('en-US')} ${noun}${n === 1 ? '' : 's'}`;
}

export function fmtNumber(v: number): string {
  if (Math.abs(v) >= 100) return Math.round(v).toLocaleString('en-US');
  if (Math.abs(v) >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

/** Measures the ceiling for a scenario: the receiver driven directly, no Hookline in between. */
export async function measureCeiling(ctx: Ctx, concurrency: number): Promise<number> {
  const group = `ceiling-c${concurrency}`;
  const body = (i: number) =>
    JSON.stringify({
      id: `evt_ceiling${String(i).padStart(15, '0')}`,
      type: 'bench.event',
      timestamp: new Date().toISOString(),
      data: benchEvent(i, nowMs()).data,
    });
  const r = await postLoop({
    origin: ctx.receiver.origin,
    path: `/ok/${group}/0`,
    body,
    // The headers a Hookline delivery carries, with a unique `webhook-id` per request like a delivery's.
    headers: (i) => ({
      'content-type': 'application/json',
      'user-agent': 'Hookline-bench-ceiling',
      'webhook-id': `msg_ceiling_${i}`,
      'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
      'webhook-signature': 'v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=',
    }),
    concurrency,
    warmupMs: ctx.params.ceiling.warmupMs,
    durationMs: ctx.params.ceiling.durationMs,
  });
  await ctx.receiver.drop([group]);
  if (r.errors > 0) ctx.log(`  ceiling c=${concurrency}: ${r.errors} failed requests (${r.firstError ?? 'non-2xx'})`);
  return r.perSecond;
}
