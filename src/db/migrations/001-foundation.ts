import type { Kysely } from 'kysely';

// `Kysely<unknown>`: a migration must not depend on today's schema types, only on what existed when it was written.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('settings')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('tenants')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('metadata', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('api_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('key_hash', 'text', (c) => c.notNull().unique())
    .addColumn('key_prefix', 'text', (c) => c.notNull())
    .addColumn('roles', 'text', (c) => c.notNull())
    .addColumn('account_id', 'text')
    .addColumn('mode', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('created_by', 'text')
    .addColumn('last_used_at', 'bigint')
    .addColumn('revoked_at', 'bigint')
    .execute();
  await db.schema.createIndex('api_keys_tenant_idx').on('api_keys').columns(['tenant_id', 'id']).execute();

  await db.schema
    .createTable('accounts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('reference', 'text')
    .addColumn('metadata', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('accounts_tenant_idx').on('accounts').columns(['tenant_id', 'id']).execute();
  await db.schema
    .createIndex('accounts_reference_uq')
    .on('accounts')
    .columns(['tenant_id', 'reference'])
    .unique()
    .execute();

  await db.schema
    .createTable('event_types')
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('object_type', 'text')
    .addColumn('schema', 'text')
    .addColumn('deprecated', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('event_types_pk', ['tenant_id', 'name'])
    .execute();

  await db.schema
    .createTable('webhooks')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('mode', 'text', (c) => c.notNull())
    .addColumn('account_id', 'text')
    .addColumn('name', 'text')
    .addColumn('description', 'text')
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('disabled_at', 'bigint')
    .addColumn('disabled_reason', 'text')
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('event_types', 'text', (c) => c.notNull())
    .addColumn('object_type', 'text')
    .addColumn('criteria', 'text', (c) => c.notNull())
    .addColumn('filter', 'text')
    .addColumn('include_resources', 'text', (c) => c.notNull())
    .addColumn('headers', 'text', (c) => c.notNull())
    .addColumn('secret_enc', 'text', (c) => c.notNull())
    .addColumn('previous_secret_enc', 'text')
    .addColumn('previous_secret_expires_at', 'bigint')
    .addColumn('max_batch_size', 'integer', (c) => c.notNull())
    .addColumn('max_batch_time_delay', 'integer', (c) => c.notNull())
    .addColumn('timeout_ms', 'integer', (c) => c.notNull())
    .addColumn('retry_schedule', 'text')
    .addColumn('ordering', 'text', (c) => c.notNull())
    .addColumn('rate_limit_per_second', 'integer')
    .addColumn('circuit_state', 'text', (c) => c.notNull())
    .addColumn('circuit_failure_count', 'integer', (c) => c.notNull())
    .addColumn('circuit_opened_at', 'bigint')
    .addColumn('stat_total', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('stat_successes', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('stat_failures', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('stat_failures_since_success', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('last_success', 'text')
    .addColumn('last_failure', 'text')
    .addColumn('last_call', 'text')
    .addColumn('last_success_at', 'bigint')
    .addColumn('metadata', 'text', (c) => c.notNull())
    .addColumn('reference', 'text')
    .addColumn('reference_origin', 'text')
    .addColumn('audit', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('webhooks_tenant_idx').on('webhooks').columns(['tenant_id', 'mode', 'id']).execute();
  // Names are unique per tenant and mode: a test-mode key must not learn live names through a conflict.
  await db.schema
    .createIndex('webhooks_name_uq')
    .on('webhooks')
    .columns(['tenant_id', 'mode', 'name'])
    .unique()
    .execute();

  await db.schema
    .createTable('webhook_versions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('webhook_id', 'text', (c) => c.notNull().references('webhooks.id').onDelete('cascade'))
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('changed_at', 'bigint', (c) => c.notNull())
    .addColumn('changed_by', 'text', (c) => c.notNull())
    .addColumn('changes', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('webhook_versions_wh_idx')
    .on('webhook_versions')
    .columns(['tenant_id', 'webhook_id', 'version'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['webhook_versions', 'webhooks', 'event_types', 'accounts', 'api_keys', 'tenants', 'settings']) {
    await db.schema.dropTable(t).ifExists().execute();
  }
}
