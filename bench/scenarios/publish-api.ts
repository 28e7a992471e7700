/**
 * The publish API alone: events/s accepted by `POST /v1/events` with N concurrent clients for a tenant without
 * webhooks, against a bare Fastify process (`bench/bare-fastify.ts`) driven the same way in the same run.
 */
import { type Ctx, ceilingRow, type Check, dataDir, hooklineEnv, startWithTenant } from '../lib/context.js';
import { type ClosedLoopResult, postLoop } from '../lib/load.js';
import { benchEvent } from '../lib/payload.js';
import { forkTs } from '../lib/processes.js';

export async function publishApi(ctx: Ctx): Promise<void> {
  const p = ctx.params.publishApi;
  const body = JSON.stringify(benchEvent(0, 0));
  const drive = (origin: string, headers: Record<string, string>): Promise<ClosedLoopResult> =>
    postLoop({
      origin,
      path: '/v1/events',
      body,
      headers: { 'content-type': 'application/json', ...headers },
      concurrency: p.clients,
      warmupMs: p.warmupMs,
      durationMs: p.durationMs,
    });

  const run = await startWithTenant(ctx, 'all', hooklineEnv(ctx, { dataDir: dataDir(ctx, 'publish-api') }));
  ctx.log(`  Hookline: ${p.clients} clients for ${p.durationMs / 1000} s`);
  const hookline = await drive(run.proc.base ?? '', { authorization: `Bearer ${run.tenant.key}` });
  await run.proc.stop();

  const bare = await forkTs(ctx.res, 'bare-fastify.ts');
  const port =
    typeof bare.ready === 'object' && bare.ready !== null && 'port' in bare.ready && typeof bare.ready.port === 'number'
      ? bare.ready.port
      : null;
  if (port === null) throw new Error(`bare-fastify sent an unexpected first message: ${JSON.stringify(bare.ready)}`);
  ctx.log(`  bare Fastify: ${p.clients} clients for ${p.durationMs / 1000} s`);
  const reference = await drive(`http://127.0.0.1:${port}`, {});
  await bare.stop();

  for (const [what, r] of [
    ['Hookline POST /v1/events', hookline],
    ['bare Fastify', reference],
  ] as const) {
    if (r.errors > 0) ctx.log(`  ✗ ${what}: ${r.errors} failed requests, first: ${r.firstError ?? ''}`);
  }
  const check: Check = {
    scenario: 'publish API',
    what: `${hookline.ok.toLocaleString('en-US')} publishes, ${p.clients} clients (no webhooks: no deliveries)`,
    expected: 0,
    delivered: 0,
    lost: 0,
    unfinished: false,
    redeliveries: 0,
    duplicateDeliveries: 0,
    unexpected: 0,
    publishErrors: hookline.errors,
    notes: hookline.firstError === null ? [] : [`first failed publish: ${hookline.firstError}`],
    ok: hookline.errors === 0,
  };
  ctx.checks.push(check);
  ctx.rows.push(
    ceilingRow(
      'publish API',
      `accepted events/s, ${p.clients} clients, no webhooks`,
      hookline.perSecond,
      'events/s',
      reference.perSecond,
      'bare Fastify',
      0.5,
    ),
  );
}
