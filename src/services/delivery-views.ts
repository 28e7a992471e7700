import type { Selectable } from 'kysely';
import type { AttemptsTable, DeliveriesTable, EventsTable } from '../db/schema.js';
import { fromJson, isoOrNull } from '../db/json.js';

export interface BatchMember {
  eventId: string;
  eventType: string;
}

/** `members` lists a batch's events in order; a single-event delivery passes none. */
export function deliveryView(d: Selectable<DeliveriesTable>, members: BatchMember[] = []) {
  const events = members.length > 0 ? members : [{ eventId: d.event_id, eventType: d.event_type }];
  return {
    id: d.id,
    webhookId: d.webhook_id,
    eventId: d.event_id,
    eventIds: events.map((e) => e.eventId),
    eventType: d.event_type,
    eventTypes: [...new Set(events.map((e) => e.eventType))],
    totalEvents: events.length,
    batch: members.length > 0,
    batchOpen: d.batch_open === 1,
    status: d.status === 'delivering' ? 'delivering' : d.status,
    attempts: d.attempts,
    nextAttemptAt: d.status === 'pending' ? isoOrNull(d.next_attempt_at) : null,
    lastAttemptId: d.last_attempt_id,
    lastAttemptAt: isoOrNull(d.last_attempt_at),
    lastAttemptStatus: d.last_attempt_status,
    createdAt: new Date(d.created_at).toISOString(),
    updatedAt: new Date(d.updated_at).toISOString(),
  };
}

export function attemptView(a: Selectable<AttemptsTable>) {
  return {
    id: a.id,
    deliveryId: a.delivery_id,
    webhookId: a.webhook_id,
    eventId: a.event_id,
    url: a.url,
    trigger: a.trigger,
    parentAttemptId: a.parent_attempt_id,
    isRetry: a.attempt_number > 1,
    attemptNumber: a.attempt_number,
    status: a.status,
    requestedAt: new Date(a.requested_at).toISOString(),
    requestHeaders: fromJson<Record<string, string>>(a.request_headers, {}),
    requestBody: a.request_body,
    responseStatus: a.response_status,
    reasonPhrase: a.reason_phrase,
    responseHeaders: fromJson<Record<string, string>>(a.response_headers, {}),
    responseBody: a.response_body,
    elapsedMs: a.elapsed_ms,
    error: a.error,
  };
}

export function eventView(e: Selectable<EventsTable>) {
  return {
    id: e.id,
    type: e.type,
    data: JSON.parse(e.payload) as unknown,
    accountId: e.account_id,
    references: fromJson<Record<string, string>>(e.refs, {}),
    included: fromJson<Record<string, unknown> | null>(e.included, null),
    occurredAt: new Date(e.occurred_at).toISOString(),
    createdAt: new Date(e.created_at).toISOString(),
    correlationId: e.correlation_id,
    mode: e.mode,
    deliveryCount: e.delivery_count,
  };
}
