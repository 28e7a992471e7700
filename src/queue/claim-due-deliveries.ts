/**
 * Claims due deliveries for one worker: pending rows whose time has come, oldest first, marked `delivering` with a
 * lease. Two steps:
 *   1. read candidate ids (no locks), and choose at most `limit` of them, no more per webhook than the webhook's
 *      free in-flight slots in this worker — one slow endpoint never fills the worker;
 *   2. lease the chosen rows with one UPDATE. On PostgreSQL its inner select takes `FOR UPDATE SKIP LOCKED`, so a
 *      row another worker is claiming at the same moment is passed over instead of waited for; `status = 'pending'`
 *      is re-checked, so no row is ever leased twice. SQLite runs one writer at a time, so the update is exclusive.
 *
 * FIFO webhooks: a delivery is a candidate only when no earlier delivery of its webhook is unfinished (pending or
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
  /** Deliveries this worker has in flight, by webhook. */
  inFlight: ReadonlyMap<string, number>;
  perWebhookCap: number;
}

/** How many candidates to read per slot: room to skip rows of capped webhooks without a second round trip. */
const CANDIDATES_PER_SLOT = 4;

export async function claimDueDeliveries(db: Db, o: ClaimOptions): Promise<DeliveryRow[]> {
  if (o.limit <= 0) return [];
  const saturated = [...o.inFlight].filter(([, n]) => n >= o.perWebhookCap).map(([id]) => id);
  let q = db.kysely
    .selectFrom('deliveries')
    .select(['id', 'webhook_id'])
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
  if (saturated.length > 0) q = q.where('webhook_id', 'not in', saturated);
  const candidates = await q
    .orderBy('next_attempt_at')
    .limit(o.limit * CANDIDATES_PER_SLOT)
    .execute();

  const taken = new Map(o.inFlight);
  const chosen: string[] = [];
  for (const c of candidates) {
    if (chosen.length >= o.limit) break;
    const n = taken.get(c.webhook_id) ?? 0;
    if (n >= o.perWebhookCap) continue;
    taken.set(c.webhook_id, n + 1);
    chosen.push(c.id);
  }
  if (chosen.length === 0) return [];

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
      const inner = eb.selectFrom('deliveries').select('id').where('id', 'in', chosen).where('status', '=', 'pending');
      return db.capabilities.skipLocked ? inner.forUpdate().skipLocked() : inner;
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
