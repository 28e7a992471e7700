/**
 * Delivered events per second, first publish to last receipt: one webhook (throughput), ten webhooks (fan-out), and
 * one API process with one or two worker processes on PostgreSQL.
 */
import {
  awaitAndVerify,
  type Ctx,
  ceilingRow,
  dataDir,
  hooklineEnv,
  infoRow,
  plural,
  publishInBatches,
  startWithTenant,
  throttledLog,
} from '../lib/context.js';
import { createWebhooks, deleteWebhooks, failedAttempts, type HooklineApi } from '../lib/hookline-api.js';
import { hooklineConcurrency } from '../lib/params.js';
import { cpuTimeMs, startHookline } from '../lib/processes.js';
import { createTempDatabase } from '../lib/postgres.js';

interface RateResult {
  /** Deliveries received per second, from the first publish request to the last receipt. */
  deliveredPerSecond: number | null;
  /** Events accepted per second by the batch endpoint. */
  publishedPerSecond: number;
  /** CPU time the Hookline process used per delivery, publishing included (µs); null without /proc. */
  cpuMicrosPerDelivery: number | null;
  /** Of that, the main thread's (API, queue, database); the rest is the sender thread's and V8's helper threads'. */
  mainThreadCpuMicrosPerDelivery: number | null;
}

interface RateOptions {
  scenario: string;
  group: string;
  webhooks: number;
  events: number;
  /** Published to webhooks of their own first, delivered and verified, not measured (0: none). */
  warmupEvents: number;
  batchSize: number;
  batchesInFlight: number;
  /** Prefix of the check's description. */
  label?: string;
  /** The process whose CPU time is read (the one process of `--role all`). */
  pid?: number | undefined;
}

/**
 * The warm-up, then the measured run. A fresh Node process spends its first seconds compiling its hot code (V8's
 * optimizing compiler took about 1.5 s of CPU on its background threads during a cold 20 000-event run here, a sixth
 * of the process's CPU), and the ceiling it is compared with is measured warm; so the figures are of a warm process,
 * and the cold start is shown beside them.
 */
async function deliveryRate(
  ctx: Ctx,
  tenant: HooklineApi,
  o: RateOptions,
): Promise<{ warm: RateResult; cold: RateResult | null }> {
  let cold: RateResult | null = null;
  if (o.warmupEvents > 0) {
    const { result, webhookIds } = await measureGroup(ctx, tenant, {
      ...o,
      group: `${o.group}-warm`,
      events: o.warmupEvents,
      label: `${o.label ?? ''}warm-up (not measured): `,
    });
    // The measured events must fan out to the measured webhooks only.
    await deleteWebhooks(tenant, webhookIds);
    cold = result;
  }
  return { warm: (await measureGroup(ctx, tenant, o)).result, cold };
}

/** Publishes `events` events to `webhooks` fresh webhooks and waits for every delivery. */
async function measureGroup(
  ctx: Ctx,
  tenant: HooklineApi,
  o: RateOptions,
): Promise<{ result: RateResult; webhookIds: string[] }> {
  const ids = await createWebhooks(
    tenant,
    Array.from({ length: o.webhooks }, (_, i) => ({ url: ctx.receiver.okUrl(o.group, i) })),
  );
  await ctx.receiver.expect(o.group, o.webhooks, o.events);
  const expected = o.webhooks * o.events;
  const what = `${o.label ?? ''}${o.events.toLocaleString('en-US')} events × ${plural(o.webhooks, 'webhook')}`;
  ctx.log(`  publishing ${what}`);
  const cpuBefore = cpuTimeMs(o.pid);
  const mainBefore = cpuTimeMs(o.pid, 'main');
  const pub = await publishInBatches(tenant, {
    count: o.events,
    batchSize: o.batchSize,
    inFlight: o.batchesInFlight,
    deliveriesPerEvent: o.webhooks,
    onProgress: throttledLog(ctx, 'published', o.events),
  });
  const r = await awaitAndVerify(ctx, {
    scenario: o.scenario,
    what,
    group: o.group,
    expected,
    publishErrors: pub.wrongFanOut,
    diagnose: () => failedAttempts(tenant, ids),
  });
  const cpuAfter = cpuTimeMs(o.pid);
  const mainAfter = cpuTimeMs(o.pid, 'main');
  const perDelivery = (before: number | null, after: number | null) =>
    before === null || after === null || r.filled === 0 ? null : ((after - before) * 1000) / r.filled;
  await ctx.receiver.drop([o.group]);
  const result = {
    cpuMicrosPerDelivery: perDelivery(cpuBefore, cpuAfter),
    mainThreadCpuMicrosPerDelivery: perDelivery(mainBefore, mainAfter),
    deliveredPerSecond: r.lastAt === null ? null : (r.filled * 1000) / (r.lastAt - pub.startedAt),
    publishedPerSecond: (pub.events * 1000) / (pub.finishedAt - pub.startedAt),
  };
  return { result, webhookIds: ids };
}

