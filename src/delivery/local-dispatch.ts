/**
 * The hand-over between an API and a worker in the same process (`--role all`): deliveries a publish writes already
 * leased to the local worker, when its hand-over budget has room for them, and gives to it on commit. Everything else
 * takes the durable queue. Implemented by `DeliveryEngine.dispatch`; used by the publish service.
 */
import type { Job } from './executor.js';

export interface LocalDispatch {
  /** The lease owner written on handed-over rows. */
  readonly workerId: string;
  leaseMs(): number;
  /** Room for one more job holding `bytes` of payload, taken now (false: write the delivery pending). */
  reserve(bytes: number): boolean;
  /** A reservation whose job will not come (its transaction failed). */
  unreserve(bytes: number): void;
  /** Committed: the jobs whose room was reserved, each with the bytes its reservation took. */
  accept(jobs: ReadonlyArray<{ job: Job; bytes: number }>): void;
}

/** A reservation: the lease its delivery row is written with, and the room it took. */
export interface HandOverLease {
  owner: string;
  expiresAt: number;
  bytes: number;
}

/**
 * Webhooks whose deliveries one transaction may hand over: their rows are loaded in the publishing transaction, so a
 * wide fan-out hands over its first few hundred webhooks' calls (which gain little from skipping the queue) instead
 * of delaying the publish's answer by loading thousands.
 */
const MAX_WEBHOOKS_PER_WRITE = 256;

/**
 * One transaction's hand-overs: reserved as rows are assembled, given to the worker after the commit, or given back
 * when the transaction fails. Without a local worker it takes nothing.
 */
export class HandOff {
  private readonly jobs: Array<{ job: Job; bytes: number }> = [];
  /** Reservations whose job has not been added. */
  private readonly open = new Set<HandOverLease>();
  private readonly webhooks = new Set<string>();
  /** Deliveries waiting for their webhook's row (`attachWebhooks`), with the room they took. */
  private readonly unattached: Array<{ job: Omit<Job, 'webhook'>; bytes: number }> = [];
  /**
   * Some delivery went to the queue that the local worker may take at once — a batch, a FIFO delivery, or one the
   * hand-over budget had no room for (claims have room of their own): the worker should look now.
   */
  queuedClaimable = false;

  constructor(private readonly dispatch: LocalDispatch | null) {}

  /** The lease for a row of `webhookId` whose event holds `bytes` of payload, or null when it takes the queue. */
  lease(webhookId: string, now: number, bytes: number): HandOverLease | null {
    const { dispatch } = this;
    if (
      dispatch === null ||
      (!this.webhooks.has(webhookId) && this.webhooks.size >= MAX_WEBHOOKS_PER_WRITE) ||
      !dispatch.reserve(bytes)
    ) {
      this.queuedClaimable = true;
      return null;
    }
    this.webhooks.add(webhookId);
    const lease = { owner: dispatch.workerId, expiresAt: now + dispatch.leaseMs(), bytes };
    this.open.add(lease);
    return lease;
  }

  /** A delivery that must take the queue (a batch, FIFO order): the worker should look at once. */
  queue(): void {
    this.queuedClaimable = true;
  }

  /** A delivery written with `lease`; `attachWebhooks` loads its webhook row (one query for a whole publish). */
  add(job: Omit<Job, 'webhook'>, lease: HandOverLease): void {
    this.open.delete(lease);
    this.unattached.push({ job, bytes: lease.bytes });
  }

  /** Loads the webhook rows of deliveries added without them, inside the publishing transaction. */
  async attachWebhooks(load: (ids: string[]) => Promise<Array<Job['webhook'] & { id: string }>>): Promise<void> {
    if (this.unattached.length === 0) return;
    const rows = await load([...new Set(this.unattached.map((j) => j.job.delivery.webhook_id))]);
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const { job, bytes } of this.unattached)
      this.jobs.push({ job: { ...job, webhook: byId.get(job.delivery.webhook_id) }, bytes });
    this.unattached.length = 0;
  }

  /** Hands the jobs over on the next turn of the event loop: the publish answers first, then the calls start. */
  committed(): void {
    const { dispatch } = this;
    const jobs = this.jobs.splice(0);
    this.giveBackOpen();
    this.webhooks.clear();
    if (dispatch !== null && jobs.length > 0) setImmediate(() => dispatch.accept(jobs));
  }

  failed(): void {
    this.giveBackOpen();
    for (const { bytes } of [...this.jobs, ...this.unattached]) this.dispatch?.unreserve(bytes);
    this.jobs.length = 0;
    this.unattached.length = 0;
    this.webhooks.clear();
  }

  /** Reservations no delivery was added for. */
  private giveBackOpen(): void {
    for (const { bytes } of this.open) this.dispatch?.unreserve(bytes);
    this.open.clear();
  }
}
