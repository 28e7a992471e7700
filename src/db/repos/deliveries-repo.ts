import type { Insertable, Kysely, Selectable } from 'kysely';
import type { PageRequest } from '../paging.js';
import { STATUS_SQL } from '../delivery-status-sql.js';
import { insertRows, type SqlTarget, type SqlType } from '../raw-sql.js';
import type { Database, DeliveriesTable, DeliveryEventsTable } from '../schema.js';

export type DeliveryRow = Selectable<DeliveriesTable>;

export interface DeliveryListFilter {
  status?: string;
  /** Any of these statuses (the batch API's `lastDeliveryAttemptStatus` maps onto several). */
  statuses?: string[];
  eventType?: string;
  createdAfter?: number;
  createdBefore?: number;
  lastAttemptAfter?: number;
  lastAttemptBefore?: number;
  /** Event references (`orderRef`, …) that the delivery's event must carry. */
  references?: Record<string, string>;
}

/** Rows SQLite accepts in one multi-row insert with room to spare (its bound-parameter limit is 32 766). */
const INSERT_CHUNK = 400;

/** Deliveries read and repaired through the API. The worker's hot-path SQL lives in `src/queue/`. */
export class DeliveriesRepo {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly target: SqlTarget,
  ) {}

  async insertMany(rows: DeliveriesTable[]): Promise<void> {
    // Hand-built: on the publish path the query builder cost more than the insert (`raw-sql.ts`).
    await insertRows(this.db, this.target, 'deliveries', DELIVERY_COLUMNS, rows, INSERT_CHUNK);
  }

  /**
   * The open batch of each webhook (at most one each), locked on PostgreSQL so a concurrent publish appends after us
   * and a worker's claim (SKIP LOCKED) passes it by until we commit.
   */
  async openBatches(webhookIds: string[], lock: boolean) {
    if (webhookIds.length === 0) return [];
    const q = this.db
      .selectFrom('deliveries')
      .select(['id', 'webhook_id', 'event_count', 'next_attempt_at'])
      .where('webhook_id', 'in', webhookIds)
      .where('batch_open', '=', 1)
      .where('status', '=', STATUS_SQL.pending);
    return (lock ? q.forUpdate() : q).execute();
  }

  async updateBatch(
    id: string,
    set: { event_count: number; batch_open: number; next_attempt_at: number },
    now: number,
  ) {
    await this.db
      .updateTable('deliveries')
      .set({ ...set, updated_at: now })
      .where('id', '=', id)
      .execute();
  }

  async insertBatchEvents(rows: Array<Insertable<DeliveryEventsTable>>): Promise<void> {
    for (let i = 0; i < rows.length; i += 1000) {
      await this.db
        .insertInto('delivery_events')
        .values(rows.slice(i, i + 1000))
        .execute();
    }
  }

  /** The events of batch deliveries, in order; deliveries without rows here carry their single `event_id`. */
  async batchEvents(deliveryIds: string[]) {
    if (deliveryIds.length === 0) return [];
    return this.db
      .selectFrom('delivery_events')
      .selectAll()
      .where('delivery_id', 'in', deliveryIds)
      .orderBy('delivery_id')
      .orderBy('position')
      .execute();
  }

  async get(tenantId: string, webhookId: string, id: string): Promise<DeliveryRow | undefined> {
    return this.db
      .selectFrom('deliveries')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('webhook_id', '=', webhookId)
      .where('id', '=', id)
      .executeTakeFirst();
  }

  async listForEvent(tenantId: string, eventId: string): Promise<DeliveryRow[]> {
    return this.db
      .selectFrom('deliveries')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('event_id', '=', eventId)
      .orderBy('id')
      .execute();
  }

  async list(tenantId: string, webhookId: string, f: DeliveryListFilter, page: PageRequest): Promise<DeliveryRow[]> {
    let q = this.filtered(tenantId, webhookId, f).selectAll('deliveries');
    if (page.cursor !== null) q = q.where('deliveries.id', '<', page.cursor);
    return q
      .orderBy('deliveries.id', 'desc')
      .limit(page.limit + 1)
      .execute();
  }

  /** Offset paging (the insurance seed's `from` / `take`), newest first, with the total for its page counts. */
  async listOffset(tenantId: string, webhookId: string, f: DeliveryListFilter, from: number, take: number) {
    const [rows, total] = await Promise.all([
      this.filtered(tenantId, webhookId, f)
        .selectAll('deliveries')
        .orderBy('deliveries.id', 'desc')
        .offset(from)
        .limit(take)
        .execute(),
      this.filtered(tenantId, webhookId, f)
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirst(),
    ]);
    return { rows, total: Number(total?.n ?? 0) };
  }

  private filtered(tenantId: string, webhookId: string, f: DeliveryListFilter) {
    let q = this.db
      .selectFrom('deliveries')
      .where('deliveries.tenant_id', '=', tenantId)
      .where('deliveries.webhook_id', '=', webhookId);
    if (f.statuses !== undefined) q = q.where('deliveries.status', 'in', f.statuses);
    if (f.status !== undefined) q = q.where('deliveries.status', '=', f.status);
    const eventType = f.eventType;
    if (eventType !== undefined) {
      // A batch matches when any of its events has the type.
      q = q.where((eb) =>
        eb.or([
          eb('deliveries.event_type', '=', eventType),
          eb.exists(
            eb
              .selectFrom('delivery_events')
              .select('delivery_events.event_id')
              .whereRef('delivery_events.delivery_id', '=', 'deliveries.id')
              .where('delivery_events.event_type', '=', eventType),
          ),
        ]),
      );
    }
    if (f.createdAfter !== undefined) q = q.where('deliveries.created_at', '>=', f.createdAfter);
    if (f.createdBefore !== undefined) q = q.where('deliveries.created_at', '<', f.createdBefore);
    if (f.lastAttemptAfter !== undefined) q = q.where('deliveries.last_attempt_at', '>=', f.lastAttemptAfter);
    if (f.lastAttemptBefore !== undefined) q = q.where('deliveries.last_attempt_at', '<', f.lastAttemptBefore);
    for (const [name, value] of Object.entries(f.references ?? {})) {
      // The delivery's own event, or (for a batch) any of its events, carries the reference.
      q = q.where(({ exists, selectFrom }) =>
        exists(
          selectFrom('event_refs')
            .select('event_refs.event_id')
            .where('event_refs.tenant_id', '=', tenantId)
            .where('event_refs.name', '=', name)
            .where('event_refs.value', '=', value)
            .where((r) =>
              r.or([
                r('event_refs.event_id', '=', r.ref('deliveries.event_id')),
                r(
                  'event_refs.event_id',
                  'in',
                  r
                    .selectFrom('delivery_events')
                    .select('delivery_events.event_id')
                    .whereRef('delivery_events.delivery_id', '=', 'deliveries.id'),
                ),
              ]),
            ),
        ),
      );
    }
    return q;
  }

  /** Makes deliveries due now with a `manual` trigger; one delivery, or every failed one created since a time. */
  async requeue(
    tenantId: string,
    webhookId: string,
    which: { id: string } | { failedSince: number },
    now: number,
  ): Promise<number> {
    let q = this.db
      .updateTable('deliveries')
      .set({ status: 'pending', next_attempt_at: now, next_trigger: 'manual', updated_at: now })
      .where('tenant_id', '=', tenantId)
      .where('webhook_id', '=', webhookId);
    q =
      'id' in which
        ? q.where('id', '=', which.id).where('status', '!=', 'delivering')
        : q.where('status', '=', STATUS_SQL.failed).where('created_at', '>=', which.failedSince);
    return Number((await q.executeTakeFirst()).numUpdatedRows);
  }

  /** Deliveries parked while their webhook was disabled or its circuit open become due now. */
  async resumeParked(tenantId: string, webhookId: string, now: number): Promise<number> {
    const res = await this.db
      .updateTable('deliveries')
      .set({ next_attempt_at: now, updated_at: now })
      .where('tenant_id', '=', tenantId)
      .where('webhook_id', '=', webhookId)
      .where('status', '=', STATUS_SQL.pending)
      .where('next_attempt_at', '>', now)
      .executeTakeFirst();
    return Number(res.numUpdatedRows);
  }

  async deleteForWebhook(tenantId: string, webhookId: string): Promise<void> {
    await this.db
      .deleteFrom('deliveries')
      .where('tenant_id', '=', tenantId)
      .where('webhook_id', '=', webhookId)
      .execute();
  }
}

const DELIVERY_COLUMNS: Record<keyof DeliveriesTable, SqlType> = {
  id: 'text',
  tenant_id: 'text',
  mode: 'text',
  webhook_id: 'text',
  event_id: 'text',
  event_type: 'text',
  status: 'text',
  attempts: 'integer',
  next_attempt_at: 'bigint',
  next_trigger: 'text',
  last_attempt_id: 'text',
  last_attempt_at: 'bigint',
  last_attempt_status: 'integer',
  lease_owner: 'text',
  lease_expires_at: 'bigint',
  created_at: 'bigint',
  updated_at: 'bigint',
  ordering: 'integer',
  batch_open: 'integer',
  event_count: 'integer',
};
