import type { Insertable } from 'kysely';
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
}): Insertable<DeliveriesTable> {
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
  };
}
