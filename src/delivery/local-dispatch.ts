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

/**
 * One transaction's hand-overs: reserved as rows are assembled, given to the worker after the commit, or given back
 * when the transaction fails. Without a local worker it takes nothing.
 */
export class HandOff {
  private readonly jobs: Job[] = [];
  private readonly reserved: string[] = [];

  constructor(private readonly dispatch: LocalDispatch | null) {}

  /** The lease for a row of `webhookId`, or null when it goes through the queue. */
  lease(webhookId: string, now: number): { owner: string; expiresAt: number } | null {
    if (this.dispatch === null || !this.dispatch.reserve(webhookId)) return null;
    this.reserved.push(webhookId);
    return { owner: this.dispatch.workerId, expiresAt: now + this.dispatch.leaseMs() };
  }

  add(job: Job): void {
    this.jobs.push(job);
  }

  committed(): void {
    if (this.dispatch !== null && this.jobs.length > 0) this.dispatch.accept(this.jobs);
    this.reserved.length = 0;
  }

  failed(): void {
    for (const webhookId of this.reserved) this.dispatch?.unreserve(webhookId);
    this.reserved.length = 0;
    this.jobs.length = 0;
  }
}
