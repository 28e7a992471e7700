/**
 * The worker loop. It does no I/O itself: claiming and running are injected (pg-boss `worker.ts`), so the loop's
 * scheduling — global and per-webhook caps, wake-ups, sleeping until the next due time — is tested without a database
 * and the claims are tested against real ones.
 *
 * One slow endpoint cannot delay the others: the claim takes no more of a webhook's deliveries than its free slots
 * (`perWebhookConcurrency` minus what is in flight here), so its backlog stays in the database while other
 * webhooks' work is claimed and run.
 */
export interface LoopJob {
  webhookId: string;
}

export interface WorkerPorts<J extends LoopJob> {
  /** At most `limit` jobs, and per webhook no more than its free slots given what is `inFlight` here. */
  claim(limit: number, inFlight: ReadonlyMap<string, number>): Promise<J[]>;
  run(job: J): Promise<void>;
  /** Epoch ms of the next pending delivery, or null when none. */
  nextDueAt(): Promise<number | null>;
  onWake(listener: () => void): () => void;
  onError(err: unknown): void;
  now(): number;
}

export interface LoopOptions {
  concurrency: number;
  perWebhookConcurrency: number;
  pollIntervalMs: number;
}

export class WorkerLoop<J extends LoopJob> {
  private running = false;
  private inFlight = 0;
  private readonly perWebhook = new Map<string, number>();
  private wakeUp: (() => void) | null = null;
  private woken = false;
  private loopDone: Promise<void> | null = null;
  private readonly active = new Set<Promise<void>>();
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly ports: WorkerPorts<J>,
    private readonly opts: LoopOptions,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.unsubscribe = this.ports.onWake(() => this.wake());
    this.loopDone = this.loop();
  }

  /** Stops claiming, then waits for the calls in flight to finish and be recorded. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.unsubscribe?.();
    this.wake();
    await this.loopDone;
    await Promise.allSettled([...this.active]);
  }

  get inFlightCount(): number {
    return this.inFlight;
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
      const free = this.opts.concurrency - this.inFlight;
      let claimed: J[] = [];
      if (free > 0) {
        try {
          claimed = await this.ports.claim(free, this.perWebhook);
        } catch (err) {
          this.ports.onError(err);
        }
      }
      for (const job of claimed) this.launch(job);
      // A full claim means more may be waiting: go again at once.
      if (claimed.length > 0 && claimed.length === free) continue;
      if (!this.running) break;
      // Nothing (more) claimable now: sleep until the next due time, a wake-up (new work, a freed slot) or the poll.
      // Work that is due but was not claimed belongs to saturated webhooks: a freed slot wakes us for it.
      await this.sleep(
        free > 0 && claimed.length > 0 ? 0 : free > 0 ? await this.idleDelay() : this.opts.pollIntervalMs,
      );
    }
  }

  private async idleDelay(): Promise<number> {
    try {
      const due = await this.ports.nextDueAt();
      if (due === null) return this.opts.pollIntervalMs;
      const wait = due - this.ports.now();
      // Due already yet not claimed: it belongs to a saturated webhook (or another worker has it); wait for a slot.
      return wait <= 0 ? this.opts.pollIntervalMs : Math.min(this.opts.pollIntervalMs, wait);
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

  private launch(job: J): void {
    this.inFlight++;
    this.perWebhook.set(job.webhookId, (this.perWebhook.get(job.webhookId) ?? 0) + 1);
    const p = this.ports
      .run(job)
      .catch((err: unknown) => this.ports.onError(err))
      .finally(() => {
        this.inFlight--;
        const n = (this.perWebhook.get(job.webhookId) ?? 1) - 1;
        if (n <= 0) this.perWebhook.delete(job.webhookId);
        else this.perWebhook.set(job.webhookId, n);
        this.active.delete(p);
        // A freed slot may let waiting work (or a saturated webhook's backlog) be claimed.
        this.wake();
      });
    this.active.add(p);
  }
}
