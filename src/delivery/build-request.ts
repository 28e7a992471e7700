/**
 * The HTTP request for one attempt: the event envelope as body, Standard Webhooks `webhook-id` and
 * `webhook-timestamp`, Hookline's id headers and the webhook's own headers. Pure: the caller supplies ids and time.
 * The `webhook-signature` is added where the request is sent (`request-signer.ts`).
 */
import { HOOKLINE_VERSION } from '../version.js';

export interface EnvelopeEvent {
  id: string;
  type: string;
  occurredAt: number;
  /** The event's payload as stored: JSON text, spliced into the body as is (never parsed and re-serialised). */
  payloadJson: string;
  /** The included resources as stored (JSON text of an object), or null. */
  includedJson: string | null;
}

/**
 * `{ id, type, timestamp, data }`, plus the included resources the webhook asked for. Built as text around the stored
 * payload: parsing and re-serialising every event for every call was the largest JSON cost of a delivery, and the
 * stored text is already the canonical `JSON.stringify` of the published data.
 */
export function buildBody(event: EnvelopeEvent, includeResources: readonly string[]): string {
  return envelopeText(event, includeResources);
}

/** A batch: `{ batchId, events: [envelope, …] }` in publish order; `batchId` is the delivery id (`webhook-id`). */
export function buildBatchBody(batchId: string, events: EnvelopeEvent[], includeResources: readonly string[]): string {
  return `{"batchId":${JSON.stringify(batchId)},"events":[${events.map((e) => envelopeText(e, includeResources)).join(',')}]}`;
}

function envelopeText(event: EnvelopeEvent, includeResources: readonly string[]): string {
  const head = `{"id":${JSON.stringify(event.id)},"type":${JSON.stringify(event.type)},"timestamp":"${new Date(event.occurredAt).toISOString()}","data":${event.payloadJson}`;
  if (event.includedJson === null || includeResources.length === 0) return `${head}}`;
  const included = JSON.parse(event.includedJson) as Record<string, unknown>;
  const picked: Record<string, unknown> = {};
  for (const name of includeResources) if (name in included) picked[name] = included[name];
  return Object.keys(picked).length > 0 ? `${head},"included":${JSON.stringify(picked)}}` : `${head}}`;
}

export interface RequestIds {
  /** The delivery id: the same on every attempt, so receivers can de-duplicate (`webhook-id`). */
  deliveryId: string;
  attemptId: string;
  webhookId: string;
  eventType: string;
  correlationId: string | null;
}

/** The headers of an attempt but its signature; `timestampSec` is the `webhook-timestamp` the signature covers. */
export function buildHeaders(
  ids: RequestIds,
  customHeaders: Record<string, string>,
  timestampSec: number,
): Record<string, string> {
  return {
    ...customHeaders,
    'content-type': 'application/json',
    'user-agent': `Hookline/${HOOKLINE_VERSION}`,
    'webhook-id': ids.deliveryId,
    'webhook-timestamp': String(timestampSec),
    'x-request-uid': ids.attemptId,
    'x-hook-uid': ids.webhookId,
    'x-event-key': ids.eventType,
    ...(ids.correlationId !== null ? { 'x-correlation-id': ids.correlationId } : {}),
  };
}

const SENSITIVE = /authorization|cookie|token|secret|password|passwd|api[-_]?key|credential/i;

/** What the attempt log keeps: custom header values that look like credentials are redacted. */
export function redactHeaders(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) out[k] = SENSITIVE.test(k) ? '[redacted]' : v;
  return out;
}
