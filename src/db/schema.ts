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
  /** When the current run of failures began (null after a success): drives auto-disable. */
  failing_since: number | null;
  ordering_on_failure: string;
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

export interface EventsTable {
  id: string;
  tenant_id: string;
  mode: string;
  account_id: string | null;
  type: string;
  payload: string;
  refs: string;
  included: string | null;
  occurred_at: number;
  created_at: number;
  correlation_id: string | null;
  delivery_count: number;
}

export interface EventRefsTable {
  tenant_id: string;
  event_id: string;
  name: string;
  value: string;
}

export interface IdempotencyKeysTable {
  tenant_id: string;
  mode: string;
  key: string;
  request_hash: string;
  response: string;
  created_at: number;
}

/**
 * A delivery is one unit of work for one webhook, and the queue itself:
 *   pending --claim--> delivering --success--> succeeded
 *                          |--retryable--> pending (next_attempt_at later)
 *                          |--exhausted / final--> failed --manual attempt / recover--> pending
 *   delivering with an expired lease (crashed worker) --reclaim--> pending
 * A delivery whose webhook is disabled, or whose circuit is open, stays pending with next_attempt_at pushed out.
 */
export interface DeliveriesTable {
  id: string;
  tenant_id: string;
  mode: string;
  webhook_id: string;
  event_id: string;
  event_type: string;
  status: string;
  attempts: number;
  next_attempt_at: number;
  next_trigger: string;
  last_attempt_id: string | null;
  last_attempt_at: number | null;
  last_attempt_status: number | null;
  lease_owner: string | null;
  lease_expires_at: number | null;
  created_at: number;
  updated_at: number;
  /** 0 none, 1 fifo skipping a finally failed delivery, 2 fifo blocking behind it. */
  ordering: number;
  /** 1 while this batch delivery still accepts events. */
  batch_open: number;
  event_count: number;
}

export interface DeliveryEventsTable {
  delivery_id: string;
  position: number;
  event_id: string;
  event_type: string;
}

export interface AttemptsTable {
  id: string;
  tenant_id: string;
  mode: string;
  delivery_id: string;
  webhook_id: string;
  event_id: string;
  url: string;
  trigger: string;
  parent_attempt_id: string | null;
  attempt_number: number;
  status: string;
  requested_at: number;
  request_headers: string;
  request_body: string;
  response_status: number | null;
  reason_phrase: string | null;
  response_headers: string | null;
  response_body: string | null;
  elapsed_ms: number;
  error: string | null;
}

export interface Database {
  settings: SettingsTable;
  tenants: TenantsTable;
  api_keys: ApiKeysTable;
  accounts: AccountsTable;
  event_types: EventTypesTable;
  webhooks: WebhooksTable;
  webhook_versions: WebhookVersionsTable;
  events: EventsTable;
  event_refs: EventRefsTable;
  idempotency_keys: IdempotencyKeysTable;
  deliveries: DeliveriesTable;
  delivery_events: DeliveryEventsTable;
  attempts: AttemptsTable;
}
