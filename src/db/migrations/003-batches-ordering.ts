import type { Kysely } from 'kysely';

/**
 * Batched deliveries (several events in one request), FIFO ordering, and the filter column's companion settings.
 * - deliveries.ordering: 0 none, 1 fifo (skip a finally failed delivery), 2 fifo (block behind it). Copied from the
 *   webhook when the delivery is made, so the claim needs no join.
 * - deliveries.batch_open: 1 while a batch delivery still accepts events; the claim closes it.
 * - delivery_events: the events of a batch delivery, in publish order (single-event deliveries need no rows here).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('deliveries')
    .addColumn('ordering', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .alterTable('deliveries')
    .addColumn('batch_open', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .alterTable('deliveries')
    .addColumn('event_count', 'integer', (c) => c.notNull().defaultTo(1))
    .execute();
  await db.schema
    .alterTable('webhooks')
    .addColumn('ordering_on_failure', 'text', (c) => c.notNull().defaultTo('skip'))
    .execute();
  await db.schema
    .createTable('delivery_events')
    .addColumn('delivery_id', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('event_type', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('delivery_events_pk', ['delivery_id', 'position'])
    .execute();
  await db.schema.createIndex('delivery_events_event_idx').on('delivery_events').column('event_id').execute();
  // FIFO: "is there an earlier unfinished delivery of this webhook?" is one index probe.
  await db.schema.createIndex('deliveries_fifo_idx').on('deliveries').columns(['webhook_id', 'status', 'id']).execute();
  // Publishing into a batch finds the webhook's open batch.
  await db.schema
    .createIndex('deliveries_open_batch_idx')
    .on('deliveries')
    .columns(['webhook_id', 'batch_open'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('delivery_events').ifExists().execute();
  await db.schema.dropIndex('deliveries_fifo_idx').ifExists().execute();
  await db.schema.dropIndex('deliveries_open_batch_idx').ifExists().execute();
  for (const c of ['ordering', 'batch_open', 'event_count']) {
    await db.schema.alterTable('deliveries').dropColumn(c).execute();
  }
  await db.schema.alterTable('webhooks').dropColumn('ordering_on_failure').execute();
}
