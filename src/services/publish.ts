/**
 * Publishing: the event, its references and one delivery per matching webhook are written in ONE transaction
 * (graphile-worker `add_job`, pg-boss adapters): a 2xx answer means every delivery is durable, and a crash before
 * commit leaves nothing half-written.
 */
import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import { matchesCriteria } from '../domain/criteria-match.js';
import { AppError, invalidField } from '../domain/errors.js';
import { matchesEventType } from '../domain/event-type-match.js';
import { newId } from '../domain/ids.js';
import type { Principal, TenantScope } from '../domain/principal.js';
import type { Database } from '../db/schema.js';
import { newDeliveryRow } from '../queue/new-delivery.js';
import { NOTIFY_CHANNEL, type Notifier } from '../queue/notifier.js';
import { sql } from 'kysely';
import type { ServiceDeps } from './deps.js';
import { compilePayloadSchema } from './payload-schemas.js';
import { requireScope } from './webhooks.js';

export interface PublishInput {
  id?: string;
  type: string;
  data: unknown;
  accountId?: string | null;
  occurredAt?: string;
  references?: Record<string, string>;
  included?: Record<string, unknown>;
}

export interface PublishResult {
  id: string;
  type: string;
  deliveries: number;
  createdAt: string;
}

const INSERT_CHUNK = 400;

