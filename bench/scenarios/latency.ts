/**
 * Publish→receipt latency at a fixed rate (one `POST /v1/events` per event, an open loop), and isolation: the healthy
 * webhooks' p99 at a fixed load without faults and with a share of webhooks that never answer.
 */
import { nowMs } from '../lib/clock.js';
import {
  awaitAndVerify,
  type Ctx,
  dataDir,
  hooklineEnv,
  maxRow,
  plural,
  type Running,
  startWithTenant,
} from '../lib/context.js';
import { createWebhooks, failedAttempts, publishOne, type WebhookSpec } from '../lib/hookline-api.js';
import { fixedRate } from '../lib/load.js';
import { benchEvent } from '../lib/payload.js';
import type { GroupReport } from '../lib/receiver-protocol.js';
import { Samples, summarize } from '../lib/stats.js';

/** Connections the harness publishes over: enough that the open loop never queues behind slow answers. */
const PUBLISH_CONNECTIONS = 64;

interface FixedLoadResult {
  report: GroupReport;
  publishP99: number | null;
  publishRate: number;
}

/**
 * One Hookline under a fixed load: webhooks `specs`, of which the first `healthy` (group `group`) are measured and
 * verified; `alsoVerify` names another group of healthy webhooks that is verified but not measured.
 */
interface LoadTarget {
  group: string;
  specs: WebhookSpec[];
  healthy: number;
  name: string;
  label: string;
  alsoVerify?: { group: string; hooks: number };
}

/**
 * Publishes at `ratePerSecond` for `durationMs` to each target's own fresh Hookline: every event goes to all of them
 * at the same moment (in an order that turns with each event), so a slow moment of the shared machine touches every
 * target alike. One result per target, in order.
 */
async function fixedLoad(
  ctx: Ctx,
  o: { scenario: string; targets: LoadTarget[]; ratePerSecond: number; warmupMs: number; durationMs: number },
): Promise<FixedLoadResult[]> {
  const warmup = Math.round((o.ratePerSecond * o.warmupMs) / 1000);
  const events = warmup + Math.round((o.ratePerSecond * o.durationMs) / 1000);
  const runs: Array<{ t: LoadTarget; run: Running; ids: string[]; wrongFanOut: number; errors: number }> = [];
  try {
    for (const t of o.targets) {
      const run = await startWithTenant(
        ctx,
        'all',
        hooklineEnv(ctx, { dataDir: dataDir(ctx, t.name) }),
        PUBLISH_CONNECTIONS,
      );
      runs.push({ t, run, ids: [], wrongFanOut: 0, errors: 0 });
    }
    for (const r of runs) {
      r.ids = await createWebhooks(r.run.tenant, r.t.specs);
      await ctx.receiver.expect(r.t.group, r.t.healthy, events, warmup);
      if (r.t.alsoVerify !== undefined) await ctx.receiver.expect(r.t.alsoVerify.group, r.t.alsoVerify.hooks, events);
      ctx.log(
        `  ${r.t.label}: ${o.ratePerSecond} events/s for ${o.warmupMs / 1000} s (warm-up) + ${o.durationMs / 1000} s to ${plural(r.t.specs.length, 'webhook')}${runs.length > 1 ? ' (the runs side by side)' : ''}`,
      );
    }
    // The answer times, like the receipts' latencies, are of the measured events, not the warm-up's.
    const answers = runs.map(() => new Samples());
    let firstError: string | null = null;
    const load = await fixedRate({
      ratePerSecond: o.ratePerSecond,
      durationMs: o.warmupMs + o.durationMs,
      fire: async (i) => {
        await Promise.all(
          runs.map((_, k) => {
            const at = (i + k) % runs.length;
            const r = runs[at] as (typeof runs)[number];
            const t0 = nowMs();
            return publishOne(r.run.tenant, benchEvent(i, t0)).then(
              (n) => {
                if (i >= warmup) answers[at]?.push(nowMs() - t0);
                if (n !== r.t.specs.length) r.wrongFanOut++;
              },
              (err: unknown) => {
                r.errors++;
                firstError ??= `${r.t.label}: ${String(err)}`;
              },
            );
          }),
        );
      },
    });
    const publishErrors = runs.reduce((n, r) => n + r.errors, 0);
    if (publishErrors > 0) ctx.log(`  ${publishErrors} publishes failed, first: ${firstError ?? ''}`);
    const results: FixedLoadResult[] = [];
    for (const [k, r] of runs.entries()) {
      const { t } = r;
      const report = await awaitAndVerify(ctx, {
        scenario: o.scenario,
        what: `${t.label}: ${events.toLocaleString('en-US')} events × ${plural(t.healthy, 'webhook')}${t.alsoVerify !== undefined ? ' (measured)' : ''}${t.healthy < t.specs.length && t.alsoVerify === undefined ? ' (healthy ones)' : ''}`,
        group: t.group,
        expected: events * t.healthy,
        publishErrors: r.errors + r.wrongFanOut,
        diagnose: () => failedAttempts(r.run.tenant, r.ids.slice(0, t.healthy)),
      });
      await ctx.receiver.drop([t.group]);
      if (t.alsoVerify !== undefined) {
        await awaitAndVerify(ctx, {
          scenario: o.scenario,
          what: `${t.label}: ${events.toLocaleString('en-US')} events × ${plural(t.alsoVerify.hooks, 'webhook')} (the rest)`,
          group: t.alsoVerify.group,
          expected: events * t.alsoVerify.hooks,
          diagnose: () => failedAttempts(r.run.tenant, r.ids.slice(t.healthy)),
        });
        await ctx.receiver.drop([t.alsoVerify.group]);
      }
      results.push({ report, publishP99: summarize(answers[k]?.view() ?? []).p99, publishRate: load.perSecond });
    }
    return results;
  } finally {
    // Hung requests end now rather than at their timeout, so the processes stop at once.
    await ctx.receiver.releaseHanging().catch(() => 0);
    await Promise.all(runs.map((r) => r.run.proc.stop()));
  }
}

