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
  /**
   * What calls need of some of a tenant's webhooks, read outside any transaction: the rows of hand-overs past a
   * write's first `MAX_WEBHOOKS_PER_WRITE` webhooks.
   */
  loadCallRows(tenantId: string, ids: string[]): Promise<Array<Job['webhook'] & { id: string }>>;
  /** Those rows could not be read: the deliveries wait out their leases, then any worker claims them. */
  lateFailed(err: unknown): void;
}

/** A reservation: the lease its delivery row is written with, and the room it took. */
export interface HandOverLease {
  owner: string;
  expiresAt: number;
  bytes: number;
}

/**
 * Webhooks whose rows one transaction loads for its hand-overs, inside the transaction; the rows of any further
 * webhooks are loaded after the commit, `LATE_CHUNK` webhooks at a time with a turn of the event loop between, so a
 * wide fan-out answers without waiting for thousands of rows and its calls start while the rest load. They were
 * written pending for a claim before, which for 10 000 webhooks cost the main thread a claim's update (34 µs a row),
 * its reads, and the same row load.
 */
const MAX_WEBHOOKS_PER_WRITE = 256;
const LATE_CHUNK = 500;

type Pending = { job: Omit<Job, 'webhook'>; bytes: number };

/**
 * One transaction's hand-overs: reserved as rows are assembled, given to the worker after the commit, or given back
 * when the transaction fails. Without a local worker it takes nothing.
 */
export class HandOff {
  private readonly jobs: Array<{ job: Job; bytes: number }> = [];
  /** Reservations whose job has not been added. */
  private readonly open = new Set<HandOverLease>();
  /** Deliveries waiting for their webhook's row (`attachWebhooks`), with the room they took. */
  private readonly unattached: Pending[] = [];
  /** Webhooks whose rows the transaction loaded; past `MAX_WEBHOOKS_PER_WRITE`, rows are loaded after the commit. */
  private readonly attached = new Set<string>();
  /** Deliveries whose webhook's row is loaded after the commit, by tenant and webhook. */
  private readonly late = new Map<string, Map<string, Pending[]>>();
  /**
   * Some delivery went to the queue that the local worker may take at once — a batch, a FIFO delivery, or one the
   * hand-over budget had no room for (claims have room of their own): the worker should look now.
   */
  queuedClaimable = false;

  constructor(private readonly dispatch: LocalDispatch | null) {}

  /** The lease for a delivery row whose event holds `bytes` of payload, or null when it takes the queue. */
  lease(now: number, bytes: number): HandOverLease | null {
    const { dispatch } = this;
    if (dispatch === null || !dispatch.reserve(bytes)) {
      this.queuedClaimable = true;
      return null;
    }
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

  /**
   * Loads the webhook rows of deliveries added without them, inside the publishing transaction: of the write's first
   * `MAX_WEBHOOKS_PER_WRITE` webhooks. The others' deliveries wait for `committed` to load their rows.
   */
  async attachWebhooks(load: (ids: string[]) => Promise<Array<Job['webhook'] & { id: string }>>): Promise<void> {
    if (this.unattached.length === 0) return;
    const now: string[] = [];
    for (const { job } of this.unattached) {
      const id = job.delivery.webhook_id;
      if (this.attached.has(id) || this.attached.size >= MAX_WEBHOOKS_PER_WRITE) continue;
      this.attached.add(id);
      now.push(id);
    }
    const rows = now.length === 0 ? [] : await load(now);
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const pending of this.unattached) {
      const { job, bytes } = pending;
      const webhookId = job.delivery.webhook_id;
      if (this.attached.has(webhookId)) {
        // A row missing here is a webhook deleted meanwhile: the worker skips its delivery, as after a claim.
        this.jobs.push({ job: { ...job, webhook: byId.get(webhookId) }, bytes });
        continue;
      }
      let ofTenant = this.late.get(job.delivery.tenant_id);
      if (ofTenant === undefined) {
        ofTenant = new Map();
        this.late.set(job.delivery.tenant_id, ofTenant);
      }
      const list = ofTenant.get(webhookId);
      if (list === undefined) ofTenant.set(webhookId, [pending]);
      else list.push(pending);
    }
    this.unattached.length = 0;
  }

  /**
   * Hands the jobs over on the next turn of the event loop: the publish answers first, then the calls start. Those
   * whose webhook rows the transaction did not load follow as `loadCallRows` brings them. If that fails, their room
   * is given back and they wait out their leases, after which any worker claims them.
   */
  committed(): void {
    const { dispatch } = this;
    const jobs = this.jobs.splice(0);
    const late = [...this.late];
    this.late.clear();
    this.giveBackOpen();
    this.attached.clear();
    if (dispatch === null) return;
    if (jobs.length > 0) setImmediate(() => dispatch.accept(jobs));
    if (late.length === 0) return;
    void this.handOverLate(dispatch, late);
  }

  private async handOverLate(dispatch: LocalDispatch, late: Array<[string, Map<string, Pending[]>]>): Promise<void> {
    const chunks: Array<{ tenantId: string; ids: string[]; ofTenant: Map<string, Pending[]> }> = [];
    for (const [tenantId, ofTenant] of late) {
      const ids = [...ofTenant.keys()];
      for (let i = 0; i < ids.length; i += LATE_CHUNK)
        chunks.push({ tenantId, ids: ids.slice(i, i + LATE_CHUNK), ofTenant });
    }
    let next = 0;
    try {
      for (; next < chunks.length; next++) {
        const { tenantId, ids, ofTenant } = chunks[next] as (typeof chunks)[number];
        await new Promise((resolve) => setImmediate(resolve));
        const byId = new Map((await dispatch.loadCallRows(tenantId, ids)).map((r) => [r.id, r]));
        const jobs: Array<{ job: Job; bytes: number }> = [];
        for (const id of ids)
          for (const { job, bytes } of ofTenant.get(id) ?? [])
            jobs.push({ job: { ...job, webhook: byId.get(id) }, bytes });
        dispatch.accept(jobs);
      }
    } catch (err) {
      for (const { ids, ofTenant } of chunks.slice(next))
        for (const id of ids) for (const { bytes } of ofTenant.get(id) ?? []) dispatch.unreserve(bytes);
      dispatch.lateFailed(err);
    }
  }

  failed(): void {
    this.giveBackOpen();
    for (const { bytes } of [...this.jobs, ...this.unattached]) this.dispatch?.unreserve(bytes);
    for (const ofTenant of this.late.values())
      for (const list of ofTenant.values()) for (const { bytes } of list) this.dispatch?.unreserve(bytes);
    this.jobs.length = 0;
    this.unattached.length = 0;
    this.late.clear();
    this.attached.clear();
  }

  /** Reservations no delivery was added for. */
  private giveBackOpen(): void {
    for (const { bytes } of this.open) this.dispatch?.unreserve(bytes);
    this.open.clear();
  }
}