export async function throughput(ctx: Ctx): Promise<void> {
  const p = ctx.params.throughput;
  const run = await startWithTenant(ctx, 'all', hooklineEnv(ctx, { dataDir: dataDir(ctx, 'throughput') }));
  const { warm: r, cold } = await deliveryRate(ctx, run.tenant, {
    scenario: 'throughput',
    group: 'tp',
    webhooks: 1,
    events: p.events,
    warmupEvents: p.warmupEvents,
    batchSize: p.batchSize,
    batchesInFlight: p.batchesInFlight,
    pid: run.proc.child.pid,
  });
  await run.proc.stop();
  const c = hooklineConcurrency(ctx.params, 1);
  const ceiling = await ctx.ceiling(c);
  if (r.deliveredPerSecond !== null) ctx.figures.set('throughput', r.deliveredPerSecond);
  ctx.rows.push(
    ceilingRow(
      'throughput',
      'delivered events/s, 1 webhook',
      r.deliveredPerSecond,
      'events/s',
      ceiling,
      `ceiling (c=${c})`,
      0.5,
    ),
    infoRow('throughput', 'publish, batch endpoint (info)', r.publishedPerSecond, 'events/s'),
    infoRow('throughput', 'Hookline CPU per delivery, publish included (info)', r.cpuMicrosPerDelivery, 'µs'),
    infoRow('throughput', 'of which its main thread (info)', r.mainThreadCpuMicrosPerDelivery, 'µs'),
    ...coldRows('throughput', 'events/s', cold),
  );
}

/** What the warm-up measured: a process's first seconds, for information. */
function coldRows(scenario: string, unit: 'events/s' | 'deliveries/s', cold: RateResult | null) {
  if (cold === null) return [];
  return [
    infoRow(scenario, 'cold start: delivered/s during the warm-up (info)', cold.deliveredPerSecond, unit),
    infoRow(scenario, 'cold start: Hookline CPU per delivery (info)', cold.cpuMicrosPerDelivery, 'µs'),
  ];
}

export async function fanOut(ctx: Ctx): Promise<void> {
  const p = ctx.params.fanOut;
  const run = await startWithTenant(ctx, 'all', hooklineEnv(ctx, { dataDir: dataDir(ctx, 'fan-out') }));
  const { warm: r, cold } = await deliveryRate(ctx, run.tenant, {
    scenario: 'fan-out',
    group: 'fo',
    webhooks: p.webhooks,
    events: p.events,
    warmupEvents: p.warmupEvents,
    batchSize: p.batchSize,
    batchesInFlight: p.batchesInFlight,
    pid: run.proc.child.pid,
  });
  await run.proc.stop();
  const c = hooklineConcurrency(ctx.params, p.webhooks);
  const ceiling = await ctx.ceiling(c);
  ctx.rows.push(
    ceilingRow(
      'fan-out',
      `deliveries/s, ${p.webhooks} webhooks`,
      r.deliveredPerSecond,
      'deliveries/s',
      ceiling,
      `ceiling (c=${c})`,
      0.5,
    ),
    infoRow('fan-out', 'Hookline CPU per delivery, publish included (info)', r.cpuMicrosPerDelivery, 'µs'),
    infoRow('fan-out', 'of which its main thread (info)', r.mainThreadCpuMicrosPerDelivery, 'µs'),
    ...coldRows('fan-out', 'deliveries/s', cold),
  );
}

/** The throughput scenario on PostgreSQL: one `--role api` process and 1, then 2, `--role worker` processes. */
export async function postgres(ctx: Ctx): Promise<void> {
  if (ctx.databaseUrl === null) {
    ctx.log('  skipped: no --database-url');
    return;
  }
  const p = ctx.params.postgres;
  const rates = new Map<number, number | null>();
  for (const workers of [1, 2]) {
    const db = await createTempDatabase(ctx, ctx.databaseUrl);
    try {
      const env = hooklineEnv(ctx, { dataDir: dataDir(ctx, `pg-${workers}w`), databaseUrl: db.url });
      // Started together: their migrations serialize on PostgreSQL's migration lock.
      const [run, ...procs] = await Promise.all([
        startWithTenant(ctx, 'api', env),
        ...Array.from({ length: workers }, () => startHookline(ctx.res, 'worker', env)),
      ]);
      const { warm: r } = await deliveryRate(ctx, run.tenant, {
        scenario: 'postgres',
        group: `pg${workers}`,
        label: `api + ${plural(workers, 'worker')}: `,
        webhooks: 1,
        events: p.events,
        warmupEvents: p.warmupEvents,
        batchSize: p.batchSize,
        batchesInFlight: p.batchesInFlight,
      });
      for (const w of procs) await w.stop();
      await run.proc.stop();
      rates.set(workers, r.deliveredPerSecond);
      const c = hooklineConcurrency(ctx.params, 1, workers);
      const ceiling = await ctx.ceiling(c);
      ctx.rows.push(
        ceilingRow(
          'postgres',
          `delivered events/s, 1 webhook, api + ${workers} worker${workers === 1 ? '' : 's'}`,
          r.deliveredPerSecond,
          'events/s',
          ceiling,
          `ceiling (c=${c})`,
          0.5,
        ),
      );
    } finally {
      await db.drop();
    }
  }
  const one = rates.get(1) ?? null;
  const two = rates.get(2) ?? null;
  ctx.rows.push({
    scenario: 'postgres',
    figure: '2-worker scaling (2 workers ÷ 1 worker)',
    value: one === null || two === null || one === 0 ? null : two / one,
    unit: '×',
    reference: 'ideal 2×',
    ratio: null,
    met: null,
  });
}
