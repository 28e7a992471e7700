import { insertRows, type SqlTarget, type SqlType } from '../raw-sql.js';
import type { Kysely, Selectable } from 'kysely';
import type { TenantScope } from '../../domain/principal.js';
import type { PageRequest } from '../paging.js';
import type { Database, EventsTable, IdempotencyKeysTable } from '../schema.js';

export type EventRow = Selectable<EventsTable>;

export interface EventListFilter {
  type?: string;
  createdAfter?: number;
  createdBefore?: number;
}

/** Events of one tenant and mode; an account-scoped caller sees only its account's events. */
export class EventsRepo {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly target: SqlTarget,
  ) {}

  private scoped(scope: TenantScope) {
    let q = this.db
      .selectFrom('events')
      .selectAll()
      .where('tenant_id', '=', scope.tenantId)
      .where('mode', '=', scope.mode);
    if (scope.accountId !== null) q = q.where('account_id', '=', scope.accountId);
    return q;
  }

  async insert(row: EventsTable, references: Record<string, string>) {
    await this.insertMany([row], [references]);
  }

  /** `insertRows`: multi-row statements in chunks, or inside a SQLite transaction a prepared statement per row. */
  async insertMany(rows: EventsTable[], references: Array<Record<string, string>>): Promise<void> {
    // Hand-built: on the publish path the query builder cost more than the insert (`raw-sql.ts`).
    await insertRows(this.db, this.target, 'events', EVENT_COLUMNS, rows);
    const refs = rows.flatMap((row, i) =>
      Object.entries(references[i] ?? {}).map(([name, value]) => ({
        tenant_id: row.tenant_id,
        event_id: row.id,
        name,
        value,
      })),
    );
    for (let i = 0; i < refs.length; i += 500)
      await this.db
        .insertInto('event_refs')
        .values(refs.slice(i, i + 500))
        .execute();
  }

  async getByIds(ids: string[]): Promise<EventRow[]> {
    return ids.length === 0 ? [] : this.db.selectFrom('events').selectAll().where('id', 'in', ids).execute();
  }

  async getIdempotencyKeys(scope: TenantScope, keys: string[], notBefore: number) {
    return this.db
      .selectFrom('idempotency_keys')
      .selectAll()
      .where('tenant_id', '=', scope.tenantId)
      .where('mode', '=', scope.mode)
      .where('key', 'in', keys)
      .where('created_at', '>=', notBefore)
      .execute();
  }

  /** Stores answers to replay; an expired row under the same key is replaced. */
  async putIdempotencyKeys(rows: Array<Selectable<IdempotencyKeysTable>>): Promise<void> {
    for (let i = 0; i < rows.length; i += 500) {
      await this.db
        .insertInto('idempotency_keys')
        .values(rows.slice(i, i + 500))
        .onConflict((oc) =>
          oc.columns(['tenant_id', 'mode', 'key']).doUpdateSet((eb) => ({
            request_hash: eb.ref('excluded.request_hash'),
            response: eb.ref('excluded.response'),
            created_at: eb.ref('excluded.created_at'),
          })),
        )
        .execute();
    }
  }

  async get(scope: TenantScope, id: string): Promise<EventRow | undefined> {
    return this.scoped(scope).where('id', '=', id).executeTakeFirst();
  }

  async list(scope: TenantScope, f: EventListFilter, page: PageRequest): Promise<EventRow[]> {
    let q = this.scoped(scope);
    if (f.type !== undefined) q = q.where('type', '=', f.type);
    if (f.createdAfter !== undefined) q = q.where('created_at', '>=', f.createdAfter);
    if (f.createdBefore !== undefined) q = q.where('created_at', '<', f.createdBefore);
    if (page.cursor !== null) q = q.where('id', '<', page.cursor);
    return q
      .orderBy('id', 'desc')
      .limit(page.limit + 1)
      .execute();
  }

  /** Events since a time that never got a delivery for this webhook (for `recover` with `includeMissing`). */
  async listMissedBy(
    scope: TenantScope,
    webhook: { id: string; accountId: string | null },
    since: number,
  ): Promise<EventRow[]> {
    let q = this.db
      .selectFrom('events')
      .selectAll()
      .where('tenant_id', '=', scope.tenantId)
      .where('mode', '=', scope.mode)
      .where('created_at', '>=', since)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('deliveries')
              .select('deliveries.id')
              .whereRef('deliveries.event_id', '=', 'events.id')
              .where('deliveries.webhook_id', '=', webhook.id),
          ),
        ),
      );
    if (webhook.accountId !== null) q = q.where('account_id', '=', webhook.accountId);
    return q.orderBy('id').execute();
  }
}

/** Every column of an event row with its SQL type (`insertRows`). */
export const EVENT_COLUMNS: Record<keyof EventsTable, SqlType> = {
  id: 'text',
  tenant_id: 'text',
  mode: 'text',
  account_id: 'text',
  type: 'text',
  payload: 'text',
  refs: 'text',
  included: 'text',
  occurred_at: 'bigint',
  created_at: 'bigint',
  correlation_id: 'text',
  delivery_count: 'integer',
};
