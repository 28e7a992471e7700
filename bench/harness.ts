/**
 * The benchmark harness: `runBench(options)` starts the receiver, runs the chosen scenarios one after another (each
 * with its own Hookline processes and data), measures the ceilings they are compared with, and returns the figures
 * and the delivery checks. Every process and temporary directory is gone when it returns, whatever happened.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { nowMs } from './lib/clock.js';
import { type Check, type Ctx, measureCeiling, type Row, type Scenario } from './lib/context.js';
import { fullParams, type Params, smokeParams } from './lib/params.js';
import { Resources } from './lib/processes.js';
import { ReceiverClient } from './lib/receiver-client.js';
import { redact } from './lib/postgres.js';
import { backlog } from './scenarios/backlog.js';
import { isolation, latency } from './scenarios/latency.js';
import { publishApi } from './scenarios/publish-api.js';
import { sender } from './scenarios/sender.js';
import { fanOut, postgres, throughput } from './scenarios/throughput.js';
import { wideFanOut } from './scenarios/wide-fan-out.js';

/** In run order: the backlog compares itself with the throughput figure. */
export const SCENARIOS = {
  throughput,
  'fan-out': fanOut,
  'wide-fan-out': wideFanOut,
  latency,
  isolation,
  backlog,
  'publish-api': publishApi,
  sender,
  postgres,
} satisfies Record<string, Scenario>;

export type ScenarioName = keyof typeof SCENARIOS;
export const SCENARIO_NAMES = Object.keys(SCENARIOS) as ScenarioName[];

export function isScenarioName(s: string): s is ScenarioName {
  return s in SCENARIOS;
}

export interface BenchOptions {
  /** Tiny sizes: the whole run in well under a minute. */
  smoke?: boolean;
  /** PostgreSQL for the `postgres` scenario (the others always run on SQLite). */
  databaseUrl?: string | null;
  /** Scenarios to run (default: all; `postgres` only does something with `databaseUrl`). */
  only?: ScenarioName[] | null;
  /** Deliveries queued by the backlog scenario (default 1 000 000; 1 000 with `smoke`). */
  backlog?: number | null;
  /** Seconds the backlog's worker gets to drain the queue (default 1 800; 120 with `smoke`). */
  backlogDrainLimitSeconds?: number | null;
  /** Events/s of the latency scenario (default 1 000; smoke 100). */
  latencyRate?: number | null;
  /** Events/s of the isolation scenario (default 20, to 20 webhooks; smoke 20 to 10). */
  isolationRate?: number | null;
  /** Isolation: put the dead webhooks on the healthy ones' origin (default: an origin of their own). */
  deadSameOrigin?: boolean;
  workerConcurrency?: number | null;
  perWebhookConcurrency?: number | null;
  /** `HOOKLINE_SENDER_THREAD` of every Hookline started (default: Hookline's own, on). */
  senderThread?: boolean | null;
  /** Adjusts the sizes after the flags above are applied (experiments, tests). */
  tune?: (params: Params) => void;
  /** Progress lines (default: stderr). */
  log?: (line: string) => void;
  /** Stop everything and exit 130 on SIGINT/SIGTERM (the CLI sets this). */
  handleSignals?: boolean;
}

export interface BenchMeta {
  date: string;
  mode: 'smoke' | 'full';
  machine: { cpus: string; cpuCount: number; totalMemGiB: number; os: string };
  node: string;
  commit: string;
  database: string;
  scenarios: ScenarioName[];
  params: Params;
}

export interface BenchReport {
  meta: BenchMeta;
  rows: Row[];
  checks: Check[];
  /** Scenarios that did not finish, with why. */
  errors: Array<{ scenario: ScenarioName | 'setup'; error: string }>;
  durationMs: number;
  /** No scenario failed and no delivery was lost, duplicated or unexpected. */
  ok: boolean;
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function gitCommit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd: ROOT,
      encoding: 'utf8',
    }).trim();
    return dirty === '' ? head : `${head} (with uncommitted changes)`;
  } catch {
    return 'unknown';
  }
}

