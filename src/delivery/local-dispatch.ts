/**
 * The hand-over between an API and a worker in the same process (`--role all`): deliveries a publish writes already
 * leased to the local worker, when it has room for them, and gives to it on commit. Everything else takes the durable
 * queue. Implemented by `DeliveryEngine.dispatch`; used by the publish service.
 */
import type { Job } from './executor.js';

export interface LocalDispatch {
  /** The lease owner written on handed-over rows. */
  readonly workerId: string;
  leaseMs(): number;
  /** Room for one more job of this webhook, taken now (false: write the delivery pending). */
  reserve(webhookId: string): boolean;
  /** The transaction failed: the reserved job will not come. */
  unreserve(webhookId: string): void;
  /** Committed: the jobs whose room was reserved. */
  accept(jobs: Job[]): void;
}

const MAX_PER_WRITE = 256;

/**
 * One transaction's hand-overs: reserved as rows are assembled, given to the worker after the commit, or given back
 * when the transaction fails. Without a local worker it takes nothing.
 */
export class HandOff {
  private readonly jobs: Job[] = [];
  private readonly reserved: string[] = [];
  /** Deliveries waiting for their webhook's row (`attachWebhooks`). */
  private readonly unattached: Array<Omit<Job, 'webhook'>> = [];
  /**
   * Some delivery went to the queue that the local worker may take at once. A delivery refused for want of room
   * needs no wake-up: the worker claims again when its calls free room, and a wake now would only run a claim that
   * takes nothing — between the publish's commit and the hand-over of the other deliveries, delaying their calls.
   */
  queuedClaimable = false;

  constructor(private readonly dispatch: LocalDispatch | null) {}

  /**
   * The lease for a row of `webhookId`, or null when it goes through the queue. At most `MAX_PER_WRITE` per
   * transaction: a wide fan-out's first few hundred calls gain little from skipping the queue, and handing over
   * thousands would delay the publish's answer by loading their webhooks.
   */
  lease(webhookId: string, now: number): { owner: string; expiresAt: number } | null {
    if (this.dispatch === null || this.reserved.length >= MAX_PER_WRITE) {
      this.queuedClaimable = true;
      return null;
    }
    if (!this.dispatch.reserve(webhookId)) return null;
    this.reserved.push(webhookId);
    return { owner: this.dispatch.workerId, expiresAt: now + this.dispatch.leaseMs() };
  }

  /** A delivery that must take the queue (a batch, FIFO order): the worker should look at once. */
  queue(): void {
    this.queuedClaimable = true;
  }

  /** A leased delivery; `attachWebhooks` loads its webhook row (one query for a whole publish). */
  add(job: Omit<Job, 'webhook'>): void {
    this.unattached.push(job);
  }

  /** Loads the webhook rows of deliveries added without them, inside the publishing transaction. */
  async attachWebhooks(load: (ids: string[]) => Promise<Array<Job['webhook'] & { id: string }>>): Promise<void> {
    if (this.unattached.length === 0) return;
    const rows = await load([...new Set(this.unattached.map((j) => j.delivery.webhook_id))]);
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const j of this.unattached) this.jobs.push({ ...j, webhook: byId.get(j.delivery.webhook_id) });
    this.unattached.length = 0;
  }

  /** Hands the jobs over on the next turn of the event loop: the publish answers first, then the calls start. */
  committed(): void {
    const { dispatch } = this;
    const jobs = this.jobs.splice(0);
    this.reserved.length = 0;
    if (dispatch !== null && jobs.length > 0) setImmediate(() => dispatch.accept(jobs));
  }

  failed(): void {
    for (const webhookId of this.reserved) this.dispatch?.unreserve(webhookId);
    this.reserved.length = 0;
    this.jobs.length = 0;
    this.unattached.length = 0;
  }
}
