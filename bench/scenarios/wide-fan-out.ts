/** One event to many webhooks: how long the publish answer takes, and until every webhook has it. */
import { nowMs } from '../lib/clock.js';
import {
  awaitAndVerify,
  type Ctx,
  dataDir,
  hooklineEnv,
  infoRow,
  maxRow,
  type Row,
  startWithTenant,
} from '../lib/context.js';
import { createWebhooks, deleteWebhooks, failedAttempts, type HooklineApi, publishOne } from '../lib/hookline-api.js';
import { benchEvent } from '../lib/payload.js';

export async function wideFanOut(ctx: Ctx): Promise<void> {
  const p = ctx.params.wideFanOut;
  const run = await startWithTenant(ctx, 'all', hooklineEnv(ctx, { dataDir: dataDir(ctx, 'wide-fan-out') }));
  const rows: Row[] = [];
  if (p.warmupWebhooks > 0 && p.warmupEvents > 0) rows.push(...(await warmUp(ctx, run.tenant)));
  const group = 'wide';
  ctx.log(`  creating ${p.webhooks.toLocaleString('en-US')} webhooks, ${p.createParallel} requests at a time`);
  const t = nowMs();
  const ids = await createWebhooks(
    run.tenant,
    Array.from({ length: p.webhooks }, (_, i) => ({ url: ctx.receiver.okUrl(group, i) })),
    p.createParallel,
  );
  ctx.log(`  created in ${Math.round(nowMs() - t)} ms`);
  await ctx.receiver.expect(group, p.webhooks, 1);
  const t0 = nowMs();
  const deliveries = await publishOne(run.tenant, benchEvent(0, t0));
  const answeredMs = nowMs() - t0;
  const r = await awaitAndVerify(ctx, {
    scenario: 'wide fan-out',
    what: `1 event × ${p.webhooks.toLocaleString('en-US')} webhooks`,
    group,
    expected: p.webhooks,
    publishErrors: deliveries === p.webhooks ? 0 : 1,
    diagnose: () => failedAttempts(run.tenant, ids),
  });
  await ctx.receiver.drop([group]);
  await run.proc.stop();
  ctx.rows.push(
    maxRow('wide fan-out', `publish answer time, 1 event → ${p.webhooks} webhooks`, answeredMs, 'ms', 200),
    maxRow(
      'wide fan-out',
      'time until all received (from publish)',
      r.lastAt === null || r.missing > 0 ? null : r.lastAt - t0,
      'ms',
      2000,
    ),
    ...rows,
  );
}

/**
 * Like the throughput scenarios, the figures are of a warm process: a server that has delivered before. A fresh one
 * compiles its delivery path during its first thousands of deliveries, which in a cold wide fan-out are all of them.
 * The warm-up fans events out to webhooks of its own, which are then deleted, so the measured webhooks' secrets,
 * rows and URLs are still new to the process; its figures are shown as the cold start.
 */
async function warmUp(ctx: Ctx, tenant: HooklineApi): Promise<Row[]> {
  const { warmupWebhooks: webhooks, warmupEvents: events, createParallel } = ctx.params.wideFanOut;
  const group = 'wide-warm';
  const ids = await createWebhooks(
    tenant,
    Array.from({ length: webhooks }, (_, i) => ({ url: ctx.receiver.okUrl(group, i) })),
    createParallel,
  );
  await ctx.receiver.expect(group, webhooks, events);
  const what = `warm-up (not measured): ${events} events, one at a time, × ${webhooks.toLocaleString('en-US')} webhooks`;
  ctx.log(`  ${what}`);
  const answers: number[] = [];
  let wrongFanOut = 0;
  const t0 = nowMs();
  for (let seq = 0; seq < events; seq++) {
    const t = nowMs();
    if ((await publishOne(tenant, benchEvent(seq, t))) !== webhooks) wrongFanOut++;
    answers.push(nowMs() - t);
  }
  const r = await awaitAndVerify(ctx, {
    scenario: 'wide fan-out',
    what,
    group,
    expected: webhooks * events,
    publishErrors: wrongFanOut,
    diagnose: () => failedAttempts(tenant, ids),
  });
  await ctx.receiver.drop([group]);
  await deleteWebhooks(tenant, ids);
  return [
    infoRow(
      'wide fan-out',
      `cold start: publish answer time, first of the warm-up's events → ${webhooks} webhooks (info)`,
      answers[0] ?? null,
      'ms',
    ),
    infoRow(
      'wide fan-out',
      'cold start: delivered/s during the warm-up (info)',
      r.lastAt === null || r.missing > 0 ? null : (r.filled * 1000) / (r.lastAt - t0),
      'deliveries/s',
    ),
  ];
}
