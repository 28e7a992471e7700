/**
 * The insurance seed's view of deliveries: "batches" with `from` / `take` paging, their delivery attempts (status
 * `Scheduled` / `Succeeded` / `Failed`), and scheduling a new attempt. A batch is a delivery; for a webhook without
 * batching each batch holds one event.
 */
import { notFound } from '../domain/errors.js';
import type { Principal, TenantScope } from '../domain/principal.js';
import type { DeliveryListFilter, DeliveryRow } from '../db/repos/deliveries-repo.js';
import type { AttemptRow } from '../db/repos/attempts-repo.js';
import type { ServiceDeps } from './deps.js';
import type { DeliveryService } from './deliveries.js';
import { requireScope } from './webhooks.js';

export type BatchStatus = 'Scheduled' | 'Succeeded' | 'Failed';

/** How the seed's `lastDeliveryAttemptStatus` filter maps onto delivery statuses. */
export const BATCH_STATUS_FILTER: Record<BatchStatus, string[]> = {
  Scheduled: ['pending', 'delivering'],
  Succeeded: ['succeeded'],
  Failed: ['failed'],
};

function lastStatus(d: DeliveryRow): BatchStatus | null {
  if (d.status === 'succeeded') return 'Succeeded';
  if (d.last_attempt_status !== null && d.last_attempt_status >= 200 && d.last_attempt_status < 300) return 'Succeeded';
  if (d.attempts > 0) return 'Failed';
  return d.status === 'failed' ? 'Failed' : 'Scheduled';
}

function paged<T>(results: T[], from: number, take: number, total: number) {
  return {
    currentPage: Math.floor(from / take),
    pageCount: Math.ceil(total / take),
    pageSize: take,
    rowCount: results.length,
    totalCount: total,
    results,
  };
}

export class BatchService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly deliveries: DeliveryService,
  ) {}

  private async webhookInScope(scope: TenantScope, id: string) {
    const w = await this.deps.repos.webhooks.get(scope, id);
    if (w === undefined) throw notFound('webhook', id);
    return w;
  }

  private async views(rows: DeliveryRow[]) {
    const members = await this.deps.repos.deliveries.batchEvents(rows.map((r) => r.id));
    const byDelivery = new Map<string, Array<{ eventType: string; messageId: string }>>();
    for (const m of members) {
      byDelivery.set(m.delivery_id, [
        ...(byDelivery.get(m.delivery_id) ?? []),
        { eventType: m.event_type, messageId: m.event_id },
      ]);
    }
    return rows.map((d) => {
      const events = byDelivery.get(d.id) ?? [{ eventType: d.event_type, messageId: d.event_id }];
      return {
        batchId: d.id,
        creationTimestamp: d.created_at,
        events,
        eventTypes: [...new Set(events.map((e) => e.eventType))],
        lastDeliveryAttemptStatus: lastStatus(d),
        lastDeliveryAttemptTimestamp: d.last_attempt_at,
        totalEvents: events.length,
        status: d.status,
        open: d.batch_open === 1,
        attempts: d.attempts,
        nextAttemptAt: d.status === 'pending' ? d.next_attempt_at : null,
      };
    });
  }

  async list(principal: Principal, webhookId: string, f: DeliveryListFilter, from: number, take: number) {
    const scope = requireScope(principal);
    await this.webhookInScope(scope, webhookId);
    const { rows, total } = await this.deps.repos.deliveries.listOffset(scope.tenantId, webhookId, f, from, take);
    return paged(await this.views(rows), from, take, total);
  }

  private async batchInScope(scope: TenantScope, webhookId: string, batchId: string) {
    await this.webhookInScope(scope, webhookId);
    const d = await this.deps.repos.deliveries.get(scope.tenantId, webhookId, batchId);
    if (d === undefined) throw notFound('batch', batchId);
    return d;
  }

  async get(principal: Principal, webhookId: string, batchId: string) {
    const [view] = await this.views([await this.batchInScope(requireScope(principal), webhookId, batchId)]);
    if (view === undefined) throw notFound('batch', batchId);
    return view;
  }

  private attemptView(scope: TenantScope, accountId: string | null, a: AttemptRow) {
    return {
      accountId,
      batchId: a.delivery_id,
      deliveryAttemptId: a.id,
      deliveryTimestamp: a.requested_at,
      subscriptionId: a.webhook_id,
      tenantId: scope.tenantId,
      deliveryStatus: (a.status === 'succeeded' ? 'Succeeded' : 'Failed') as BatchStatus,
      error: a.error,
      requestHeaders: a.request_headers,
      responseStatusCode: a.response_status,
      response: a.response_body,
      trigger: a.trigger,
    };
  }

  /** The batch's attempts, newest first; a batch waiting for its next attempt leads with a `Scheduled` entry. */
  async attempts(principal: Principal, webhookId: string, batchId: string, from: number, take: number) {
    const scope = requireScope(principal);
    const w = await this.webhookInScope(scope, webhookId);
    const d = await this.batchInScope(scope, webhookId, batchId);
    const all = await this.deps.repos.attempts.list(
      scope.tenantId,
      { deliveryId: d.id },
      {},
      { limit: 10_000, cursor: null },
    );
    const entries = all.map((a) => this.attemptView(scope, w.account_id, a));
    const scheduled =
      d.status === 'pending' || d.status === 'delivering'
        ? [
            {
              accountId: w.account_id,
              batchId: d.id,
              deliveryAttemptId: null,
              deliveryTimestamp: d.next_attempt_at,
              subscriptionId: webhookId,
              tenantId: scope.tenantId,
              deliveryStatus: 'Scheduled' as BatchStatus,
              error: null,
              requestHeaders: null,
              responseStatusCode: null,
              response: null,
              trigger: d.next_trigger,
            },
          ]
        : [];
    const list = [...scheduled, ...entries];
    return paged(list.slice(from, from + take), from, take, list.length);
  }

  async attempt(principal: Principal, webhookId: string, batchId: string, attemptId: string) {
    const scope = requireScope(principal);
    const w = await this.webhookInScope(scope, webhookId);
    await this.batchInScope(scope, webhookId, batchId);
    const a = await this.deps.repos.attempts.get(scope.tenantId, webhookId, attemptId);
    if (a === undefined || a.delivery_id !== batchId) throw notFound('delivery attempt', attemptId);
    return this.attemptView(scope, w.account_id, a);
  }

  async schedule(principal: Principal, webhookId: string, batchId: string) {
    const d = await this.deliveries.scheduleAttempt(principal, webhookId, batchId);
    return { batchId: d.id, deliveryStatus: 'Scheduled' as BatchStatus, scheduledAt: d.nextAttemptAt };
  }
}
