import type { Kysely } from 'kysely';

/**
 * Per-webhook probes of due work: "does webhook W have a pending delivery due by now?" and "its oldest due ones" are
 * one index range each, whatever the size of other webhooks' backlogs. The same (status, webhook_id, …) prefix
 * serves the FIFO check and the open-batch lookup, and the due index serves lease recovery (few rows are
 * `delivering`), so three narrower indexes go: every status change of a delivery rewrites fewer index entries.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createIndex('deliveries_webhook_due_idx')
    .on('deliveries')
    .columns(['status', 'webhook_id', 'next_attempt_at'])
    .execute();
  for (const idx of ['deliveries_fifo_idx', 'deliveries_open_batch_idx', 'deliveries_lease_idx']) {
    await db.schema.dropIndex(idx).ifExists().execute();
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('deliveries_webhook_due_idx').ifExists().execute();
  await db.schema.createIndex('deliveries_fifo_idx').on('deliveries').columns(['webhook_id', 'status', 'id']).execute();
  await db.schema
    .createIndex('deliveries_open_batch_idx')
    .on('deliveries')
    .columns(['webhook_id', 'batch_open'])
    .execute();
  await db.schema
    .createIndex('deliveries_lease_idx')
    .on('deliveries')
    .columns(['status', 'lease_expires_at'])
    .execute();
}
