/**
 * The HTTP request for one attempt: the event envelope as body, Standard Webhooks signature headers, Hookline's id
 * headers and the webhook's own headers. Pure: the caller supplies ids, time and secrets.
 */
import { buildSignatureHeaders } from '../domain/signing.js';
import { HOOKLINE_VERSION } from '../version.js';

export interface EnvelopeEvent {
  id: string;
  type: string;
  occurredAt: number;
  data: unknown;
  included: Record<string, unknown> | null;
}

/** `{ id, type, timestamp, data }`, plus the included resources the webhook asked for. */
export function buildBody(event: EnvelopeEvent, includeResources: readonly string[]): string {
  return JSON.stringify(envelopeOf(event, includeResources));
}

/** A batch: `{ batchId, events: [envelope, …] }` in publish order; `batchId` is the delivery id (`webhook-id`). */
export function buildBatchBody(batchId: string, events: EnvelopeEvent[], includeResources: readonly string[]): string {
  return JSON.stringify({ batchId, events: events.map((e) => envelopeOf(e, includeResources)) });
}

function envelopeOf(event: EnvelopeEvent, includeResources: readonly string[]): Record<string, unknown> {
  const envelope: Record<string, unknown> = {
    id: event.id,
    type: event.type,
    timestamp: new Date(event.occurredAt).toISOString(),
    data: event.data,
  };
  if (event.included !== null && includeResources.length > 0) {
    const picked: Record<string, unknown> = {};
    for (const name of includeResources) if (name in event.included) picked[name] = event.included[name];
    if (Object.keys(picked).length > 0) envelope.included = picked;
  }
  return envelope;
}

export interface RequestIds {
  /** The delivery id: the same on every attempt, so receivers can de-duplicate (`webhook-id`). */
  deliveryId: string;
  attemptId: string;
  webhookId: string;
  eventType: string;
  correlationId: string | null;
}

export function buildHeaders(
  ids: RequestIds,
  body: string,
  secrets: string[],
  customHeaders: Record<string, string>,
  nowMs: number,
): Record<string, string> {
  const signature = buildSignatureHeaders(secrets, ids.deliveryId, Math.floor(nowMs / 1000), body);
  return {
    ...customHeaders,
    'content-type': 'application/json',
    'user-agent': `Hookline/${HOOKLINE_VERSION}`,
    ...signature,
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
