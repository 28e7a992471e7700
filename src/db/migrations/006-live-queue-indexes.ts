import { type Kysely, sql } from 'kysely';

/**
 * The queue's indexes hold live deliveries only. Each covered every delivery, led by its status, so claiming a
 * delivery and recording its outcome each moved its entry within both (measured on SQLite: an UPDATE that changes
 * `status` cost 7 µs a row, one that leaves it 1.4 µs), and finished deliveries piled up in them for ever. Now a
 * claimed delivery leaves the pending indexes, a finished one leaves the delivering index, and a succeeded delivery is
 * in none. A failed one is kept by webhook, for FIFO's "block" and for recovering a webhook's failures.
 *
 * Queries must repeat an index's condition as written here (`status = 'pending'`, a literal, not a parameter):
 * SQLite uses a partial index only when the query's WHERE clause contains its condition.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // Oldest due first, answered from the index alone (the claim's first read).
  await sql`CREATE INDEX deliveries_pending_due_idx ON deliveries (next_attempt_at, webhook_id, ordering, id) WHERE status = 'pending'`.execute(
    db,
  );
  // One webhook's due work: top-ups, open batches, FIFO's earlier deliveries, parked deliveries resumed.
  await sql`CREATE INDEX deliveries_pending_webhook_idx ON deliveries (webhook_id, next_attempt_at, id) WHERE status = 'pending'`.execute(
    db,
  );
  // In flight: FIFO's earlier deliveries, lease renewal and recovery.
  await sql`CREATE INDEX deliveries_delivering_idx ON deliveries (webhook_id, lease_expires_at) WHERE status = 'delivering'`.execute(
    db,
  );
  await sql`CREATE INDEX deliveries_failed_idx ON deliveries (webhook_id, id) WHERE status = 'failed'`.execute(db);
  await db.schema.dropIndex('deliveries_due_cover_idx').ifExists().execute();
  await db.schema.dropIndex('deliveries_webhook_due_cover_idx').ifExists().execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createIndex('deliveries_due_cover_idx')
    .on('deliveries')
    .columns(['status', 'next_attempt_at', 'webhook_id', 'ordering', 'id'])
    .execute();
  await db.schema
    .createIndex('deliveries_webhook_due_cover_idx')
    .on('deliveries')
    .columns(['status', 'webhook_id', 'next_attempt_at', 'id'])
    .execute();
  for (const idx of [
    'deliveries_pending_due_idx',
    'deliveries_pending_webhook_idx',
    'deliveries_delivering_idx',
    'deliveries_failed_idx',
  ]) {
    await db.schema.dropIndex(idx).ifExists().execute();
  }
}