export class PublishService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly notifier: Notifier,
  ) {}

  async publish(
    principal: Principal,
    input: PublishInput,
    opts: { idempotencyKey?: string; correlationId: string | null },
  ): Promise<{ result: PublishResult; replayed: boolean }> {
    const scope = requireScope(principal);
    const accountId = await this.resolveAccount(scope, input.accountId);
    await this.validatePayload(scope, input);
    const occurredAt = input.occurredAt === undefined ? null : Date.parse(input.occurredAt);
    if (occurredAt !== null && !Number.isFinite(occurredAt))
      throw invalidField('body.occurredAt', 'must be an ISO 8601 date-time');
    const requestHash = createHash('sha256').update(JSON.stringify(input)).digest('hex');

    const out = await this.deps.db.kysely.transaction().execute(async (trx) => {
      if (opts.idempotencyKey !== undefined) {
        const prior = await trx
          .selectFrom('idempotency_keys')
          .selectAll()
          .where('tenant_id', '=', scope.tenantId)
          .where('mode', '=', scope.mode)
          .where('key', '=', opts.idempotencyKey)
          .executeTakeFirst();
        if (prior !== undefined && prior.created_at > this.deps.now() - 24 * 3_600_000) {
          if (prior.request_hash !== requestHash) {
            throw new AppError(
              'idempotency_conflict',
              'Idempotency-Key: this key was already used with a different body',
            );
          }
          return { result: JSON.parse(prior.response) as PublishResult, replayed: true };
        }
        if (prior !== undefined) {
          await trx
            .deleteFrom('idempotency_keys')
            .where('tenant_id', '=', scope.tenantId)
            .where('mode', '=', scope.mode)
            .where('key', '=', opts.idempotencyKey)
            .execute();
        }
      }
      if (input.id !== undefined) {
        const existing = await trx
          .selectFrom('events')
          .select(['id', 'type', 'delivery_count', 'created_at', 'tenant_id'])
          .where('id', '=', input.id)
          .executeTakeFirst();
        if (existing !== undefined) {
          if (existing.tenant_id !== scope.tenantId) throw invalidField('body.id', 'is already used');
          // A client-chosen event id makes a publish idempotent by itself.
          return {
            result: {
              id: existing.id,
              type: existing.type,
              deliveries: existing.delivery_count,
              createdAt: new Date(existing.created_at).toISOString(),
            },
            replayed: true,
          };
        }
      }
      const result = await this.write(trx, scope, input, accountId, occurredAt, opts.correlationId);
      if (opts.idempotencyKey !== undefined) {
        await trx
          .insertInto('idempotency_keys')
          .values({
            tenant_id: scope.tenantId,
            mode: scope.mode,
            key: opts.idempotencyKey,
            request_hash: requestHash,
            response: JSON.stringify(result),
            created_at: this.deps.now(),
          })
          .execute();
      }
      if (result.deliveries > 0 && this.deps.db.capabilities.listenNotify) {
        await sql`select pg_notify(${NOTIFY_CHANNEL}, '')`.execute(trx);
      }
      return { result, replayed: false };
    });
    if (!out.replayed && out.result.deliveries > 0) this.notifier.notifyLocal();
    return out;
  }

  private async resolveAccount(scope: TenantScope, requested: string | null | undefined): Promise<string | null> {
    if (scope.accountId !== null) {
      if (requested != null && requested !== scope.accountId) {
        throw new AppError('forbidden', 'body.accountId: this API key is restricted to another account');
      }
      return scope.accountId;
    }
    if (requested == null) return null;
    if ((await this.deps.repos.accounts.get(scope.tenantId, requested)) === undefined) {
      throw invalidField('body.accountId', `account ${requested} does not exist`);
    }
    return requested;
  }

  private async validatePayload(scope: TenantScope, input: PublishInput) {
    const et = await this.deps.repos.eventTypes.get(scope.tenantId, input.type);
    if (et?.schema == null) return;
    const validate = compilePayloadSchema(`${scope.tenantId}:${et.name}:${et.updated_at}`, et.schema);
    if (!validate(input.data)) {
      const errors = (validate.errors ?? []).slice(0, 20).map((e) => ({
        field: `body.data${e.instancePath.replace(/\//g, '.')}`,
        message: e.message ?? 'is not valid',
      }));
      throw new AppError(
        'unprocessable',
        `body.data does not match the schema of event type ${input.type}: ${errors.map((e) => `${e.field} ${e.message}`).join('; ')}`,
        { errors },
      );
    }
  }

  private async write(
    trx: Kysely<Database>,
    scope: TenantScope,
    input: PublishInput,
    accountId: string | null,
    occurredAt: number | null,
    correlationId: string | null,
  ): Promise<PublishResult> {
    const now = this.deps.now();
    const eventId = input.id ?? newId('event', now);
    let q = trx
      .selectFrom('webhooks')
      .select(['id', 'event_types', 'criteria'])
      .where('tenant_id', '=', scope.tenantId)
      .where('mode', '=', scope.mode)
      .where('status', '=', 'enabled')
      .where('kind', '=', 'notification');
    // Tenant-wide webhooks (no account) get every account's events; an account's webhooks only its own.
    q =
      accountId === null
        ? q.where('account_id', 'is', null)
        : q.where((eb) => eb.or([eb('account_id', 'is', null), eb('account_id', '=', accountId)]));
    const candidates = await q.execute();
    const matched = candidates.filter(
      (w) =>
        matchesEventType(JSON.parse(w.event_types) as string[], input.type) &&
        matchesCriteria(JSON.parse(w.criteria) as Record<string, unknown>, input.data),
    );

    await trx
      .insertInto('events')
      .values({
        id: eventId,
        tenant_id: scope.tenantId,
        mode: scope.mode,
        account_id: accountId,
        type: input.type,
        payload: JSON.stringify(input.data ?? null),
        refs: JSON.stringify(input.references ?? {}),
        included: input.included === undefined ? null : JSON.stringify(input.included),
        occurred_at: occurredAt ?? now,
        created_at: now,
        correlation_id: correlationId,
        delivery_count: matched.length,
      })
      .execute();
    const refs = Object.entries(input.references ?? {});
    if (refs.length > 0) {
      await trx
        .insertInto('event_refs')
        .values(
          refs.map(([name, value]) => ({ tenant_id: scope.tenantId, event_id: eventId, name, value: String(value) })),
        )
        .execute();
    }
    const rows = matched.map((w) =>
      newDeliveryRow({
        tenantId: scope.tenantId,
        mode: scope.mode,
        webhookId: w.id,
        eventId,
        eventType: input.type,
        now,
        trigger: 'scheduled',
      }),
    );
    for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
      await trx
        .insertInto('deliveries')
        .values(rows.slice(i, i + INSERT_CHUNK))
        .execute();
    }
    return { id: eventId, type: input.type, deliveries: matched.length, createdAt: new Date(now).toISOString() };
  }
}
