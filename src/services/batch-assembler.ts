/**
 * Puts published events into deliveries inside the publishing transaction.
 *
 * A webhook with `maxBatchSize` 1 gets one delivery per event. A batching webhook has at most one *open* batch
 * delivery: events are appended to it (in publish order) until it holds `maxBatchSize` events — then it closes and is
 * due at once — or until `maxBatchTimeDelay` after its first event, when it is due and the worker's claim closes it.
 * Open batches are ordinary rows, so a half-filled batch survives a restart and is neither lost nor sent twice.
 */
import type { Insertable } from 'kysely';
import type { DeliveriesTable, DeliveryEventsTable } from '../db/schema.js';
import type { TenantScope } from '../domain/principal.js';
import { newDeliveryRow } from '../queue/new-delivery.js';
import type { Repos } from './deps.js';

export interface FanOutTarget {
  id: string;
  maxBatchSize: number;
  maxBatchTimeDelay: number;
  ordering: string;
  orderingOnFailure: string;
}

interface OpenBatch {
  id: string;
  count: number;
  dueAt: number;
  closed: boolean;
  /** Set when the batch is created in this transaction (inserted at the end); absent for an existing row. */
  row?: DeliveriesTable;
}

export class BatchAssembler {
  private readonly singles: DeliveriesTable[] = [];
  private readonly current = new Map<string, OpenBatch>();
  private readonly touched: OpenBatch[] = [];
  private readonly members: Array<Insertable<DeliveryEventsTable>> = [];

  constructor(
    private readonly repos: Repos,
    private readonly scope: TenantScope,
    private readonly now: number,
    private readonly lockRows: boolean,
  ) {}

  get deliveryCount(): number {
    return this.singles.length + this.touched.length;
  }

  /**
   * Adds one event for one webhook. A plain (non-batching) delivery is returned; with `lease` it is written already
   * leased to that worker (a hand-over), else pending. A batching webhook's event joins a batch: null.
   */
  async add(
    target: FanOutTarget,
    event: { id: string; type: string },
    lease: { owner: string; expiresAt: number } | null = null,
  ): Promise<DeliveriesTable | null> {
    const base = {
      tenantId: this.scope.tenantId,
      mode: this.scope.mode,
      webhookId: target.id,
      eventId: event.id,
      eventType: event.type,
      now: this.now,
      trigger: 'scheduled' as const,
      ordering: { ordering: target.ordering, onFailure: target.orderingOnFailure },
    };
    if (target.maxBatchSize <= 1) {
      const row = newDeliveryRow(base);
      if (lease !== null) {
        row.status = 'delivering';
        row.lease_owner = lease.owner;
        row.lease_expires_at = lease.expiresAt;
      }
      this.singles.push(row);
      return row;
    }
    let batch = this.current.get(target.id);
    if (batch === undefined) {
      const [open] = await this.repos.deliveries.openBatches([target.id], this.lockRows);
      if (open !== undefined) {
        batch = { id: open.id, count: open.event_count, dueAt: open.next_attempt_at, closed: false };
        this.touched.push(batch);
      }
    }
    if (batch === undefined || batch.closed) {
      const row = { ...newDeliveryRow(base), batch_open: 1, event_count: 0 };
      batch = { id: row.id, count: 0, dueAt: this.now + target.maxBatchTimeDelay, closed: false, row };
      this.touched.push(batch);
    }
    this.current.set(target.id, batch);
    this.members.push({ delivery_id: batch.id, position: batch.count, event_id: event.id, event_type: event.type });
    batch.count++;
    if (batch.count >= target.maxBatchSize) {
      batch.closed = true;
      batch.dueAt = this.now;
    }
    return null;
  }

  /** Writes what `add` assembled: new deliveries, batch members, and the new state of batches that existed. */
  async flush(): Promise<void> {
    const fresh: DeliveriesTable[] = [...this.singles];
    for (const b of this.touched) {
      const state = { event_count: b.count, batch_open: b.closed ? 0 : 1, next_attempt_at: b.dueAt };
      if (b.row !== undefined) fresh.push({ ...b.row, ...state });
      else await this.repos.deliveries.updateBatch(b.id, state, this.now);
    }
    await this.repos.deliveries.insertMany(fresh);
    await this.repos.deliveries.insertBatchEvents(this.members);
  }
}
