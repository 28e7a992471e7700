/**
 * Prunes the attempt log and old events after the retention period (default 14 days). Deletes go in small batches
 * so no statement holds locks long enough to slow delivery; several workers pruning at once only share the work.
 * Deliveries still pending keep their events: nothing undelivered is pruned.
 */
import type { Db } from '../db/connect.js';
import { firstIdAt } from '../domain/ids.js';

const BATCH = 500;
const IDEMPOTENCY_WINDOW_MS = 24 * 3_600_000;

export interface PruneReport {
  attempts: number;
  deliveries: number;
  events: number;
  idempotencyKeys: number;
}

async function drain(step: () => Promise<number>): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await step();
    total += n;
    if (n < BATCH) return total;
    // Let deliveries interleave between batches.
    await new Promise((r) => setImmediate(r));
  }
}

export async function pruneExpired(db: Db, now: number, retentionDays: number): Promise<PruneReport> {
  const cutoff = now - retentionDays * 86_400_000;
  const k = db.kysely;
  const attempts = await drain(async () => {
    const r = await k
      .deleteFrom('attempts')
      // By id, which starts with the attempt's start time (its requested_at, to the millisecond): the primary key
      // serves this, so no index on requested_at is kept up to date on every attempt for it.
      .where('id', 'in', (eb) =>
        eb.selectFrom('attempts').select('id').where('id', '<', firstIdAt('attempt', cutoff)).limit(BATCH),
      )
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  });
  const deliveries = await drain(async () => {
    const r = await k
      .deleteFrom('deliveries')
      .where('id', 'in', (eb) =>
        eb
          .selectFrom('deliveries')
          .select('id')
          .where('created_at', '<', cutoff)
          // Only once its last attempt has expired too (attempts go first, above): an attempt's event outlives it, and
          // the attempt log rebuilds plain request bodies from the event.
          .where((eb) => eb.or([eb('last_attempt_at', 'is', null), eb('last_attempt_at', '<', cutoff)]))
          .where('status', 'in', ['succeeded', 'failed'])
          .limit(BATCH),
      )
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  });
  const events = await drain(async () => {
    const ids = (
      await k
        .selectFrom('events')
        .select('id')
        .where('created_at', '<', cutoff)
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(selectFrom('deliveries').select('deliveries.id').whereRef('deliveries.event_id', '=', 'events.id')),
          ),
        )
        .limit(BATCH)
        .execute()
    ).map((r) => r.id);
    if (ids.length === 0) return 0;
    await k.transaction().execute(async (trx) => {
      await trx.deleteFrom('event_refs').where('event_id', 'in', ids).execute();
      await trx.deleteFrom('events').where('id', 'in', ids).execute();
    });
    return ids.length;
  });
  const idem = await k
    .deleteFrom('idempotency_keys')
    .where('created_at', '<', now - IDEMPOTENCY_WINDOW_MS)
    .executeTakeFirst();
  return { attempts, deliveries, events, idempotencyKeys: Number(idem.numDeletedRows) };
}
