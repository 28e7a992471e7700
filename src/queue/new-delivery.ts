import type { DeliveriesTable, DeliveryEventsTable } from '../db/schema.js';
import { newId } from '../domain/ids.js';

/** A delivery row ready to enqueue: pending and due now. Publish, recover and test sends all start here. */
export function newDeliveryRow(o: {
  tenantId: string;
  mode: string;
  webhookId: string;
  eventId: string;
  eventType: string;
  now: number;
  trigger: 'scheduled' | 'manual';
  /** From the webhook: `ordering` and `orderingOnFailure`. */
  ordering?: { ordering: string; onFailure: string };
}): DeliveriesTable {
  return {
    id: newId('delivery', o.now),
    tenant_id: o.tenantId,
    mode: o.mode,
    webhook_id: o.webhookId,
    event_id: o.eventId,
    event_type: o.eventType,
    status: 'pending',
    attempts: 0,
    next_attempt_at: o.now,
    next_trigger: o.trigger,
    last_attempt_id: null,
    last_attempt_at: null,
    last_attempt_status: null,
    lease_owner: null,
    lease_expires_at: null,
    created_at: o.now,
    updated_at: o.now,
    ordering: orderingCode(o.ordering),
    batch_open: 0,
    event_count: 1,
  };
}

type DeliveryBase = Omit<Parameters<typeof newDeliveryRow>[0], 'eventId' | 'eventType'>;

/**
 * Deliveries of `events` made outside publishing (recover, a test send): one each, or for a batching webhook
 * (`maxBatchSize` > 1) closed batches of up to `maxBatchSize`, due now — so its receiver gets the `{ batchId, events }`
 * body it always gets.
 */
export function deliveriesOf(
  base: DeliveryBase,
  events: ReadonlyArray<{ id: string; type: string }>,
  maxBatchSize: number,
): { rows: DeliveriesTable[]; members: DeliveryEventsTable[] } {
  if (maxBatchSize <= 1) {
    return { rows: events.map((e) => newDeliveryRow({ ...base, eventId: e.id, eventType: e.type })), members: [] };
  }
  const rows: DeliveriesTable[] = [];
  const members: DeliveryEventsTable[] = [];
  for (let i = 0; i < events.length; i += maxBatchSize) {
    const chunk = events.slice(i, i + maxBatchSize);
    const [first] = chunk;
    if (first === undefined) break;
    const row = { ...newDeliveryRow({ ...base, eventId: first.id, eventType: first.type }), event_count: chunk.length };
    rows.push(row);
    for (const [position, e] of chunk.entries()) {
      members.push({ delivery_id: row.id, position, event_id: e.id, event_type: e.type });
    }
  }
  return { rows, members };
}

/** The delivery's copy of its webhook's ordering: 0 none, 1 fifo (skip a failed one), 2 fifo (block behind it). */
export function orderingCode(o: { ordering: string; onFailure: string } | undefined): number {
  if (o === undefined || o.ordering !== 'fifo') return 0;
  return o.onFailure === 'block' ? 2 : 1;
}
