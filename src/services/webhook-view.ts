/**
 * The webhook as clients see it: camelCase, ISO times, JSON columns parsed. Never the secret — that appears only in the
 * create and rotate answers, added there explicitly.
 */
import { DEFAULT_RETRY_SCHEDULE_SECONDS } from '../domain/retry-schedule.js';
import { fromJson, isoOrNull } from '../db/json.js';
import type { WebhookWithAccount } from '../db/repos/webhooks-repo.js';
import type { CallRecord } from '../queue/record-attempt.js';

export type CallView = CallRecord;

export interface AuditEntry {
  at: string;
  by: { type: string; id: string | null; name: string | null };
}

export type Audit = Partial<Record<'created' | 'updated' | 'enabled' | 'disabled', AuditEntry>>;

export function webhookView(row: WebhookWithAccount) {
  return {
    id: row.id,
    href: `/v1/webhooks/${row.id}`,
    name: row.name,
    description: row.description,
    url: row.url,
    status: row.status as 'enabled' | 'disabled',
    disabledAt: isoOrNull(row.disabled_at),
    disabledReason: row.disabled_reason,
    kind: row.kind as 'notification' | 'validation',
    eventTypes: fromJson<string[]>(row.event_types, []),
    objectType: row.object_type,
    criteria: fromJson<Record<string, unknown>>(row.criteria, {}),
    filter: fromJson<Record<string, unknown> | null>(row.filter, null),
    includeResources: fromJson<string[]>(row.include_resources, []),
    headers: fromJson<Record<string, string>>(row.headers, {}),
    maxBatchSize: row.max_batch_size,
    maxBatchTimeDelay: row.max_batch_time_delay,
    timeoutMs: row.timeout_ms,
    retrySchedule: fromJson<number[]>(row.retry_schedule, [...DEFAULT_RETRY_SCHEDULE_SECONDS]),
    ordering: row.ordering as 'none' | 'fifo',
    orderingOnFailure: row.ordering_on_failure as 'skip' | 'block',
    rateLimitPerSecond: row.rate_limit_per_second,
    circuit: {
      state: row.circuit_state as 'closed' | 'open' | 'half_open',
      failureCount: row.circuit_failure_count,
      openedAt: isoOrNull(row.circuit_opened_at),
    },
    statistics: {
      total: row.stat_total,
      successes: row.stat_successes,
      failures: row.stat_failures,
      failuresSinceLastSuccess: row.stat_failures_since_success,
    },
    lastSuccess: fromJson<CallView | null>(row.last_success, null),
    lastFailure: fromJson<CallView | null>(row.last_failure, null),
    lastCall: fromJson<CallView | null>(row.last_call, null),
    secretRotation:
      row.previous_secret_expires_at === null
        ? null
        : { previousSecretExpiresAt: isoOrNull(row.previous_secret_expires_at) },
    metadata: fromJson<Record<string, unknown>>(row.metadata, {}),
    reference: row.reference,
    referenceOrigin: row.reference_origin,
    mode: row.mode as 'live' | 'test',
    accountId: row.account_id,
    account:
      row.account_id === null
        ? null
        : { id: row.account_id, href: `/v1/accounts/${row.account_id}`, name: row.account_name },
    audit: fromJson<Audit>(row.audit, {}),
    version: row.version,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

export type WebhookView = ReturnType<typeof webhookView>;
