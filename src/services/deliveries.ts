/**
 * Reading and repairing deliveries: events, deliveries, the attempt log, manual attempts, recovery and test sends.
 * Every query is scoped by tenant and mode, and through the webhook by account.
 */
import { notFound } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import type { Principal, TenantScope } from '../domain/principal.js';
import type { DeliveryExecutor } from '../delivery/executor.js';
import type { DeliveryListFilter, DeliveryRow } from '../db/repos/deliveries-repo.js';
import type { EventListFilter } from '../db/repos/events-repo.js';
import { type PageRequest, toPage } from '../db/paging.js';
import { deliveriesOf } from '../queue/new-delivery.js';
import type { Notifier } from '../queue/notifier.js';
import { inTransaction, type ServiceDeps } from './deps.js';
import { eventMatches, rulesOf } from './event-matching.js';
import { attemptView, type BatchMember, deliveryView, eventView } from './delivery-views.js';
import { newEventRow } from './publish.js';
import { requireScope } from './webhooks.js';

export type DeliveryFilter = DeliveryListFilter;

export class DeliveryService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly notifier: Notifier,
    private readonly executor: DeliveryExecutor,
  ) {}

  private get repos() {
    return this.deps.repos;
  }

  private async webhookInScope(scope: TenantScope, webhookId: string) {
    const w = await this.repos.webhooks.get(scope, webhookId);
    if (w === undefined) throw notFound('webhook', webhookId);
    return w;
  }

  private async deliveryInScope(scope: TenantScope, webhookId: string, deliveryId: string) {
    await this.webhookInScope(scope, webhookId);
    const d = await this.repos.deliveries.get(scope.tenantId, webhookId, deliveryId);
    if (d === undefined) throw notFound('delivery', deliveryId);
    return d;
  }

  /** Delivery views with their batch members, loaded in one query for the page. */
  private async views(rows: DeliveryRow[]) {
    const members = await this.repos.deliveries.batchEvents(rows.map((r) => r.id));
    const byDelivery = new Map<string, BatchMember[]>();
    for (const m of members) {
      byDelivery.set(m.delivery_id, [
        ...(byDelivery.get(m.delivery_id) ?? []),
        { eventId: m.event_id, eventType: m.event_type },
      ]);
    }
    return rows.map((r) => deliveryView(r, byDelivery.get(r.id)));
  }

  async listEvents(principal: Principal, f: EventListFilter, page: PageRequest) {
    const scope = requireScope(principal);
    return toPage(await this.repos.events.list(scope, f, page), page.limit, eventView);
  }

  async getEvent(principal: Principal, id: string) {
    const scope = requireScope(principal);
    const e = await this.repos.events.get(scope, id);
    if (e === undefined) throw notFound('event', id);
    const deliveries = await this.repos.deliveries.listForEvent(scope.tenantId, id);
    return { ...eventView(e), deliveries: await this.views(deliveries) };
  }

  /** Cursor paging, or offset paging with a total when `offset` is given (the seed's `from` / `take`). */
  async listDeliveries(
    principal: Principal,
    webhookId: string,
    f: DeliveryFilter,
    page: PageRequest,
    offset?: { from: number; take: number },
  ) {
    const scope = requireScope(principal);
    await this.webhookInScope(scope, webhookId);
    if (offset !== undefined) {
      const { rows, total } = await this.repos.deliveries.listOffset(
        scope.tenantId,
        webhookId,
        f,
        offset.from,
        offset.take,
      );
      return { data: await this.views(rows), nextCursor: null, totalCount: total };
    }
    const page1 = toPage(await this.repos.deliveries.list(scope.tenantId, webhookId, f, page), page.limit, (r) => r);
    return { data: await this.views(page1.data), nextCursor: page1.nextCursor };
  }

  async getDelivery(principal: Principal, webhookId: string, deliveryId: string) {
    const [view] = await this.views([await this.deliveryInScope(requireScope(principal), webhookId, deliveryId)]);
    if (view === undefined) throw notFound('delivery', deliveryId);
    return view;
  }

  async listDeliveryAttempts(principal: Principal, webhookId: string, deliveryId: string, page: PageRequest) {
    const scope = requireScope(principal);
    await this.deliveryInScope(scope, webhookId, deliveryId);
    const rows = await this.repos.attempts.list(scope.tenantId, { deliveryId }, {}, page);
    return toPage(rows, page.limit, attemptView);
  }

  /** Schedules a new attempt now, even for a delivery that already failed for good. */
  async scheduleAttempt(principal: Principal, webhookId: string, deliveryId: string) {
    const scope = requireScope(principal);
    await this.deliveryInScope(scope, webhookId, deliveryId);
    const changed = await this.repos.deliveries.requeue(scope.tenantId, webhookId, { id: deliveryId }, this.deps.now());
    if (changed > 0) await this.notifier.wakeAll();
    return this.getDelivery(principal, webhookId, deliveryId);
  }

  async listAttempts(
    principal: Principal,
    webhookId: string,
    f: { since?: number; onlyFailed?: boolean },
    page: PageRequest,
  ) {
    const scope = requireScope(principal);
    await this.webhookInScope(scope, webhookId);
    return toPage(await this.repos.attempts.list(scope.tenantId, { webhookId }, f, page), page.limit, attemptView);
  }

  async getAttempt(principal: Principal, webhookId: string, attemptId: string) {
    const scope = requireScope(principal);
    await this.webhookInScope(scope, webhookId);
    const a = await this.repos.attempts.get(scope.tenantId, webhookId, attemptId);
    if (a === undefined) throw notFound('attempt', attemptId);
    return attemptView(a);
  }

  /**
   * Re-delivers every delivery of this webhook that failed since `since`; with `includeMissing`, also delivers the
   * events since then that the webhook never received (it was disabled, or did not exist yet).
   */
  async recover(principal: Principal, webhookId: string, since: number, includeMissing: boolean) {
    const scope = requireScope(principal);
    const w = await this.webhookInScope(scope, webhookId);
    const now = this.deps.now();
    const result = await inTransaction(this.deps, async (repos) => {
      const requeued = await repos.deliveries.requeue(scope.tenantId, webhookId, { failedSince: since }, now);
      if (!includeMissing) return { requeued, created: 0 };
      const rules = rulesOf(w);
      const missed = (await repos.events.listMissedBy(scope, { id: webhookId, accountId: w.account_id }, since)).filter(
        (e) =>
          eventMatches(rules, {
            id: e.id,
            type: e.type,
            data: JSON.parse(e.payload) as unknown,
            occurredAt: e.occurred_at,
            accountId: e.account_id,
            references: JSON.parse(e.refs) as Record<string, string>,
          }),
      );
      const { rows, members } = deliveriesOf(
        {
          tenantId: scope.tenantId,
          mode: scope.mode,
          webhookId,
          now,
          trigger: 'manual',
          ordering: { ordering: w.ordering, onFailure: w.ordering_on_failure },
        },
        missed,
        w.max_batch_size,
      );
      await repos.deliveries.insertMany(rows);
      await repos.deliveries.insertBatchEvents(members);
      return { requeued, created: rows.length };
    });
    if (result.requeued + result.created > 0) await this.notifier.wakeAll();
    return {
      deliveriesRequeued: result.requeued,
      deliveriesCreated: result.created,
      since: new Date(since).toISOString(),
    };
  }

  /** Sends a test event to the webhook now and answers with the attempt (recorded like any other). */
  async test(principal: Principal, webhookId: string, input: { type?: string; data?: unknown }) {
    const scope = requireScope(principal);
    const w = await this.webhookInScope(scope, webhookId);
    const now = this.deps.now();
    const type = input.type ?? 'hookline.test';
    const event = newEventRow({
      id: newId('event', now),
      scope,
      accountId: w.account_id,
      input: { type, data: input.data ?? { message: 'This is a test event from Hookline' } },
      occurredAt: now,
      now,
      correlationId: null,
      deliveryCount: 1,
    });
    const made = deliveriesOf(
      { tenantId: scope.tenantId, mode: scope.mode, webhookId, now, trigger: 'manual' },
      [{ id: event.id, type }],
      w.max_batch_size,
    );
    const [row] = made.rows;
    if (row === undefined) throw new Error('a test send made no delivery');
    const delivery = {
      ...row,
      status: 'delivering',
      // Leased to this request so no worker claims it while the API process sends it.
      lease_owner: `test_${event.id}`,
      lease_expires_at: now + this.deps.config.delivery.leaseSeconds * 1000,
    };
    await inTransaction(this.deps, async (repos) => {
      await repos.events.insert(event, {});
      await repos.deliveries.insertMany([delivery]);
      await repos.deliveries.insertBatchEvents(made.members);
    });
    const claimed = await this.repos.deliveries.get(scope.tenantId, webhookId, delivery.id);
    const [job] = await this.executor.load(claimed === undefined ? [] : [claimed]);
    const outcome = job === undefined ? null : await this.executor.execute(job, delivery.lease_owner);
    return {
      delivery: await this.getDelivery(principal, webhookId, delivery.id),
      attempt: outcome?.kind === 'attempt' ? attemptView(outcome.attempt) : null,
      ...(outcome?.kind === 'skipped' ? { skipped: outcome.reason } : {}),
    };
  }
}
