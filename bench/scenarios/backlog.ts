/**
 * A deep queue: N due deliveries written by a `--role api` process alone (nothing delivers them), then a
 * `--role worker` process starts on the same SQLite file (the API process stays up, idle). Its delivery rate is compared with the throughput scenario's
 * (a queue that never grew), and its peak RSS (`VmHWM`) is read before it stops.
 */
import { nowMs } from '../lib/clock.js';
import {
  awaitAndVerify,
  type Ctx,
  dataDir,
  fmtNumber,
  hooklineEnv,
  infoRow,
  maxRow,
  publishInBatches,
  startWithTenant,
  throttledLog,
} from '../lib/context.js';
import { createWebhooks, failedAttempts } from '../lib/hookline-api.js';
import { peakRssBytes, startHookline } from '../lib/processes.js';

export async function backlog(ctx: Ctx): Promise<void> {
  const p = ctx.params.backlog;
  const env = hooklineEnv(ctx, { dataDir: dataDir(ctx, 'backlog') });
  const api = await startWithTenant(ctx, 'api', env);
  const group = 'bl';
  const ids = await createWebhooks(api.tenant, [{ url: ctx.receiver.okUrl(group, 0) }]);
  await ctx.receiver.expect(group, 1, p.deliveries);
  ctx.log(`  queueing ${p.deliveries.toLocaleString('en-US')} deliveries with --role api only`);
  const pub = await publishInBatches(api.tenant, {
    count: p.deliveries,
    batchSize: p.batchSize,
    inFlight: p.batchesInFlight,
    deliveriesPerEvent: 1,
    onProgress: throttledLog(ctx, 'queued', p.deliveries, 10_000),
  });
  const fillRate = (p.deliveries * 1000) / (pub.finishedAt - pub.startedAt);
  ctx.log(`  queued in ${Math.round(pub.finishedAt - pub.startedAt)} ms (${fmtNumber(fillRate)}/s)`);
  // The API process stays up, idle (nothing publishes now), as it would in a deployment; it answers the attempt-log
  // lookups should deliveries go missing.
  const [early] = await ctx.receiver.progress([group]);
  const deliveredByApi = early?.requests ?? 0;
  if (deliveredByApi > 0) {
    // `--role api` must not deliver: the figure below would not be a drain of N queued deliveries.
    ctx.checks.push({
      scenario: 'backlog',
      what: 'no delivery while only --role api runs',
      expected: 0,
      delivered: 0,
      lost: 0,
      unfinished: false,
      redeliveries: 0,
      duplicateDeliveries: 0,
      unexpected: deliveredByApi,
      publishErrors: 0,
      ok: false,
      notes: [`${deliveredByApi} requests arrived before any worker ran`],
    });
    ctx.log(`  ✗ ${deliveredByApi} deliveries arrived with no worker running`);
  }

  const spawnedAt = nowMs();
  const worker = await startHookline(ctx.res, 'worker', env);
  ctx.log(`  worker ready after ${Math.round(worker.readyAt - spawnedAt)} ms`);
  const r = await awaitAndVerify(ctx, {
    scenario: 'backlog',
    what: `${p.deliveries.toLocaleString('en-US')} queued deliveries × 1 webhook`,
    group,
    expected: p.deliveries,
    publishErrors: pub.wrongFanOut,
    maxWaitMs: p.drainLimitMs,
    diagnose: () => failedAttempts(api.tenant, ids),
  });
  const rss = peakRssBytes(worker.child.pid);
  await worker.stop();
  await api.proc.stop();
  await ctx.receiver.drop([group]);

  // The worker claims as soon as it is up, possibly before its ready line was read.
  const from = Math.min(worker.readyAt, r.firstAt ?? worker.readyAt);
  const rate = r.lastAt === null ? null : (r.filled * 1000) / (r.lastAt - from);
  const emptyQueue = ctx.figures.get('throughput');
  const ratio = rate === null || emptyQueue === undefined ? null : rate / emptyQueue;
  ctx.rows.push(
    {
      scenario: 'backlog',
      figure: `delivered/s draining ${p.deliveries.toLocaleString('en-US')} (1 webhook, fresh worker)${r.missing > 0 ? `, unfinished: ${r.filled.toLocaleString('en-US')} delivered` : ''}`,
      value: rate,
      unit: 'deliveries/s',
      reference:
        emptyQueue === undefined
          ? 'target ≥ 90 % of throughput (not run)'
          : `throughput ${fmtNumber(emptyQueue)}/s; target ≥ 90 %`,
      ratio,
      met: ratio === null ? null : ratio >= 0.9,
    },
    maxRow('backlog', 'worker peak RSS (VmHWM)', rss === null ? null : rss / (1024 * 1024), 'MB', 300),
    infoRow('backlog', 'queue fill, batch publish with --role api (info)', fillRate, 'events/s'),
  );
}
