/**
 * Reading and repairing deliveries: events, deliveries, the attempt log, manual attempts, recovery and test sends.
 * Every query is scoped by tenant and mode, and through the webhook by account.
 */
import { sql } from 'kysely';
import { matchesCriteria } from '../domain/criteria-match.js';
import { notFound } from '../domain/errors.js';
import { matchesEventType } from '../domain/event-type-match.js';
import { newId } from '../domain/ids.js';
import type { Principal, TenantScope } from '../domain/principal.js';
import type { DeliveryExecutor } from '../delivery/executor.js';
import { type PageRequest, toPage } from '../db/paging.js';
import { newDeliveryRow } from '../queue/new-delivery.js';
import { NOTIFY_CHANNEL, type Notifier } from '../queue/notifier.js';
import type { ServiceDeps } from './deps.js';
import { attemptView, deliveryView, eventView } from './delivery-views.js';
import { requireScope } from './webhooks.js';

export interface DeliveryFilter {
  status?: string;
  eventType?: string;
  createdAfter?: number;
  createdBefore?: number;
  lastAttemptAfter?: number;
  lastAttemptBefore?: number;
  references?: Record<string, string>;
}

export class DeliveryService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly notifier: Notifier,
    private readonly executor: DeliveryExecutor,
  ) {}

  private get k() {
    return this.deps.db.kysely;
  }

  private async webhookInScope(scope: TenantScope, webhookId: string) {
    const w = await this.deps.repos.webhooks.get(scope, webhookId);
    if (w === undefined) throw notFound('webhook', webhookId);
    return w;
  }

  private async wakeWorkers() {
    if (this.deps.db.capabilities.listenNotify) await sql`select pg_notify(${NOTIFY_CHANNEL}, '')`.execute(this.k);
    this.notifier.notifyLocal();
  }

  async listEvents(
    principal: Principal,
    f: { type?: string; createdAfter?: number; createdBefore?: number },
    page: PageRequest,
  ) {
    const scope = requireScope(principal);
    let q = this.k
      .selectFrom('events')
      .selectAll()
      .where('tenant_id', '=', scope.tenantId)
      .where('mode', '=', scope.mode);
    if (scope.accountId !== null) q = q.where('account_id', '=', scope.accountId);
    if (f.type !== undefined) q = q.where('type', '=', f.type);
    if (f.createdAfter !== undefined) q = q.where('created_at', '>=', f.createdAfter);
    if (f.createdBefore !== undefined) q = q.where('created_at', '<', f.createdBefore);
    if (page.cursor !== null) q = q.where('id', '<', page.cursor);
    const rows = await q
      .orderBy('id', 'desc')
      .limit(page.limit + 1)
      .execute();
    return toPage(rows, page.limit, eventView);
  }

  async getEvent(principal: Principal, id: string) {
    const scope = requireScope(principal);
    let q = this.k
      .selectFrom('events')
      .selectAll()
      .where('tenant_id', '=', scope.tenantId)
      .where('mode', '=', scope.mode)
      .where('id', '=', id);
    if (scope.accountId !== null) q = q.where('account_id', '=', scope.accountId);
    const e = await q.executeTakeFirst();
    if (e === undefined) throw notFound('event', id);
    const deliveries = await this.k
      .selectFrom('deliveries')
      .selectAll()
      .where('tenant_id', '=', scope.tenantId)
      .where('event_id', '=', id)
      .orderBy('id')
      .execute();
    return { ...eventView(e), deliveries: deliveries.map(deliveryView) };
  }

  async listDeliveries(principal: Principal, webhookId: string, f: DeliveryFilter, page: PageRequest) {
    const scope = requireScope(principal);
    await this.webhookInScope(scope, webhookId);
    let q = this.k
      .selectFrom('deliveries')
      .selectAll('deliveries')
      .where('deliveries.tenant_id', '=', scope.tenantId)
      .where('deliveries.webhook_id', '=', webhookId);
    if (f.status !== undefined) q = q.where('deliveries.status', '=', f.status);
    if (f.eventType !== undefined) q = q.where('deliveries.event_type', '=', f.eventType);
    if (f.createdAfter !== undefined) q = q.where('deliveries.created_at', '>=', f.createdAfter);
    if (f.createdBefore !== undefined) q = q.where('deliveries.created_at', '<', f.createdBefore);
    if (f.lastAttemptAfter !== undefined) q = q.where('deliveries.last_attempt_at', '>=', f.lastAttemptAfter);
    if (f.lastAttemptBefore !== undefined) q = q.where('deliveries.last_attempt_at', '<', f.lastAttemptBefore);
    for (const [name, value] of Object.entries(f.references ?? {})) {
      q = q.where(({ exists, selectFrom }) =>
        exists(
          selectFrom('event_refs')
            .select('event_refs.event_id')
            .whereRef('event_refs.event_id', '=', 'deliveries.event_id')
            .where('event_refs.tenant_id', '=', scope.tenantId)
            .where('event_refs.name', '=', name)
            .where('event_refs.value', '=', value),
        ),
      );
    }
    if (page.cursor !== null) q = q.where('deliveries.id', '<', page.cursor);
    const rows = await q
      .orderBy('deliveries.id', 'desc')
      .limit(page.limit + 1)
      .execute();
    return toPage(rows, page.limit, deliveryView);
  }

  private async deliveryInScope(scope: TenantScope, webhookId: string, deliveryId: string) {
    await this.webhookInScope(scope, webhookId);
    const d = await this.k
      .selectFrom('deliveries')
      .selectAll()
      .where('tenant_id', '=', scope.tenantId)
      .where('webhook_id', '=', webhookId)
      .where('id', '=', deliveryId)
      .executeTakeFirst();
    if (d === undefined) throw notFound('delivery', deliveryId);
    return d;
  }

  async getDelivery(principal: Principal, webhookId: string, deliveryId: string) {
    return deliveryView(await this.deliveryInScope(requireScope(principal), webhookId, deliveryId));
  }

  async listDeliveryAttempts(principal: Principal, webhookId: string, deliveryId: string, page: PageRequest) {
    const scope = requireScope(principal);
    await this.deliveryInScope(scope, webhookId, deliveryId);
    let q = this.k
      .selectFrom('attempts')
      .selectAll()
      .where('tenant_id', '=', scope.tenantId)
      .where('delivery_id', '=', deliveryId);
    if (page.cursor !== null) q = q.where('id', '<', page.cursor);
    const rows = await q
      .orderBy('id', 'desc')
      .limit(page.limit + 1)
      .execute();
    return toPage(rows, page.limit, attemptView);
  }

  /** Schedules a new attempt now, even for a delivery that already failed for good. */
  async scheduleAttempt(principal: Principal, webhookId: string, deliveryId: string) {
    const scope = requireScope(principal);
    const d = await this.deliveryInScope(scope, webhookId, deliveryId);
    const now = this.deps.now();
    if (d.status !== 'delivering') {
      await this.k
        .updateTable('deliveries')
        .set({ status: 'pending', next_attempt_at: now, next_trigger: 'manual', updated_at: now })
        .where('id', '=', d.id)
        .where('status', '!=', 'delivering')
        .execute();
      await this.wakeWorkers();
    }
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
    let q = this.k
      .selectFrom('attempts')
      .selectAll()
      .where('tenant_id', '=', scope.tenantId)
      .where('webhook_id', '=', webhookId);
    if (f.since !== undefined) q = q.where('requested_at', '>=', f.since);
    if (f.onlyFailed === true) q = q.where('status', '=', 'failed');
    if (page.cursor !== null) q = q.where('id', '<', page.cursor);
    const rows = await q
      .orderBy('id', 'desc')
      .limit(page.limit + 1)
      .execute();
    return toPage(rows, page.limit, attemptView);
  }

  async getAttempt(principal: Principal, webhookId: string, attemptId: string) {
    const scope = requireScope(principal);
    await this.webhookInScope(scope, webhookId);
    const a = await this.k
      .selectFrom('attempts')
      .selectAll()
      .where('tenant_id', '=', scope.tenantId)
      .where('webhook_id', '=', webhookId)
      .where('id', '=', attemptId)
      .executeTakeFirst();
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
    const result = await this.k.transaction().execute(async (trx) => {
      const requeued = await trx
        .updateTable('deliveries')
        .set({ status: 'pending', next_attempt_at: now, next_trigger: 'manual', updated_at: now })
        .where('tenant_id', '=', scope.tenantId)
        .where('webhook_id', '=', webhookId)
        .where('status', '=', 'failed')
        .where('created_at', '>=', since)
        .executeTakeFirst();
      let created = 0;
      if (includeMissing) {
        let q = trx
          .selectFrom('events')
          .select(['id', 'type', 'payload', 'account_id'])
          .where('tenant_id', '=', scope.tenantId)
          .where('mode', '=', scope.mode)
          .where('created_at', '>=', since)
          .where(({ not, exists, selectFrom }) =>
            not(
              exists(
                selectFrom('deliveries')
                  .select('deliveries.id')
                  .whereRef('deliveries.event_id', '=', 'events.id')
                  .where('deliveries.webhook_id', '=', webhookId),
              ),
            ),
          );
        if (w.account_id !== null) q = q.where('account_id', '=', w.account_id);
        const patterns = JSON.parse(w.event_types) as string[];
        const criteria = JSON.parse(w.criteria) as Record<string, unknown>;
        const events = (await q.orderBy('id').execute()).filter(
          (e) => matchesEventType(patterns, e.type) && matchesCriteria(criteria, JSON.parse(e.payload) as unknown),
        );
        for (let i = 0; i < events.length; i += 400) {
          await trx
            .insertInto('deliveries')
            .values(
              events
                .slice(i, i + 400)
                .map((e) =>
                  newDeliveryRow({
                    tenantId: scope.tenantId,
                    mode: scope.mode,
                    webhookId,
                    eventId: e.id,
                    eventType: e.type,
                    now,
                    trigger: 'manual',
                  }),
                ),
            )
            .execute();
        }
        created = events.length;
      }
      return { requeued: Number(requeued.numUpdatedRows), created };
    });
    if (result.requeued + result.created > 0) await this.wakeWorkers();
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
    const eventId = newId('event', now);
    const deliveryId = newId('delivery', now);
    const owner = `test_${deliveryId}`;
    await this.k.transaction().execute(async (trx) => {
      await trx
        .insertInto('events')
        .values({
          id: eventId,
          tenant_id: scope.tenantId,
          mode: scope.mode,
          account_id: w.account_id,
          type,
          payload: JSON.stringify(input.data ?? { message: 'This is a test event from Hookline' }),
          refs: '{}',
          included: null,
          occurred_at: now,
          created_at: now,
          correlation_id: null,
          delivery_count: 1,
        })
        .execute();
      // Leased to this request so no worker claims it while the API process sends it.
      await trx
        .insertInto('deliveries')
        .values({
          ...newDeliveryRow({
            tenantId: scope.tenantId,
            mode: scope.mode,
            webhookId,
            eventId,
            eventType: type,
            now,
            trigger: 'manual',
          }),
          id: deliveryId,
          status: 'delivering',
          lease_owner: owner,
          lease_expires_at: now + this.deps.config.delivery.leaseSeconds * 1000,
        })
        .execute();
    });
    const claimed = await this.k
      .selectFrom('deliveries')
      .selectAll()
      .where('id', '=', deliveryId)
      .executeTakeFirstOrThrow();
    const [job] = await this.executor.load([claimed]);
    const attempt = job === undefined ? null : await this.executor.execute(job, owner);
    return {
      delivery: await this.getDelivery(principal, webhookId, deliveryId),
      attempt: attempt === null ? null : attemptView(attempt),
    };
  }
}
