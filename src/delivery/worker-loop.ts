/**
 * The worker loop. It does no I/O itself: claiming and running are injected (pg-boss `worker.ts`), so the loop's
 * scheduling — global and per-webhook caps, prefetch, wake-ups, sleeping until the next due time — is tested
 * without a database, and the claims are tested against real ones.
 *
 * Glossary:
 * - running: calls handed to the sender (at most `concurrency` in all, `perWebhookConcurrency` per webhook, times
 *   `launchAhead`: a sender that applies those caps itself takes more, and starts them as its calls end);
 * - held: running plus prefetched (claimed, leased, waiting here for a slot of their webhook). A webhook may hold up
 *   to `perWebhookConcurrency × prefetch`, so when a call finishes the next one starts without a database round trip.
 * - recording: claimed jobs whose call has ended, until their attempt is recorded. They no longer count against their
 *   webhook's hold, only against the worker's total (`concurrency × prefetch`, with the held ones).
 * - handed over: jobs a publish in this process wrote already leased here (`reserve`). They wait in their webhook's
 *   lane like held jobs, but are not held: they have a budget of their own, so claims go on as if they were not here.
 *
 * One slow endpoint cannot delay the others: the claim takes no more of a webhook's deliveries than it may still
 * hold, so a slow webhook's backlog stays in the database while other webhooks' work is claimed and run.
 */
import { LaneScheduler } from './lane-scheduler.js';

/** A claim this large may have been cut short by its window: claim again without waiting. */
const RECLAIM_AT_ONCE = 200;
/** How soon the loop looks again at due work it could not claim. */
const DUE_RECHECK_MS = 100;

export interface LoopJob {
  webhookId: string;
  /** The least time between two calls of this job's webhook (its `rateLimitPerSecond`); 0 or absent: no pacing. */
  minIntervalMs?: number;
}

export interface WorkerPorts<J extends LoopJob> {
  /** At most `limit` jobs, and per webhook no more than `perWebhookHold` minus what it already `held` here. */
  claim(
    limit: number,
    held: ReadonlyMap<string, number>,
    perWebhookHold: number,
    /** Webhooks held here that filled their hold (so likely have a backlog): worth topping up first. */
    backlogged: ReadonlySet<string>,
  ): Promise<J[]>;
  /**
   * Runs a job. `callDone` frees the job's call slot before `run` settles: a delivery whose HTTP call has ended no
   * longer occupies its endpoint while its attempt is recorded, so the next call starts at once (recording waits for a
   * group commit). The job leaves its webhook's hold then, and counts against the total until `run` settles.
   */
  run(job: J, callDone: () => void): Promise<void>;
  /** Hands back claimed jobs that were never started (at stop), so another worker can take them at once. */
  release(jobs: J[]): Promise<void>;
  /**
   * At stop: calls handed to the sender but not started there end unsent, and their runs release them (see
   * `RequestSender.withdraw`), so stopping waits only for calls in progress.
   */
  withdraw?(): void;
  /** Epoch ms of the next pending delivery, or null when none. */
  nextDueAt(): Promise<number | null>;
  onWake(listener: () => void): () => void;
  onError(err: unknown): void;
  now(): number;
}

export interface LoopOptions {
  concurrency: number;
  perWebhookConcurrency: number;
  /** How many rounds of a webhook's slots may wait here, claimed; 1 disables prefetch. */
  prefetch?: number;
  /** Rounds of the caps on running calls handed to the sender at once (`RequestSender.launchAhead`); default 1 each. */
  launchAhead?: { perWebhook: number; total: number };
  /** The most hand-overs (`reserve`) held at once, in jobs and in payload bytes; default none. */
  handOver?: { maxJobs: number; maxBytes: number };
  pollIntervalMs: number;
}

export class WorkerLoop<J extends LoopJob> {
  private running = false;
  private heldCount = 0;
  /** Claimed jobs whose call ended, until their attempt is recorded: they count against the total, not the holds. */
  private recording = 0;
  private readonly heldPer = new Map<string, number>();
  /** Running jobs and those waiting for a slot of their webhook (or of the worker). */
  private readonly calls: LaneScheduler<J>;
  /** Webhooks whose hold here filled up (claims left the rest of their due work queued), until they hold none. */
  private readonly backlogged = new Set<string>();
  private wakeUp: (() => void) | null = null;
  private woken = false;
  private loopDone: Promise<void> | null = null;
  private readonly active = new Set<Promise<void>>();
  private unsubscribe: (() => void) | null = null;
  private readonly prefetch: number;
  /** What one webhook may hold (`perWebhookConcurrency × prefetch`), and the worker in all (`concurrency × prefetch`). */
  private readonly hold: number;
  private readonly maxHeld: number;
  /** The cap on running calls in all: the options' times `launchAhead`. */
  private readonly maxRunning: number;
  /** Reserved and accepted hand-overs (`reserve`), against their budget. */
  private readonly handOver: { jobs: number; bytes: number; maxJobs: number; maxBytes: number };
  /** Accepted hand-overs not yet ended, with the bytes each reserved. */
  private readonly handedOver = new Map<J, number>();