function machine(): BenchMeta['machine'] {
  const cpus = os.cpus();
  return {
    cpus: cpus[0]?.model.trim() ?? 'unknown',
    cpuCount: cpus.length,
    totalMemGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    os: `${os.platform()} ${os.release()} ${os.arch()}`,
  };
}

export async function runBench(options: BenchOptions = {}): Promise<BenchReport> {
  const started = nowMs();
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const params = options.smoke === true ? smokeParams() : fullParams();
  if (options.backlog != null) params.backlog.deliveries = options.backlog;
  if (options.backlogDrainLimitSeconds != null) params.backlog.drainLimitMs = options.backlogDrainLimitSeconds * 1000;
  if (options.latencyRate != null) params.latency.ratePerSecond = options.latencyRate;
  if (options.isolationRate != null) params.isolation.ratePerSecond = options.isolationRate;
  if (options.deadSameOrigin === true) params.isolation.deadOrigin = 'same';
  if (options.workerConcurrency != null) params.workerConcurrency = options.workerConcurrency;
  if (options.perWebhookConcurrency != null) params.perWebhookConcurrency = options.perWebhookConcurrency;
  if (options.senderThread != null) params.senderThread = options.senderThread;
  options.tune?.(params);
  const databaseUrl = options.databaseUrl ?? null;
  const chosen = (options.only ?? SCENARIO_NAMES).filter((s) => s !== 'postgres' || databaseUrl !== null);
  const scenarios = SCENARIO_NAMES.filter((s) => chosen.includes(s));
  const meta: BenchMeta = {
    date: new Date().toISOString(),
    mode: options.smoke === true ? 'smoke' : 'full',
    machine: machine(),
    node: process.version,
    commit: gitCommit(),
    database: databaseUrl === null ? 'sqlite' : `sqlite; postgres ${redact(databaseUrl)}`,
    scenarios,
    params,
  };
  const report: BenchReport = { meta, rows: [], checks: [], errors: [], durationMs: 0, ok: false };

  const res = new Resources();
  const onSignal = (signal: NodeJS.Signals) => {
    log(`\n${signal}: stopping every process of the bench`);
    void res.closeAll(log).finally(() => process.exit(130));
  };
  if (options.handleSignals === true) {
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }
  try {
    const tmpRoot = res.tempDir('hookline-bench-');
    const receiver = await ReceiverClient.start(res);
    const base: Omit<Ctx, 'res'> = {
      params,
      receiver,
      rootKey: `hl_bench_root_${randomBytes(16).toString('hex')}`,
      encryptionKey: randomBytes(32).toString('base64'),
      tmpRoot,
      databaseUrl,
      log,
      ceiling(concurrency) {
        log(`  ceiling: the receiver driven directly at concurrency ${concurrency}`);
        return measureCeiling({ ...base, res }, concurrency);
      },
      rows: report.rows,
      checks: report.checks,
      figures: new Map(),
    };
    for (const name of scenarios) {
      if (res.isClosed) break;
      log(`\n▶ ${name}`);
      const t = nowMs();
      // Each scenario's processes, temp databases and connections are stopped when it ends, even when it fails.
      const scope = new Resources();
      const closeScope = res.defer(`scenario ${name}`, () => scope.closeAll(log));
      try {
        await SCENARIOS[name]({ ...base, res: scope });
        log(`  done in ${((nowMs() - t) / 1000).toFixed(1)} s`);
      } catch (err) {
        const error = err instanceof Error ? (err.stack ?? err.message) : String(err);
        report.errors.push({ scenario: name, error });
        log(`  ✗ ${name} failed: ${error}`);
      } finally {
        await closeScope();
      }
    }
  } catch (err) {
    report.errors.push({ scenario: 'setup', error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  } finally {
    await res.closeAll(log);
    if (options.handleSignals === true) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }
  report.durationMs = nowMs() - started;
  report.ok = report.errors.length === 0 && report.checks.every((c) => c.ok);
  return report;
}
