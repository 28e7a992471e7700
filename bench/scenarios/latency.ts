/**
 * Publish→receipt latency at a fixed rate (one `POST /v1/events` per event, an open loop), and isolation: the healthy
 * webhooks' p99 at a fixed load without faults and with a share of webhooks that never answer.
 */
import { nowMs } from '../lib/clock.js';
import { awaitAndVerify, type Ctx, dataDir, hooklineEnv, maxRow, plural, startWithTenant } from '../lib/context.js';
import { createWebhooks, failedAttempts, publishOne, type WebhookSpec } from '../lib/hookline-api.js';
import { fixedRate } from '../lib/load.js';
import { benchEvent } from '../lib/payload.js';
import type { GroupReport } from '../lib/receiver-protocol.js';

/** Connections the harness publishes over: enough that the open loop never queues behind slow answers. */
const PUBLISH_CONNECTIONS = 64;

interface FixedLoadResult {
  report: GroupReport;
  publishP99: number | null;
  publishRate: number;
}

/**
 * Publishes at `ratePerSecond` for `durationMs` to webhooks `specs`. The first `healthy` of them (group `group`) are
 * measured and verified; `alsoVerify` names another group of healthy webhooks that is verified but not measured.
 */
async function fixedLoad(
  ctx: Ctx,
  o: {
    scenario: string;
    group: string;
    specs: WebhookSpec[];
    healthy: number;
    ratePerSecond: number;
    warmupMs: number;
    durationMs: number;
    name: string;
    label: string;
    alsoVerify?: { group: string; hooks: number };
  },
): Promise<FixedLoadResult> {
  const run = await startWithTenant(
    ctx,
    'all',
    hooklineEnv(ctx, { dataDir: dataDir(ctx, o.name) }),
    PUBLISH_CONNECTIONS,
  );
  try {
    const ids = await createWebhooks(run.tenant, o.specs);
    const warmup = Math.round((o.ratePerSecond * o.warmupMs) / 1000);
    const events = warmup + Math.round((o.ratePerSecond * o.durationMs) / 1000);
    await ctx.receiver.expect(o.group, o.healthy, events, warmup);
    if (o.alsoVerify !== undefined) await ctx.receiver.expect(o.alsoVerify.group, o.alsoVerify.hooks, events);
    ctx.log(
      `  ${o.label}: ${o.ratePerSecond} events/s for ${o.warmupMs / 1000} s (warm-up) + ${o.durationMs / 1000} s to ${plural(o.specs.length, 'webhook')}`,
    );
    let wrongFanOut = 0;
    const load = await fixedRate({
      ratePerSecond: o.ratePerSecond,
      durationMs: o.warmupMs + o.durationMs,
      // The answer times, like the receipts' latencies, are of the measured events, not the warm-up's.
      measureFrom: warmup,
      fire: async (i) => {
        const n = await publishOne(run.tenant, benchEvent(i, nowMs()));
        if (n !== o.specs.length) wrongFanOut++;
      },
    });
    if (load.errors > 0) ctx.log(`  ${load.errors} publishes failed, first: ${load.firstError ?? ''}`);
    const report = await awaitAndVerify(ctx, {
      scenario: o.scenario,
      what: `${o.label}: ${events.toLocaleString('en-US')} events × ${plural(o.healthy, 'webhook')}${o.alsoVerify !== undefined ? ' (measured)' : ''}${o.healthy < o.specs.length && o.alsoVerify === undefined ? ' (healthy ones)' : ''}`,
      group: o.group,
      expected: events * o.healthy,
      publishErrors: load.errors + wrongFanOut,
      diagnose: () => failedAttempts(run.tenant, ids.slice(0, o.healthy)),
    });
    await ctx.receiver.drop([o.group]);
    if (o.alsoVerify !== undefined) {
      await awaitAndVerify(ctx, {
        scenario: o.scenario,
        what: `${o.label}: ${events.toLocaleString('en-US')} events × ${plural(o.alsoVerify.hooks, 'webhook')} (the rest)`,
        group: o.alsoVerify.group,
        expected: events * o.alsoVerify.hooks,
        diagnose: () => failedAttempts(run.tenant, ids.slice(o.healthy)),
      });
      await ctx.receiver.drop([o.alsoVerify.group]);
    }
    return { report, publishP99: load.answers.p99, publishRate: load.perSecond };
  } finally {
    // Hung requests end now rather than at their timeout, so the process stops at once.
    await ctx.receiver.releaseHanging().catch(() => 0);
    await run.proc.stop();
  }
}

