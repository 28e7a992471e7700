/**
 * The publish API alone: events/s accepted by `POST /v1/events` with N concurrent clients for a tenant without
 * webhooks, against a bare Fastify process (`bench/bare-fastify.ts`) driven the same way in the same run. Both
 * servers stay up and are measured in alternating rounds, so a change in the machine's speed during the run (it is
 * shared) touches both figures alike instead of whichever ran second.
 */
import { sleep } from '../lib/clock.js';
import { type Ctx, ceilingRow, type Check, dataDir, hooklineEnv, infoRow, startWithTenant } from '../lib/context.js';
import { type ClosedLoopResult, postLoop } from '../lib/load.js';
import { benchEvent } from '../lib/payload.js';
import { cpuTimeMs, forkTs } from '../lib/processes.js';

const ROUND_SETTLE_MS = 1000;

interface Totals {
  ok: number;
  errors: number;
  firstError: string | null;
  measuredMs: number;
  /** The server's main thread's CPU in the measured windows; null when a reading failed. */
  cpuMs: number | null;
}

export async function publishApi(ctx: Ctx): Promise<void> {
  const p = ctx.params.publishApi;
  const body = JSON.stringify(benchEvent(0, 0));
  const drive = (
    origin: string,
    headers: Record<string, string>,
    pid: number | undefined,
    warmupMs: number,
  ): Promise<ClosedLoopResult> =>
    postLoop({
      origin,
      path: '/v1/events',
      body,
      headers: { 'content-type': 'application/json', ...headers },
      concurrency: p.clients,
      warmupMs,
      durationMs: p.durationMs,
      cpuMs: () => cpuTimeMs(pid, 'main'),
    });

  const run = await startWithTenant(ctx, 'all', hooklineEnv(ctx, { dataDir: dataDir(ctx, 'publish-api') }));
  const bare = await forkTs(ctx.res, 'bare-fastify.ts');
  const port =
    typeof bare.ready === 'object' && bare.ready !== null && 'port' in bare.ready && typeof bare.ready.port === 'number'
      ? bare.ready.port
      : null;
  if (port === null) throw new Error(`bare-fastify sent an unexpected first message: ${JSON.stringify(bare.ready)}`);
  const servers: Array<{ what: string; origin: string; headers: Record<string, string>; pid: number | undefined }> = [
    {
      what: 'Hookline POST /v1/events',
      origin: run.proc.base ?? '',
      headers: { authorization: `Bearer ${run.tenant.key}` },
      pid: run.proc.child.pid,
    },
    { what: 'bare Fastify', origin: `http://127.0.0.1:${port}`, headers: {}, pid: bare.child.pid },
  ];
  const totals: Totals[] = servers.map(() => ({ ok: 0, errors: 0, firstError: null, measuredMs: 0, cpuMs: 0 }));
  ctx.log(
    `  Hookline and bare Fastify: ${p.clients} clients, ${p.rounds} alternating rounds of ${p.durationMs / 1000} s`,
  );
  for (let round = 0; round < p.rounds; round++) {
    for (const [i, s] of servers.entries()) {
      const t = totals[i];
      if (t === undefined) continue;
      // Let the server of the round before finish what its load left (Hookline's last group commits and its WAL
      // checkpoint took up to a fifth of a core in the next second), so that it takes nothing from this round.
      if (round > 0 || i > 0) await sleep(ROUND_SETTLE_MS);
      // Each server's first round starts with the warm-up; later rounds open new connections, so they warm up briefly.
      const r = await drive(s.origin, s.headers, s.pid, round === 0 ? p.warmupMs : Math.min(p.warmupMs, 300));
      t.ok += r.ok;
      t.errors += r.errors;
      t.firstError ??= r.firstError;
      t.measuredMs += r.measuredMs;
      t.cpuMs = t.cpuMs === null || r.cpuMsInWindow === null ? null : t.cpuMs + r.cpuMsInWindow;
    }
  }
  await run.proc.stop();
  await bare.stop();

  const [hookline, reference] = totals;
  if (hookline === undefined || reference === undefined) throw new Error('publish API: a server was not measured');
  for (const [i, t] of totals.entries()) {
    if (t.errors > 0)
      ctx.log(`  ✗ ${servers[i]?.what ?? ''}: ${t.errors} failed requests, first: ${t.firstError ?? ''}`);
  }
  const perSecond = (t: Totals) => (t.ok * 1000) / t.measuredMs;
  // The server's main thread's CPU per answered request: the rate's cost, which other load on the machine barely moves.
  const cpuPerRequest = (t: Totals) => (t.cpuMs === null || t.ok === 0 ? null : (t.cpuMs * 1000) / t.ok);
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
      perSecond(hookline),
      'events/s',
      perSecond(reference),
      'bare Fastify',
      0.5,
    ),
    infoRow('publish API', 'Hookline main-thread CPU per accepted publish (info)', cpuPerRequest(hookline), 'µs'),
    infoRow('publish API', 'bare Fastify main-thread CPU per request (info)', cpuPerRequest(reference), 'µs'),
  );
}
