/**
 * Claims due deliveries for one worker: pending rows whose time has come, oldest first, marked `delivering` with a
 * lease. On PostgreSQL the inner select takes `FOR UPDATE SKIP LOCKED`, so concurrent workers claim disjoint rows
 * without waiting on each other. SQLite runs one writer at a time, so the same statement is already exclusive there.
 *
 * FIFO webhooks: a delivery is claimable only when no earlier delivery of its webhook is unfinished (pending or
 * delivering; with "block", failed too), so exactly one is in flight and they go out in publish order.
 * Batches: claiming an open batch closes it; later events start a new batch.
 */
import type { Selectable } from 'kysely';
import type { Db } from '../db/connect.js';
import type { DeliveriesTable } from '../db/schema.js';

export type DeliveryRow = Selectable<DeliveriesTable>;

export interface ClaimOptions {
  workerId: string;
  limit: number;
  now: number;
  leaseMs: number;
  /** Webhooks already at their in-flight cap in this worker: their rows stay for later or for another worker. */
  excludeWebhookIds: readonly string[];
}

export async function claimDueDeliveries(db: Db, o: ClaimOptions): Promise<DeliveryRow[]> {
  if (o.limit <= 0) return [];
  return db.kysely
    .updateTable('deliveries')
    .set({
      status: 'delivering',
      lease_owner: o.workerId,
      lease_expires_at: o.now + o.leaseMs,
      updated_at: o.now,
      batch_open: 0,
    })
    .where('status', '=', 'pending')
    .where('id', 'in', (eb) => {
      let q = eb
        .selectFrom('deliveries')
        .select('id')
        .where('status', '=', 'pending')
        .where('next_attempt_at', '<=', o.now)
        .where((w) =>
          w.or([
            w('deliveries.ordering', '=', 0),
            w.not(
              w.exists(
                w
                  .selectFrom('deliveries as earlier')
                  .select('earlier.id')
                  .whereRef('earlier.webhook_id', '=', 'deliveries.webhook_id')
                  .whereRef('earlier.id', '<', 'deliveries.id')
                  .where((e) =>
                    e.or([
                      e('earlier.status', 'in', ['pending', 'delivering']),
                      e.and([e('earlier.status', '=', 'failed'), e('deliveries.ordering', '=', 2)]),
                    ]),
                  ),
              ),
            ),
          ]),
        );
      if (o.excludeWebhookIds.length > 0) q = q.where('webhook_id', 'not in', [...o.excludeWebhookIds]);
      q = q.orderBy('next_attempt_at').limit(o.limit);
      return db.capabilities.skipLocked ? q.forUpdate().skipLocked() : q;
    })
    .returningAll()
    .execute();
}

/** When the next pending delivery falls due, so an idle worker sleeps exactly that long (bounded by its poll). */
export async function nextDueAt(db: Db): Promise<number | null> {
  const row = await db.kysely
    .selectFrom('deliveries')
    .select((eb) => eb.fn.min('next_attempt_at').as('due'))
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return row?.due == null ? null : Number(row.due);
}

/**
 * Hands back deliveries whose worker died: a `delivering` row past its lease goes back to `pending`, due now.
 * Run by every worker from time to time; the update is idempotent, so several running it at once is harmless.
 */
export async function reclaimExpiredLeases(db: Db, now: number): Promise<number> {
  const res = await db.kysely
    .updateTable('deliveries')
    .set({ status: 'pending', lease_owner: null, lease_expires_at: null, next_attempt_at: now, updated_at: now })
    .where('status', '=', 'delivering')
    .where('lease_expires_at', '<', now)
    .executeTakeFirst();
  return Number(res.numUpdatedRows);
}