export async function latency(ctx: Ctx): Promise<void> {
  const p = ctx.params.latency;
  const r = await fixedLoad(ctx, {
    scenario: 'latency',
    group: 'lat',
    specs: [{ url: ctx.receiver.okUrl('lat', 0) }],
    healthy: 1,
    ratePerSecond: p.ratePerSecond,
    warmupMs: p.warmupMs,
    durationMs: p.durationMs,
    name: 'latency',
    label: 'latency',
  });
  const l = r.report.latency;
  const at = `${p.ratePerSecond}/s`;
  ctx.rows.push(
    maxRow('latency', `publish→receipt p50 at ${at}`, l.p50, 'ms', 5),
    maxRow('latency', `publish→receipt p99 at ${at}`, l.p99, 'ms', 20),
    maxRow('latency', `publish→receipt max at ${at}`, l.max, 'ms', null),
    maxRow('latency', `publish answer p99 at ${at} (info)`, r.publishP99, 'ms', null),
  );
  if (Math.abs(r.publishRate - p.ratePerSecond) / p.ratePerSecond > 0.05)
    ctx.log(`  note: the harness sent ${r.publishRate.toFixed(0)}/s, not ${p.ratePerSecond}/s`);
}

export async function isolation(ctx: Ctx): Promise<void> {
  const p = ctx.params.isolation;
  const healthy = p.webhooks - p.dead;
  // Both runs measure the same webhooks: the first `healthy` of `p.webhooks`. Without the fault the others answer
  // too (verified, not measured); with it they never answer.
  const base = await fixedLoad(ctx, {
    scenario: 'isolation',
    group: 'iso-base',
    specs: [
      ...Array.from({ length: healthy }, (_, i) => ({ url: ctx.receiver.okUrl('iso-base', i) })),
      ...Array.from({ length: p.dead }, (_, i) => ({ url: ctx.receiver.okUrl('iso-base-rest', i) })),
    ],
    healthy,
    alsoVerify: { group: 'iso-base-rest', hooks: p.dead },
    ratePerSecond: p.ratePerSecond,
    warmupMs: p.warmupMs,
    durationMs: p.durationMs,
    name: 'isolation-base',
    label: 'no fault',
  });
  const deadOrigin = p.deadOrigin === 'separate' ? await ctx.receiver.addOrigin() : ctx.receiver.origin;
  const fault = await fixedLoad(ctx, {
    scenario: 'isolation',
    group: 'iso-fault',
    specs: [
      ...Array.from({ length: healthy }, (_, i) => ({ url: ctx.receiver.okUrl('iso-fault', i) })),
      ...Array.from({ length: p.dead }, (_, i) => ({
        url: ctx.receiver.hangUrl('iso-dead', i, deadOrigin),
        timeoutMs: p.deadTimeoutMs,
      })),
    ],
    healthy,
    ratePerSecond: p.ratePerSecond,
    warmupMs: p.warmupMs,
    durationMs: p.durationMs,
    name: 'isolation-fault',
    label: 'with dead webhooks',
  });
  const dead = await ctx.receiver.report('iso-dead');
  await ctx.receiver.drop(['iso-dead']);
  ctx.log(`  the dead webhooks were called ${dead.requests} times (${p.deadOrigin} origin)`);
  const share = Math.round((p.dead / p.webhooks) * 100);
  const b = base.report.latency.p99;
  const f = fault.report.latency.p99;
  const load = `${p.webhooks} webhooks, ${p.ratePerSecond} events/s`;
  ctx.rows.push(
    maxRow('isolation', `p99 of ${healthy} healthy webhooks, no fault (${load})`, b, 'ms', null),
    maxRow('isolation', `same, ${p.dead} (${share} %) never answer, timeout ${p.deadTimeoutMs} ms`, f, 'ms', null),
    maxRow('isolation', 'p99 with dead ÷ p99 without', b === null || f === null || b === 0 ? null : f / b, '×', 1.2),
  );
}
