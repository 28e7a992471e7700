import type { Kysely } from 'kysely';

/** Events, their deliveries (the queue) and the attempt log. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('webhooks').addColumn('failing_since', 'bigint').execute();

  await db.schema
    .createTable('events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('mode', 'text', (c) => c.notNull())
    .addColumn('account_id', 'text')
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('refs', 'text', (c) => c.notNull())
    .addColumn('included', 'text')
    .addColumn('occurred_at', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('correlation_id', 'text')
    .addColumn('delivery_count', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('events_tenant_idx').on('events').columns(['tenant_id', 'mode', 'id']).execute();
  await db.schema.createIndex('events_created_idx').on('events').column('created_at').execute();

  // References (`orderRef`, `customerRef`, …) as rows, so deliveries and events can be filtered by any of them.
  await db.schema
    .createTable('event_refs')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('event_refs_lookup_idx')
    .on('event_refs')
    .columns(['tenant_id', 'name', 'value'])
    .execute();
  await db.schema.createIndex('event_refs_event_idx').on('event_refs').column('event_id').execute();

  await db.schema
    .createTable('idempotency_keys')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('mode', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('request_hash', 'text', (c) => c.notNull())
    .addColumn('response', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('idempotency_keys_pk', ['tenant_id', 'mode', 'key'])
    .execute();
  await db.schema.createIndex('idempotency_created_idx').on('idempotency_keys').column('created_at').execute();

  await db.schema
    .createTable('deliveries')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('mode', 'text', (c) => c.notNull())
    .addColumn('webhook_id', 'text', (c) => c.notNull())
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('event_type', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
    .addColumn('next_trigger', 'text', (c) => c.notNull())
    .addColumn('last_attempt_id', 'text')
    .addColumn('last_attempt_at', 'bigint')
    .addColumn('last_attempt_status', 'integer')
    .addColumn('lease_owner', 'text')
    .addColumn('lease_expires_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  // The claim scans due pending rows in time order; lease recovery scans delivering rows by expiry.
  await db.schema.createIndex('deliveries_due_idx').on('deliveries').columns(['status', 'next_attempt_at']).execute();
  await db.schema
    .createIndex('deliveries_lease_idx')
    .on('deliveries')
    .columns(['status', 'lease_expires_at'])
    .execute();
  await db.schema
    .createIndex('deliveries_webhook_idx')
    .on('deliveries')
    .columns(['tenant_id', 'webhook_id', 'id'])
    .execute();
  await db.schema.createIndex('deliveries_event_idx').on('deliveries').column('event_id').execute();

  await db.schema
    .createTable('attempts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('mode', 'text', (c) => c.notNull())
    .addColumn('delivery_id', 'text', (c) => c.notNull())
    .addColumn('webhook_id', 'text', (c) => c.notNull())
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('trigger', 'text', (c) => c.notNull())
    .addColumn('parent_attempt_id', 'text')
    .addColumn('attempt_number', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('requested_at', 'bigint', (c) => c.notNull())
    .addColumn('request_headers', 'text', (c) => c.notNull())
    .addColumn('request_body', 'text', (c) => c.notNull())
    .addColumn('response_status', 'integer')
    .addColumn('reason_phrase', 'text')
    .addColumn('response_headers', 'text')
    .addColumn('response_body', 'text')
    .addColumn('elapsed_ms', 'integer', (c) => c.notNull())
    .addColumn('error', 'text')
    .execute();
  await db.schema
    .createIndex('attempts_webhook_idx')
    .on('attempts')
    .columns(['tenant_id', 'webhook_id', 'id'])
    .execute();
  await db.schema.createIndex('attempts_delivery_idx').on('attempts').columns(['delivery_id', 'id']).execute();
  await db.schema.createIndex('attempts_requested_idx').on('attempts').column('requested_at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['attempts', 'deliveries', 'idempotency_keys', 'event_refs', 'events']) {
    await db.schema.dropTable(t).ifExists().execute();
  }
  await db.schema.alterTable('webhooks').dropColumn('failing_since').execute();
}
