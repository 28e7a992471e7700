/**
 * The event envelope a webhook receives: `{ id, type, timestamp, data }`, plus the included resources the webhook
 * asked for. Built as text around the stored payload: parsing and re-serialising every event for every call was the
 * largest JSON cost of a delivery, and the stored text is already the canonical `JSON.stringify` of the published
 * data. Pure, so the attempt log can rebuild a body it did not store (`PLAIN_ENVELOPE_BODY`).
 */

export interface EnvelopeEvent {
  id: string;
  type: string;
  occurredAt: number;
  /** The event's payload as stored: JSON text, spliced into the body as is (never parsed and re-serialised). */
  payloadJson: string;
  /** The included resources as stored (JSON text of an object), or null. */
  includedJson: string | null;
}

export function envelopeText(event: EnvelopeEvent, includeResources: readonly string[]): string {
  const head = `{"id":${JSON.stringify(event.id)},"type":${JSON.stringify(event.type)},"timestamp":"${new Date(event.occurredAt).toISOString()}","data":${event.payloadJson}`;
  const includedJson = isPlainEnvelope(event, includeResources) ? null : event.includedJson;
  if (includedJson === null) return `${head}}`;
  const included = JSON.parse(includedJson) as Record<string, unknown>;
  const picked: Record<string, unknown> = {};
  for (const name of includeResources) if (name in included) picked[name] = included[name];
  return Object.keys(picked).length > 0 ? `${head},"included":${JSON.stringify(picked)}}` : `${head}}`;
}

/** True when the envelope holds nothing but the event itself: no included resources were asked for or exist. */
export function isPlainEnvelope(event: EnvelopeEvent, includeResources: readonly string[]): boolean {
  return event.includedJson === null || includeResources.length === 0;
}

/**
 * What an attempt row stores as its request body when the body was the plain envelope of the attempt's own event:
 * that text is rebuilt from the event when the attempt is read, instead of a second copy of the payload in every
 * attempt (28 % of the SQLite file for 1 KB events delivered once). A real body is never empty.
 */
export const PLAIN_ENVELOPE_BODY = '';
