/**
 * Publishing: events, their references and one delivery per matching webhook are written in ONE transaction
 * (graphile-worker `add_job`, pg-boss adapters): a 2xx answer means every delivery is durable, and a crash before
 * commit leaves nothing half-written. One event (`POST /v1/events`) and a batch of up to 1 000
 * (`POST /v1/events/batch`) take the same path; a batch is validated whole first, so nothing is written when any
 * event is invalid.
 */
import { createHash } from 'node:crypto';
import type { ValidateFunction } from 'ajv';
import type { Kysely } from 'kysely';
import { AppError, type FieldError } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import type { Principal, TenantScope } from '../domain/principal.js';
import type { Database, EventsTable, IdempotencyKeysTable } from '../db/schema.js';
import { HandOff, type LocalDispatch } from '../delivery/local-dispatch.js';
import type { Notifier } from '../queue/notifier.js';
import { BatchAssembler, type FanOutTarget } from './batch-assembler.js';
import { inTransaction, type Repos, type ServiceDeps } from './deps.js';
import { eventMatches, type MatchRules, rulesOf } from './event-matching.js';
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

export interface PublishItem {
  input: PublishInput;
  idempotencyKey?: string;
}

export interface PublishResult {
  id: string;
  type: string;
  deliveries: number;
  createdAt: string;
}

export interface PublishOutcome {
  result: PublishResult;
  replayed: boolean;
}

const IDEMPOTENCY_WINDOW_MS = 24 * 3_600_000;

export function newEventRow(o: {
  id: string;
  scope: TenantScope;
  accountId: string | null;
  input: Pick<PublishInput, 'type' | 'data' | 'references' | 'included'>;
  occurredAt: number;
  now: number;
  correlationId: string | null;
  deliveryCount: number;
}): EventsTable {
  return {
    id: o.id,
    tenant_id: o.scope.tenantId,
    mode: o.scope.mode,
    account_id: o.accountId,
    type: o.input.type,
    payload: JSON.stringify(o.input.data ?? null),
    refs: o.input.references === undefined ? '{}' : JSON.stringify(o.input.references),
    included: o.input.included === undefined ? null : JSON.stringify(o.input.included),
    occurred_at: o.occurredAt,
    created_at: o.now,
    correlation_id: o.correlationId,
    delivery_count: o.deliveryCount,
  };
}

interface Checked {
  item: PublishItem;
  accountId: string | null;
  occurredAt: number | null;
  requestHash: string;
}

interface Candidate extends FanOutTarget {
  rules: MatchRules;
}

interface WriteContext {
  handOff: HandOff;
  /** Deliveries written pending, for the queue (the rest were handed over). */
  queued: number;
}

interface WaitingPublish {
  scope: TenantScope;
  checked: Checked;
  correlationId: string | null;
  resolve: (o: PublishOutcome) => void;
  reject: (e: unknown) => void;
}

/** Single publishes written in one transaction at most (a batch request has its own limit). */
const MAX_GROUP = 500;

