/**
 * The delivery engine of one process: the worker loop over the durable queue, the HTTP sender, and the maintenance
 * timers (expired-lease recovery, retention). Started by `hookline serve` for the worker and all roles.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config/config.js';
import type { Db } from '../db/connect.js';
import { withDirect } from '../db/raw-sql.js';
import { callRowsStatement, type WebhookCallRow } from '../db/repos/webhooks-repo.js';
import {
  claimDueDeliveries,
  MAX_TOP_UPS,
  nextDueAt,
  reclaimExpiredLeases,
  releaseClaims,
  renewLeases,
} from '../queue/claim-due-deliveries.js';
import type { Notifier } from '../queue/notifier.js';
import { type DeliveryExecutor, type Job, minIntervalMs } from './executor.js';
import type { LocalDispatch } from './local-dispatch.js';
import { pruneExpired } from './retention.js';
import { WorkerLoop } from './worker-loop.js';

type LoopJobOf = Job & { webhookId: string; minIntervalMs: number };

function loopJob(job: Job): LoopJobOf {
  return { ...job, webhookId: job.delivery.webhook_id, minIntervalMs: minIntervalMs(job.webhook) };
}

const PRUNE_INTERVAL_MS = 10 * 60_000;
/**
 * Rounds of a webhook's slots claimed ahead; leases are renewed while held, so waiting here never expires them. A
 * claim starts when a webhook holds half of this: the other half must cover the calls made while the claim takes its
 * round trips — 10 left a PostgreSQL worker starved between claims (1 460 → 1 860 deliveries/s with 20). On
 * PostgreSQL a claim is five round trips of 2-12 ms under load, so it holds twice as much (one worker, three
 * alternating pairs: 2 534, 2 117, 1 913/s with 20; 2 962, 3 079, 2 560/s with 40). Calls that ended no longer hold
 * their place while their attempts are recorded (`worker-loop.ts`); 40 still beat 20 after that (two runs each:
 * 6 137 / 5 924 with 20, 6 794-6 909/s with 40).
 */
const PREFETCH = { sqlite: 20, postgres: 40 } as const;
/**
 * What a publish in this process may hand over to this worker at once (`dispatch`): jobs, and bytes of their events'
 * payloads, which they keep in memory until their calls are made (about 1.6 KB a job with a 1 KB payload: 20 000 jobs
 * are about 32 MB). A 20 000-event burst to one webhook then skips the queue whole; a hand-over of 200 per webhook
 * (the claims' hold) had most of it claimed from the queue, which cost a fifth of the main thread (claim update,
 * events reload).
 */
const HAND_OVER = { maxJobs: 20_000, maxBytes: 32 * 1024 * 1024 } as const;
/** How often a claim may look past webhooks crowding its window for other webhooks' due work. */
const LOOK_PAST_INTERVAL_MS = 100;
/**
 * After a claim found due work for a few webhooks only, how long later claims only top those up by their own index —
 * unless new work is announced first (a publish, a release, a recovered lease). What can become due unannounced
 * meanwhile is another webhook's retry, which then waits at most this long. On PostgreSQL the skipped queries were two
 * round trips of 2-8 ms per claim while one webhook's backlog was drained, all finding nothing.
 */
const OTHERS_QUIET_MS = 500;

export interface EngineDeps {
  db: Db;
  config: Config;
  executor: DeliveryExecutor;
  notifier: Notifier;
  logger: Pick<FastifyBaseLogger, 'error' | 'info' | 'warn'>;
  now?: () => number;
}

export class DeliveryEngine {
  readonly workerId = `wrk_${randomUUID()}`;
  private readonly executor: DeliveryExecutor;
  private readonly loop: WorkerLoop<LoopJobOf>;
  private timers: NodeJS.Timeout[] = [];
  private stopped = false;
  private readonly now: () => number;

  constructor(private readonly deps: EngineDeps) {
    this.now = deps.now ?? Date.now;
    const d = deps.config.delivery;
    this.executor = deps.executor;
    this.loop = new WorkerLoop<LoopJobOf>(
      {
        claim: async (limit, held, perWebhookHold, backlogged) => {
          const now = this.now();
          const look = this.announced || now >= this.quiet.until;
          this.announced = false;
          // Quiet: top up the webhooks the last look found due work for, as well as those that filled their hold.
          const topUp = look ? backlogged : new Set([...backlogged, ...this.quiet.webhooks]);
          const rows = await claimDueDeliveries(deps.db, {
            workerId: this.workerId,
            limit,
            now,
            leaseMs: d.leaseSeconds * 1000,
            held,
            perWebhookHold,
            topUp,
            lookPast: this.mayLookPast(),
            others: look,
          });
          if (look) {
            // A whole look, not cut short by its limit, that found due work for few webhooks: until told of new work,
            // only those are asked for more.
            const due = new Set([...backlogged, ...rows.map((r) => r.webhook_id)]);
            this.quiet =
              rows.length < limit && due.size <= MAX_TOP_UPS
                ? { until: now + OTHERS_QUIET_MS, webhooks: due }
                : { until: 0, webhooks: new Set() };
          }
          return (await this.executor.load(rows)).map(loopJob);
        },
        run: async (job, callDone) => {
          await this.executor.execute(job, this.workerId, { onCallDone: callDone });
        },
        release: async (jobs) => {
          await releaseClaims(
            deps.db,
            this.workerId,
            jobs.map((j) => j.delivery.id),
            this.now(),
          );
          if (jobs.length > 0) await deps.notifier.wakeAll();
        },
        withdraw: () => this.executor.withdraw(),
        nextDueAt: () => nextDueAt(deps.db),
        onWake: (l) =>
          deps.notifier.onWake(() => {
            this.announced = true;
            l();
          }),
        onError: (err) => deps.logger.error({ err }, 'delivery worker error'),
        now: this.now,
      },
      {
        concurrency: d.concurrency,
        perWebhookConcurrency: d.perWebhookConcurrency,
        prefetch: PREFETCH[deps.db.dialect],
        launchAhead: deps.executor.launchAhead,
        handOver: HAND_OVER,
        pollIntervalMs: d.pollIntervalMs,
      },
    );
  }

