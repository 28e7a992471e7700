/**
 * Table shapes as Kysely sees them. Both dialects store the same things the same way:
 * times are epoch milliseconds (bigint), JSON is text, booleans are 0/1 integers. That keeps every query and every
 * comparison identical on SQLite and PostgreSQL, and lets range filters use plain indexes.
 */
export interface SettingsTable {
  key: string;
  value: string;
}

export interface TenantsTable {
  id: string;
  name: string;
  metadata: string;
  created_at: number;
}

export interface ApiKeysTable {
  id: string;
  tenant_id: string;
  name: string;
  key_hash: string;
  key_prefix: string;
  roles: string;
  account_id: string | null;
  mode: string;
  created_at: number;
  created_by: string | null;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface AccountsTable {
  id: string;
  tenant_id: string;
  name: string;
  reference: string | null;
  metadata: string;
  created_at: number;
  updated_at: number;
}

export interface EventTypesTable {
  tenant_id: string;
  name: string;
  description: string | null;
  object_type: string | null;
  schema: string | null;
  deprecated: number;
  created_at: number;
  updated_at: number;
}

export interface WebhooksTable {
  id: string;
  tenant_id: string;
  mode: string;
  account_id: string | null;
  name: string | null;
  description: string | null;
  url: string;
  status: string;
  disabled_at: number | null;
  disabled_reason: string | null;
  kind: string;
  event_types: string;
  object_type: string | null;
  criteria: string;
  filter: string | null;
  include_resources: string;
  headers: string;
  secret_enc: string;
  previous_secret_enc: string | null;
  previous_secret_expires_at: number | null;
  max_batch_size: number;
  max_batch_time_delay: number;
  timeout_ms: number;
  retry_schedule: string | null;
  ordering: string;
  rate_limit_per_second: number | null;
  circuit_state: string;
  circuit_failure_count: number;
  circuit_opened_at: number | null;
  stat_total: number;
  stat_successes: number;
  stat_failures: number;
  stat_failures_since_success: number;
  last_success: string | null;
  last_failure: string | null;
  last_call: string | null;
  last_success_at: number | null;
  metadata: string;
  reference: string | null;
  reference_origin: string | null;
  audit: string;
  version: number;
  created_at: number;
  updated_at: number;
}

export interface WebhookVersionsTable {
  id: string;
  tenant_id: string;
  webhook_id: string;
  version: number;
  action: string;
  changed_at: number;
  changed_by: string;
  changes: string;
}

export interface Database {
  settings: SettingsTable;
  tenants: TenantsTable;
  api_keys: ApiKeysTable;
  accounts: AccountsTable;
  event_types: EventTypesTable;
  webhooks: WebhooksTable;
  webhook_versions: WebhookVersionsTable;
}
