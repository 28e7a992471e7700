import type { Insertable, Kysely, Selectable } from 'kysely';
import type { PageRequest } from '../paging.js';
import type { Database, DeliveriesTable } from '../schema.js';

export type DeliveryRow = Selectable<DeliveriesTable>;

export interface DeliveryListFilter {
  status?: string;
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
  constructor(private readonly db: Kysely<Database>) {}

  async insertMany(rows: Insertable<DeliveriesTable>[]): Promise<void> {
    for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
      await this.db
        .insertInto('deliveries')
        .values(rows.slice(i, i + INSERT_CHUNK))
        .execute();
    }
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
    let q = this.db
      .selectFrom('deliveries')
      .selectAll('deliveries')
      .where('deliveries.tenant_id', '=', tenantId)
      .where('deliveries.webhook_id', '=', webhookId);
    if (f.status !== undefined) q = q.where('deliveries.status', '=', f.status);
    if (f.eventType !== undefined) q = q.where('deliveries.event_type', '=', f.eventType);
    if (f.createdAfter !== undefined) q = q.where('deliveries.created_at', '>=', f.createdAfter);
    if (f.createdBefore !== undefined) q = q.where('deliveries.created_at', '<', f.createdBefore);
    if (f.lastAttemptAfter !== undefined) q = q.where('deliveries.last_attempt_at', '>=', f.lastAttemptAfter);
    if (f.lastAttemptBefore !== undefined) q = q.where('deliveries.last_attempt_at', '<', f.lastAttemptBefore);
    for (const [name, value] of Object.entries(f.references ?? {})) {
      q = q.where(({ exists, selectFrom }) =>
        exists(
          selectFrom('event_refs')
            .select('event_refs.event_id')
            .whereRef('event_refs.event_id', '=', 'deliveries.event_id')
            .where('event_refs.tenant_id', '=', tenantId)
            .where('event_refs.name', '=', name)
            .where('event_refs.value', '=', value),
        ),
      );
    }
    if (page.cursor !== null) q = q.where('deliveries.id', '<', page.cursor);
    return q
      .orderBy('deliveries.id', 'desc')
      .limit(page.limit + 1)
      .execute();
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
        : q.where('status', '=', 'failed').where('created_at', '>=', which.failedSince);
    return Number((await q.executeTakeFirst()).numUpdatedRows);
  }

  /** Deliveries parked while their webhook was disabled or its circuit open become due now. */
  async resumeParked(tenantId: string, webhookId: string, now: number): Promise<number> {
    const res = await this.db
      .updateTable('deliveries')
      .set({ next_attempt_at: now, updated_at: now })
      .where('tenant_id', '=', tenantId)
      .where('webhook_id', '=', webhookId)
      .where('status', '=', 'pending')
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