  /**
   * Direct hand-over for an API in this process: a publish reserves room here, writes the delivery already leased to
   * this worker, and hands the job over when its transaction commits — no claim query, no reload of what the publish
   * has in memory. A crash before the call leaves a leased row that the lease expiry gives back to the queue.
   */
  readonly dispatch: LocalDispatch = {
    workerId: this.workerId,
    leaseMs: () => this.deps.config.delivery.leaseSeconds * 1000,
    reserve: (bytes) => this.loop.reserve(bytes),
    unreserve: (bytes) => this.loop.unreserve(bytes),
    accept: (jobs) => {
      for (const { job, bytes } of jobs) this.loop.acceptReserved(loopJob(job), bytes);
    },
    loadCallRows: (tenantId, ids) =>
      withDirect(this.deps.db, async (k, direct) => {
        const q = callRowsStatement(this.deps.db.dialect, ids, tenantId);
        return (await q.run<WebhookCallRow>(k, direct)).rows;
      }),
    lateFailed: (err) =>
      this.deps.logger.error(
        { err },
        'handing deliveries over after a publish failed; they are claimed when their leases expire',
      ),
  };

  private lastLookPast = 0;
  /** Until when claims only top up these webhooks (see `OTHERS_QUIET_MS`). */
  private quiet: { until: number; webhooks: ReadonlySet<string> } = { until: 0, webhooks: new Set() };
  /** New work was announced since the last claim began. */
  private announced = false;

  /** A crowded claim looks past its crowding backlog at most every LOOK_PAST_INTERVAL_MS. */
  private mayLookPast(): boolean {
    const now = this.now();
    if (now - this.lastLookPast < LOOK_PAST_INTERVAL_MS) return false;
    this.lastLookPast = now;
    return true;
  }

  async start(): Promise<void> {
    await this.deps.notifier.listen((err) => this.deps.logger.error({ err }, 'LISTEN connection error'));
    await this.executor.warmUp();
    const leaseMs = this.deps.config.delivery.leaseSeconds * 1000;
    await this.reclaim();
    // Stopped while starting (a signal during start-up): nothing more to start.
    if (this.stopped) return;
    this.loop.start();
    this.timers.push(setInterval(() => void this.reclaim(), Math.max(1000, Math.floor(leaseMs / 4))));
    this.timers.push(setInterval(() => void this.renew(), Math.max(1000, Math.floor(leaseMs / 3))));
    this.timers.push(setInterval(() => void this.prune(), PRUNE_INTERVAL_MS));
    setImmediate(() => void this.prune());
    for (const t of this.timers) t.unref();
  }

  /** Stops claiming and waits for in-flight calls to be recorded. The sender and database belong to the caller. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await this.loop.stop();
  }

  private async reclaim(): Promise<void> {
    if (this.stopped) return;
    try {
      const n = await reclaimExpiredLeases(this.deps.db, this.now());
      if (n > 0) {
        this.deps.logger.warn({ count: n }, 'reclaimed deliveries whose lease expired (a worker stopped mid-delivery)');
        this.deps.notifier.notifyLocal();
      }
    } catch (err) {
      this.deps.logger.error({ err }, 'lease recovery failed');
    }
  }

  private async renew(): Promise<void> {
    if (this.stopped) return;
    try {
      await renewLeases(this.deps.db, this.workerId, this.now() + this.deps.config.delivery.leaseSeconds * 1000);
    } catch (err) {
      this.deps.logger.error({ err }, 'lease renewal failed');
    }
  }

  private async prune(): Promise<void> {
    if (this.stopped) return;
    try {
      const r = await pruneExpired(this.deps.db, this.now(), this.deps.config.retentionDays);
      if (r.attempts + r.events + r.deliveries > 0)
        this.deps.logger.info({ pruned: r }, 'pruned expired delivery logs');
    } catch (err) {
      this.deps.logger.error({ err }, 'retention pruning failed');
    }
  }
}