export async function latency(ctx: Ctx): Promise<void> {
  const p = ctx.params.latency;
  const [r] = await fixedLoad(ctx, {
    scenario: 'latency',
    targets: [
      { group: 'lat', specs: [{ url: ctx.receiver.okUrl('lat', 0) }], healthy: 1, name: 'latency', label: 'latency' },
    ],
    ratePerSecond: p.ratePerSecond,
    warmupMs: p.warmupMs,
    durationMs: p.durationMs,
  });
  if (r === undefined) return;
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
  // too (verified, not measured); with it they never answer. The two Hooklines run side by side under the same
  // load: one after the other, a p99 of each was mostly the machine's moment (alternating pairs on one machine
  // measured 0.19× to 4.13×), while together a stall of the shared machine delays both.
  const deadOrigin = p.deadOrigin === 'separate' ? await ctx.receiver.addOrigin() : ctx.receiver.origin;
  const [base, fault] = await fixedLoad(ctx, {
    scenario: 'isolation',
    targets: [
      {
        group: 'iso-base',
        specs: [
          ...Array.from({ length: healthy }, (_, i) => ({ url: ctx.receiver.okUrl('iso-base', i) })),
          ...Array.from({ length: p.dead }, (_, i) => ({ url: ctx.receiver.okUrl('iso-base-rest', i) })),
        ],
        healthy,
        alsoVerify: { group: 'iso-base-rest', hooks: p.dead },
        name: 'isolation-base',
        label: 'no fault',
      },
      {
        group: 'iso-fault',
        specs: [
          ...Array.from({ length: healthy }, (_, i) => ({ url: ctx.receiver.okUrl('iso-fault', i) })),
          ...Array.from({ length: p.dead }, (_, i) => ({
            url: ctx.receiver.hangUrl('iso-dead', i, deadOrigin),
            timeoutMs: p.deadTimeoutMs,
          })),
        ],
        healthy,
        name: 'isolation-fault',
        label: 'with dead webhooks',
      },
    ],
    ratePerSecond: p.ratePerSecond,
    warmupMs: p.warmupMs,
    durationMs: p.durationMs,
  });
  if (base === undefined || fault === undefined) return;
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