  constructor(
    private readonly ports: WorkerPorts<J>,
    private readonly opts: LoopOptions,
  ) {
    this.prefetch = Math.max(1, opts.prefetch ?? 1);
    this.hold = opts.perWebhookConcurrency * this.prefetch;
    this.maxHeld = opts.concurrency * this.prefetch;
    this.handOver = { jobs: 0, bytes: 0, ...(opts.handOver ?? { maxJobs: 0, maxBytes: 0 }) };
    const perWebhookAhead = Math.max(1, opts.launchAhead?.perWebhook ?? 1);
    this.maxRunning = opts.concurrency * Math.max(1, opts.launchAhead?.total ?? 1);
    this.calls = new LaneScheduler<J>(
      { perLane: opts.perWebhookConcurrency * perWebhookAhead, total: this.maxRunning },
      (job, done) => this.launch(job, done),
    );
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.unsubscribe = this.ports.onWake(() => this.wake());
    this.loopDone = this.loop();
  }

  /**
   * Stops claiming, hands back prefetched jobs that have not started (so stopping does not wait for a backlog), and
   * waits for every call in progress to finish and be recorded.
   */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    // Prefetched jobs are handed back, not started; so are calls the sender holds but has not started.
    this.calls.pause();
    this.ports.withdraw?.();
    this.unsubscribe?.();
    this.wake();
    await this.loopDone;
    const unstarted = this.calls.takeWaiting();
    for (const job of unstarted) this.letGo(job);
    if (unstarted.length > 0) {
      try {
        await this.ports.release(unstarted);
      } catch (err) {
        // Their leases expire and they are reclaimed; nothing is lost.
        this.ports.onError(err);
      }
    }
    while (this.active.size > 0) await Promise.allSettled([...this.active]);
  }

  get inFlightCount(): number {
    return this.calls.inProgress;
  }

  private wake(): void {
    this.woken = true;
    const w = this.wakeUp;
    this.wakeUp = null;
    w?.();
  }

  private async loop(): Promise<void> {
    while (this.running) {
      this.woken = false;
      const room = this.maxHeld - this.heldCount - this.recording;
      let claimed: J[] = [];
      if (room > 0) {
        try {
          claimed = await this.ports.claim(room, this.heldPer, this.hold, this.backlogged);
        } catch (err) {
          this.ports.onError(err);
        }
      }
      for (const job of claimed) this.accept(job);
      // A full claim, or a large one (a claim reads a bounded window), means more may be waiting: go again at once.
      // A small partial claim took what it could; the next finished call or new work wakes the loop.
      if (claimed.length > 0 && (claimed.length === room || claimed.length >= RECLAIM_AT_ONCE)) continue;
      if (!this.running) break;
      // Nothing (more) claimable now: sleep until the next due time, a wake-up (new work, a freed slot) or the poll.
      // Work that is due but was not claimed belongs to webhooks holding all they may: a freed slot wakes us.
      await this.sleep(room > 0 ? await this.idleDelay() : this.opts.pollIntervalMs);
    }
  }

  private async idleDelay(): Promise<number> {
    try {
      const due = await this.ports.nextDueAt();
      if (due === null) return this.opts.pollIntervalMs;
      const wait = due - this.ports.now();
      // Due work this claim could not take (its webhooks hold all they may, or it lay past a crowded window): look
      // again soon, even if no call finishes to wake the loop.
      return wait <= 0 ? Math.min(this.opts.pollIntervalMs, DUE_RECHECK_MS) : Math.min(this.opts.pollIntervalMs, wait);
    } catch (err) {
      this.ports.onError(err);
      return this.opts.pollIntervalMs;
    }
  }

  /**
   * Always a real timer, never a resolved promise: with a synchronous driver (better-sqlite3) every query settles as a
   * microtask, and a loop that only awaits microtasks would starve the HTTP sockets and timers of this process.
   */
  private sleep(ms: number): Promise<void> {
    if (this.woken || ms <= 0) return new Promise((resolve) => setImmediate(resolve));
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wakeUp = null;
        resolve();
      }, ms);
      this.wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private accept(job: J): void {
    this.heldCount++;
    this.holdOne(job.webhookId);
    this.calls.push(job.webhookId, job, job.minIntervalMs);
  }

  private holdOne(webhookId: string): void {
    bump(this.heldPer, webhookId, 1);
    if ((this.heldPer.get(webhookId) ?? 0) >= this.hold) {
      this.backlogged.add(webhookId);
    }
  }

  private releaseOne(webhookId: string): void {
    bump(this.heldPer, webhookId, -1);
    if (!this.heldPer.has(webhookId)) this.backlogged.delete(webhookId);
  }

  /**
   * Direct hand-over (an API in this process publishing): reserves room for one job holding `bytes` of payload before
   * its delivery row is written, already leased to this worker. False when the hand-overs' own budget is spent or the
   * loop is stopping: the delivery is then written pending, for a claim.
   *
   * Hand-overs are not claims: they take none of the claims' room (the worker's and each webhook's hold), so a webhook
   * with thousands handed over here still has its queued work — retries, what a full budget sent to the queue — claimed
   * as before, and other webhooks' work is claimed whatever this one holds. They wait in their webhook's lane, which
   * keeps the webhook to its concurrency; what bounds them is memory, hence a budget of jobs and of payload bytes.
   */
  reserve(bytes: number): boolean {
    const { handOver } = this;
    if (!this.running || handOver.jobs >= handOver.maxJobs || handOver.bytes + bytes > handOver.maxBytes) return false;
    handOver.jobs++;
    handOver.bytes += bytes;
    return true;
  }

  /** Gives back a reservation whose job will not come (its transaction failed). */
  unreserve(bytes: number): void {
    this.handOver.jobs--;
    this.handOver.bytes -= bytes;
  }

  /**
   * Takes a reserved job whose delivery row is committed, with the bytes its reservation took. Stopping meanwhile: it
   * is handed back to the queue.
   */
  acceptReserved(job: J, bytes: number): void {
    if (this.running) {
      this.handedOver.set(job, bytes);
      this.calls.push(job.webhookId, job, job.minIntervalMs);
      return;
    }
    this.unreserve(bytes);
    this.ports.release([job]).catch((err: unknown) => this.ports.onError(err));
  }

  /** Counts a job that ends here out of what holds it: the hand-over budget, or the claims' hold. */
  private letGo(job: J): 'handed' | 'claimed' {
    const bytes = this.handedOver.get(job);
    if (bytes !== undefined) {
      this.handedOver.delete(job);
      this.unreserve(bytes);
      return 'handed';
    }
    this.heldCount--;
    this.releaseOne(job.webhookId);
    return 'claimed';
  }

  /** A claim for this webhook can bring something: its prefetch ran down to half (or there is no prefetch). */
  private holdsLittle(webhookId: string): boolean {
    return this.prefetch === 1 || (this.heldPer.get(webhookId) ?? 0) <= this.hold / 2;
  }

  /**
   * Runs a job the scheduler started; `done` frees its slot and starts the next waiting job. A claimed job leaves its
   * webhook's hold when its call ends, not when its attempt is recorded: recording waits for a group commit, which on
   * PostgreSQL is several round trips, and a hold still counting the calls that ended meanwhile started the next
   * claim late, so the sender ran dry between claims. Until recorded, the job still counts against the worker's total
   * (`recording`), which bounds what waits here for the database.
   */
  private launch(job: J, done: () => void): void {
    const claimed = !this.handedOver.has(job);
    let slotFreed = false;
    const freeSlot = () => {
      if (slotFreed) return;
      slotFreed = true;
      const wasFull = this.calls.inProgress >= this.maxRunning;
      done();
      if (claimed) {
        this.heldCount--;
        this.recording++;
        this.releaseOne(job.webhookId);
      }
      // Claim again when it can bring something: this webhook's prefetch ran down to half. (Waking on every finished
      // call would run a claim per delivery.)
      if (wasFull || (claimed && this.holdsLittle(job.webhookId))) this.wake();
    };
    const p = this.ports
      .run(job, freeSlot)
      .catch((err: unknown) => this.ports.onError(err))
      .finally(() => {
        freeSlot();
        this.active.delete(p);
        if (!claimed) {
          // A hand-over's end frees no claim room: nothing to claim for.
          this.letGo(job);
          return;
        }
        this.recording--;
        // Claim again now too: the worker's total was full, or the webhook still holds little. A FIFO webhook's next
        // delivery becomes claimable only once this one is recorded, so the claim its call's end started found
        // nothing (without this, the next waited for the due-work recheck: 200 FIFO deliveries took 20.5 s, not 2.3).
        if (this.heldCount + this.recording + 1 >= this.maxHeld || this.holdsLittle(job.webhookId)) this.wake();
      });
    this.active.add(p);
  }
}

function bump(map: Map<string, number>, key: string, by: number): void {
  const n = (map.get(key) ?? 0) + by;
  if (n <= 0) map.delete(key);
  else map.set(key, n);
}