export class PublishService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly notifier: Notifier,
  ) {}

  /**
   * One event (`POST /v1/events`). Validated on its own, then written with the other single publishes that arrived in
   * the same turn of the event loop: one transaction (one commit) for the group instead of one each — most of what a
   * publish costs. When the group's transaction fails (an idempotency conflict, a clashing event id), each of its
   * publishes is written again on its own, so one request's error is never another's.
   */
  async publish(
    principal: Principal,
    input: PublishInput,
    opts: { idempotencyKey?: string; correlationId: string | null },
  ): Promise<PublishOutcome> {
    const scope = requireScope(principal);
    const item: PublishItem =
      opts.idempotencyKey === undefined ? { input } : { input, idempotencyKey: opts.idempotencyKey };
    const [checked] = await this.check(scope, [item], () => 'body');
    if (checked === undefined) throw new Error('check returned no item');
    return new Promise((resolve, reject) => {
      this.waiting.push({ scope, checked, correlationId: opts.correlationId, resolve, reject });
      this.scheduleGroup();
    });
  }

  private waiting: WaitingPublish[] = [];
  private grouping: Promise<void> | null = null;
  private groupScheduled = false;

  private scheduleGroup(): void {
    if (this.groupScheduled || this.grouping !== null) return;
    this.groupScheduled = true;
    setImmediate(() => {
      this.groupScheduled = false;
      void this.writeGroup();
    });
  }

  private async writeGroup(): Promise<void> {
    const group = this.waiting.splice(0, MAX_GROUP);
    if (group.length === 0) return;
    this.grouping = (async () => {
      try {
        const outcomes = await this.writeAll(group);
        group.forEach((g, i) => {
          const out = outcomes[i];
          if (out === undefined) g.reject(new Error('publish group returned no outcome'));
          else g.resolve(out);
        });
      } catch (err) {
        if (group.length === 1) {
          group[0]?.reject(err);
        } else {
          // Nothing of the group was written: write each on its own, so only the faulty one fails.
          for (const g of group) {
            try {
              const [out] = await this.writeAll([g]);
              if (out === undefined) throw new Error('publish returned no outcome');
              g.resolve(out);
            } catch (e) {
              g.reject(e);
            }
          }
        }
      }
    })();
    await this.grouping;
    this.grouping = null;
    if (this.waiting.length > 0) this.scheduleGroup();
  }

  /** Writes waiting publishes, of any tenants, in one transaction; outcomes in their order. */
  private async writeAll(group: WaitingPublish[]): Promise<PublishOutcome[]> {
    const byScope = new Map<string, WaitingPublish[]>();
    for (const g of group) {
      const k = `${g.scope.tenantId}\u0000${g.scope.mode}\u0000${g.scope.accountId ?? ''}`;
      const list = byScope.get(k);
      if (list === undefined) byScope.set(k, [g]);
      else list.push(g);
    }
    const outcomeOf = new Map<WaitingPublish, PublishOutcome>();
    const ctx = this.writeContext();
    await this.committing(ctx, async (repos, trx) => {
      for (const list of byScope.values()) {
        const first = list[0];
        if (first === undefined) continue;
        const outs = await this.write(
          ctx,
          repos,
          trx,
          first.scope,
          list.map((g) => g.checked),
          (i) => list[i]?.correlationId ?? null,
        );
        list.forEach((g, i) => {
          const out = outs[i];
          if (out !== undefined) outcomeOf.set(g, out);
        });
      }
    });
    return group.map((g) => outcomeOf.get(g)).filter((o): o is PublishOutcome => o !== undefined);
  }

  /** `fieldPrefix(i)` names where item i sits in the request: `body` for one event, `body.events[i]` for a batch. */
  async publishMany(
    principal: Principal,
    items: PublishItem[],
    correlationId: string | null,
    fieldPrefix: string | ((i: number) => string) = (i) => `body.events[${i}]`,
  ): Promise<PublishOutcome[]> {
    const scope = requireScope(principal);
    const prefix = typeof fieldPrefix === 'string' ? () => fieldPrefix : fieldPrefix;
    const checked = await this.check(scope, items, prefix);
    const ctx = this.writeContext();
    return this.committing(ctx, (repos, trx) => this.write(ctx, repos, trx, scope, checked, () => correlationId));
  }

  /** Deliveries written leased to a worker in this process are handed to it on commit (`local-dispatch.ts`). */
  setLocalDispatch(dispatch: LocalDispatch | null): void {
    this.dispatch = dispatch;
  }

  private dispatch: LocalDispatch | null = null;

  private writeContext(): WriteContext {
    return { handOff: new HandOff(this.dispatch), queued: 0 };
  }

  /**
   * Runs the writes in one transaction; then hands leased deliveries to the local worker, and wakes it when queued
   * deliveries are ones it may take now (see `HandOff.queuedClaimable`; other processes are woken by the transaction's
   * NOTIFY).
   */
  private async committing<T>(
    ctx: WriteContext,
    work: (repos: Repos, trx: Kysely<Database>) => Promise<T>,
  ): Promise<T> {
    let out: T;
    try {
      out = await inTransaction(this.deps, work);
    } catch (err) {
      ctx.handOff.failed();
      throw err;
    }
    ctx.handOff.committed();
    if (ctx.handOff.queuedClaimable) this.notifier.notifyLocal();
    return out;
  }

  /** Writes checked events of one scope, with their deliveries and idempotency keys, inside the caller's transaction. */
  private async write(
    ctx: WriteContext,
    repos: Repos,
    trx: Kysely<Database>,
    scope: TenantScope,
    checked: Checked[],
    correlationOf: (i: number) => string | null,
  ): Promise<PublishOutcome[]> {
    const now = this.deps.now();
    const prior = await this.priorResults(repos, scope, checked, now);
    const candidates = new Map<string | null, Candidate[]>();
    const events: EventsTable[] = [];
    const references: Array<Record<string, string>> = [];
    const assembler = new BatchAssembler(repos, scope, now, this.deps.db.capabilities.skipLocked);
    const keys: IdempotencyKeysTable[] = [];
    const out: PublishOutcome[] = [];
    const claimedKeys = new Set<string>();
    const createdAt = new Date(now).toISOString();
    for (const [i, c] of checked.entries()) {
      const earlier = prior.get(c);
      if (earlier !== undefined) {
        out.push({ result: earlier, replayed: true });
        continue;
      }
      const key = c.item.idempotencyKey;
      if (key !== undefined) {
        // The same key twice in one batch (or group): the second is a replay of the first.
        if (claimedKeys.has(key)) {
          const firstAt = checked.findIndex((x) => x.item.idempotencyKey === key);
          if (checked[firstAt]?.requestHash !== c.requestHash) {
            throw new AppError('idempotency_conflict', `Idempotency-Key "${key}": already used with a different body`);
          }
          const first = out[firstAt];
          if (first !== undefined) out.push({ result: first.result, replayed: true });
          continue;
        }
        claimedKeys.add(key);
      }
      let list = candidates.get(c.accountId);
      if (list === undefined) {
        list = (await repos.webhooks.listFanOutCandidates(scope, c.accountId)).map((w) => ({
          id: w.id,
          rules: rulesOf(w),
          maxBatchSize: w.max_batch_size,
          maxBatchTimeDelay: w.max_batch_time_delay,
          ordering: w.ordering,
          orderingOnFailure: w.ordering_on_failure,
        }));
        candidates.set(c.accountId, list);
      }
      const { input } = c.item;
      const eventId = input.id ?? newId('event', now);
      const subject = {
        id: eventId,
        type: input.type,
        data: input.data,
        occurredAt: c.occurredAt ?? now,
        accountId: c.accountId,
        references: input.references ?? {},
      };
      const matched = list.filter((w) => eventMatches(w.rules, subject));
      const eventRow = newEventRow({
        id: eventId,
        scope,
        accountId: c.accountId,
        input,
        occurredAt: c.occurredAt ?? now,
        now,
        correlationId: correlationOf(i),
        deliveryCount: matched.length,
      });
      events.push(eventRow);
      references.push(input.references ?? {});
      for (const w of matched) {
        // Plain deliveries may go straight to a worker here; batches and FIFO order need the queue.
        const plain = w.maxBatchSize <= 1 && w.ordering !== 'fifo';
        const lease = plain ? ctx.handOff.lease(now, eventRow.payload.length) : null;
        if (!plain) ctx.handOff.queue();
        const row = await assembler.add(w, { id: eventId, type: input.type }, lease);
        if (lease !== null && row !== null) {
          ctx.handOff.add({ delivery: row, events: [eventRow], batch: false }, lease);
        } else {
          ctx.queued++;
        }
      }
      const result: PublishResult = {
        id: eventId,
        type: input.type,
        deliveries: matched.length,
        createdAt,
      };
      if (key !== undefined) {
        keys.push({
          tenant_id: scope.tenantId,
          mode: scope.mode,
          key,
          request_hash: c.requestHash,
          response: JSON.stringify(result),
          created_at: now,
        });
      }
      out.push({ result, replayed: false });
    }
    await ctx.handOff.attachWebhooks((ids) => repos.webhooks.getCallRows(scope.tenantId, ids));
    await repos.events.insertMany(events, references);
    await assembler.flush();
    await repos.events.putIdempotencyKeys(keys);
    if (ctx.queued > 0) await this.notifier.notifyOnCommit(trx);
    return out;
  }

  /** Validates every item before anything is written; all problems are reported at once, each naming its field. */
  private async check(scope: TenantScope, items: PublishItem[], prefix: (i: number) => string): Promise<Checked[]> {
    const errors: FieldError[] = [];
    const accounts = new Map<string, boolean>();
    // One catalogue lookup per event type in the request, not one per event.
    const schemas = new Map<string, ValidateFunction | null>();
    const out: Checked[] = [];
    for (const [i, item] of items.entries()) {
      const at = prefix(i);
      const { input } = item;
      let accountId: string | null = input.accountId ?? null;
      if (scope.accountId !== null) {
        if (accountId !== null && accountId !== scope.accountId) {
          throw new AppError('forbidden', `${at}.accountId: this API key is restricted to another account`);
        }
        accountId = scope.accountId;
      } else if (accountId !== null) {
        let exists = accounts.get(accountId);
        if (exists === undefined) {
          exists = (await this.deps.repos.accounts.get(scope.tenantId, accountId)) !== undefined;
          accounts.set(accountId, exists);
        }
        if (!exists) errors.push({ field: `${at}.accountId`, message: `account ${accountId} does not exist` });
      }
      let occurredAt: number | null = null;
      if (input.occurredAt !== undefined) {
        occurredAt = Date.parse(input.occurredAt);
        if (!Number.isFinite(occurredAt))
          errors.push({ field: `${at}.occurredAt`, message: 'must be an ISO 8601 date-time' });
      }
      errors.push(...(await this.schemaErrors(scope, input, `${at}.data`, schemas)));
      out.push({
        item,
        accountId,
        occurredAt,
        // Only an idempotent publish compares bodies: no hash of every payload otherwise.
        requestHash:
          item.idempotencyKey === undefined ? '' : createHash('sha256').update(JSON.stringify(input)).digest('hex'),
      });
    }
    if (errors.length > 0) {
      const shown = errors.slice(0, 50);
      const code = errors.some((e) => e.message.startsWith('does not match')) ? 'unprocessable' : 'validation_failed';
      throw new AppError(code, shown.map((e) => `${e.field} ${e.message}`).join('; '), { errors: shown });
    }
    return out;
  }

  private async schemaErrors(
    scope: TenantScope,
    input: PublishInput,
    at: string,
    schemas: Map<string, ValidateFunction | null>,
  ): Promise<FieldError[]> {
    let validate = schemas.get(input.type);
    if (validate === undefined) {
      const cacheKey = `${scope.tenantId}\u0000${input.type}`;
      let et = this.deps.caches.eventTypes.get(cacheKey);
      if (et === undefined) {
        et = (await this.deps.repos.eventTypes.get(scope.tenantId, input.type)) ?? null;
        this.deps.caches.eventTypes.set(cacheKey, et);
      }
      validate =
        et?.schema == null ? null : compilePayloadSchema(`${scope.tenantId}:${et.name}:${et.updated_at}`, et.schema);
      schemas.set(input.type, validate);
    }
    if (validate === null || validate(input.data)) return [];
    return (validate.errors ?? []).slice(0, 20).map((e) => ({
      field: `${at}${e.instancePath.replace(/\//g, '.')}`,
      message: `does not match the schema of event type ${input.type}: ${e.message ?? 'is not valid'}`,
    }));
  }

  /**
   * Earlier answers to replay: by `Idempotency-Key` within 24 h (a different body under the same key is a conflict),
   * or by a client-chosen event id that already exists.
   */
  private async priorResults(repos: Repos, scope: TenantScope, checked: Checked[], now: number) {
    const prior = new Map<Checked, PublishResult>();
    const keyed = checked.filter((c) => c.item.idempotencyKey !== undefined);
    if (keyed.length > 0) {
      const rows = await repos.events.getIdempotencyKeys(
        scope,
        keyed.map((c) => c.item.idempotencyKey as string),
        now - IDEMPOTENCY_WINDOW_MS,
      );
      const byKey = new Map(rows.map((r) => [r.key, r]));
      for (const c of keyed) {
        const row = byKey.get(c.item.idempotencyKey as string);
        if (row === undefined) continue;
        if (row.request_hash !== c.requestHash) {
          throw new AppError(
            'idempotency_conflict',
            `Idempotency-Key "${row.key}": already used with a different body`,
          );
        }
        prior.set(c, JSON.parse(row.response) as PublishResult);
      }
    }
    const withIds = checked.filter((c) => c.item.input.id !== undefined && !prior.has(c));
    if (withIds.length > 0) {
      const existing = await repos.events.getByIds(withIds.map((c) => c.item.input.id as string));
      const byId = new Map(existing.map((e) => [e.id, e]));
      for (const c of withIds) {
        const e = byId.get(c.item.input.id as string);
        if (e === undefined) continue;
        if (e.tenant_id !== scope.tenantId || e.mode !== scope.mode) {
          throw new AppError('conflict', `body.id: event id ${e.id} is already used`);
        }
        prior.set(c, {
          id: e.id,
          type: e.type,
          deliveries: e.delivery_count,
          createdAt: new Date(e.created_at).toISOString(),
        });
      }
    }
    return prior;
  }
}
