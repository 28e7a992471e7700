/** One event to many webhooks: how long the publish answer takes, and until every webhook has it. */
import { nowMs } from '../lib/clock.js';
import { awaitAndVerify, type Ctx, dataDir, hooklineEnv, maxRow, startWithTenant } from '../lib/context.js';
import { createWebhooks, failedAttempts, publishOne } from '../lib/hookline-api.js';
import { benchEvent } from '../lib/payload.js';

export async function wideFanOut(ctx: Ctx): Promise<void> {
  const p = ctx.params.wideFanOut;
  const run = await startWithTenant(ctx, 'all', hooklineEnv(ctx, { dataDir: dataDir(ctx, 'wide-fan-out') }));
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
  );
}
