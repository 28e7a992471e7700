import type { DeliveriesTable } from '../db/schema.js';
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

/** The delivery's copy of its webhook's ordering: 0 none, 1 fifo (skip a failed one), 2 fifo (block behind it). */
export function orderingCode(o: { ordering: string; onFailure: string } | undefined): number {
  if (o === undefined || o.ordering !== 'fifo') return 0;
  return o.onFailure === 'block' ? 2 : 1;
}
