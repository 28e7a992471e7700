import type { Kysely, Selectable, Updateable } from 'kysely';
import type { TenantScope } from '../../domain/principal.js';
import type { Db } from '../connect.js';
import type { PageRequest } from '../paging.js';
import { directIn, RawStatement } from '../raw-sql.js';
import type { Database, WebhooksTable, WebhookVersionsTable } from '../schema.js';

export type WebhookRow = Selectable<WebhooksTable>;
export type WebhookWithAccount = WebhookRow & { account_name: string | null };
export type WebhookVersionRow = Selectable<WebhookVersionsTable>;

/**
 * What making a call needs of a webhook. Not `*`: a webhook row also carries its last calls (response bodies of up to
 * 4 KB each), audit, metadata and statistics, and every claim loads a row per webhook it took.
 */
export const CALL_COLUMNS = [
  'id',
  'tenant_id',
  'name',
  'url',
  'status',
  'circuit_state',
  'circuit_failure_count',
  'circuit_opened_at',
  'headers',
  'include_resources',
  'secret_enc',
  'previous_secret_enc',
  'previous_secret_expires_at',
  'retry_schedule',
  'timeout_ms',
  'rate_limit_per_second',
] as const;
export type WebhookCallRow = Pick<WebhookRow, (typeof CALL_COLUMNS)[number]>;

/**
 * What calls need of these webhooks (`CALL_COLUMNS`), optionally within one tenant. By hand, with the ids as one
 * parameter: it runs for every claim and every hand-over, and a wide fan-out asks for hundreds of ids.
 *
 * On SQLite the tenant is checked as `+tenant_id`: the unary plus keeps the planner from reading the tenant's
 * webhooks through a tenant index and testing each against the id list — it chose that plan, which reads every
 * webhook of the tenant to return a few. With the plus it probes the primary key once per id. In a tenant of 10 000
 * webhooks (a throwaway script): 1.7 ms → 10-15 µs to read 1 of them, 7.3-7.7 → 3.0-3.6 ms to read 400.
 */
export function callRowsStatement(dialect: Db['dialect'], ids: readonly string[], tenantId?: string): RawStatement {
  const q = new RawStatement(dialect).text(`SELECT ${CALL_COLUMNS.join(', ')} FROM webhooks WHERE `);
  if (tenantId !== undefined)
    q.text(dialect === 'sqlite' ? '+tenant_id = ' : 'tenant_id = ')
      .param(tenantId)
      .text(' AND ');
  return q.inList('id', ids);
}

const FAN_OUT_COLUMNS = [
  'id',
  'event_types',
  'criteria',
  'filter',
  'max_batch_size',
  'max_batch_time_delay',
  'ordering',
  'ordering_on_failure',
] as const;
export type FanOutCandidateRow = Pick<WebhookRow, (typeof FAN_OUT_COLUMNS)[number]>;

export interface WebhookListFilter {
  status?: string;
  kind?: string;
  /** Webhooks listing exactly this event type (or pattern) among their `eventTypes`. */
  eventType?: string;
  accountId?: string;
  reference?: string;
  createdAfter?: number;
  createdBefore?: number;
}

/** Every method takes the caller's scope: tenant and mode always, account when the key is restricted to one. */
export class WebhooksRepo {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly target: Pick<Db, 'dialect' | 'direct' | 'capabilities'>,
  ) {}

  private scoped(scope: TenantScope) {
    let q = this.db
      .selectFrom('webhooks')
      .leftJoin('accounts', (j) =>
        j.onRef('accounts.id', '=', 'webhooks.account_id').onRef('accounts.tenant_id', '=', 'webhooks.tenant_id'),
      )
      .selectAll('webhooks')
      .select('accounts.name as account_name')
      .where('webhooks.tenant_id', '=', scope.tenantId)
      .where('webhooks.mode', '=', scope.mode);
    if (scope.accountId !== null) q = q.where('webhooks.account_id', '=', scope.accountId);
    return q;
  }

  async insert(row: WebhookRow): Promise<void> {
    await this.db.insertInto('webhooks').values(row).execute();
  }

  async get(scope: TenantScope, id: string): Promise<WebhookWithAccount | undefined> {
    return this.scoped(scope).where('webhooks.id', '=', id).executeTakeFirst();
  }

  /** Row lock for read-modify-write on PostgreSQL; SQLite serialises writers anyway. */
  async getForUpdate(scope: TenantScope, id: string, lock: boolean): Promise<WebhookWithAccount | undefined> {
    const q = this.scoped(scope).where('webhooks.id', '=', id);
    return (lock ? q.forUpdate('webhooks') : q).executeTakeFirst();
  }

  async findByName(scope: TenantScope, name: string): Promise<{ id: string } | undefined> {
    return this.db
      .selectFrom('webhooks')
      .select('id')
      .where('tenant_id', '=', scope.tenantId)
      .where('mode', '=', scope.mode)
      .where('name', '=', name)
      .executeTakeFirst();
  }

  async list(scope: TenantScope, filter: WebhookListFilter, page: PageRequest): Promise<WebhookWithAccount[]> {
    let q = this.scoped(scope);
    if (filter.status !== undefined) q = q.where('webhooks.status', '=', filter.status);
    if (filter.kind !== undefined) q = q.where('webhooks.kind', '=', filter.kind);
    if (filter.accountId !== undefined) q = q.where('webhooks.account_id', '=', filter.accountId);
    if (filter.reference !== undefined) q = q.where('webhooks.reference', '=', filter.reference);
    if (filter.createdAfter !== undefined) q = q.where('webhooks.created_at', '>=', filter.createdAfter);
    if (filter.createdBefore !== undefined) q = q.where('webhooks.created_at', '<', filter.createdBefore);
    if (filter.eventType !== undefined) {
      // event_types is a JSON array of strings; an element match is the quoted string inside it. `instr` avoids LIKE
      // wildcards.
      const needle = JSON.stringify(filter.eventType);
      q = q.where((eb) =>
        eb(eb.fn(this.target.capabilities.substringPositionFn, ['webhooks.event_types', eb.val(needle)]), '>', 0),
      );
    }
    if (page.cursor !== null) q = q.where('webhooks.id', '<', page.cursor);
    return q
      .orderBy('webhooks.id', 'desc')
      .limit(page.limit + 1)
      .execute();
  }

  async update(scope: TenantScope, id: string, patch: Updateable<WebhooksTable>): Promise<boolean> {
    let q = this.db
      .updateTable('webhooks')
      .set(patch)
      .where('tenant_id', '=', scope.tenantId)
      .where('mode', '=', scope.mode)
      .where('id', '=', id);
    if (scope.accountId !== null) q = q.where('account_id', '=', scope.accountId);
    const res = await q.executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  async delete(scope: TenantScope, id: string): Promise<boolean> {
    let q = this.db
      .deleteFrom('webhooks')
      .where('tenant_id', '=', scope.tenantId)
      .where('mode', '=', scope.mode)
      .where('id', '=', id);
    if (scope.accountId !== null) q = q.where('account_id', '=', scope.accountId);
    const res = await q.executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  /**
   * Enabled webhooks of one kind that an event or request of `accountId` may reach: same tenant and mode, and either
   * tenant-wide (no account) or that account's. Event-type patterns, criteria and filters are matched by the caller.
   * Asked once per publish group, so written by hand: building it with Kysely cost several times the query itself
   * (measured in the publish path).
   */
  private async reachable<R>(
    scope: TenantScope,
    accountId: string | null,
    kind: 'notification' | 'validation',
    columns: string,
  ): Promise<R[]> {
    const q = new RawStatement(this.target.dialect)
      .text(`SELECT ${columns} FROM webhooks WHERE tenant_id = `)
      .param(scope.tenantId)
      .text(' AND mode = ')
      .param(scope.mode)
      .text(" AND status = 'enabled' AND kind = ")
      .param(kind)
      .text(' AND (account_id IS NULL');
    if (accountId !== null) q.text(' OR account_id = ').param(accountId);
    return (await q.text(')').run<R>(this.db, directIn(this.db, this.target))).rows;
  }

  /** The webhooks an event may fan out to, with what publishing needs of them. */
  listFanOutCandidates(scope: TenantScope, accountId: string | null): Promise<FanOutCandidateRow[]> {
    return this.reachable(scope, accountId, 'notification', FAN_OUT_COLUMNS.join(', '));
  }

  /** What calls need of these webhooks, within one tenant (a delivery handed straight to a worker carries it). */
  async getCallRows(tenantId: string, ids: string[]): Promise<WebhookCallRow[]> {
    const q = callRowsStatement(this.target.dialect, ids, tenantId);
    return (await q.run<WebhookCallRow>(this.db, directIn(this.db, this.target))).rows;
  }

  /** The validation webhooks a request may call. */
  listValidationHooks(scope: TenantScope, accountId: string | null): Promise<WebhookRow[]> {
    return this.reachable(scope, accountId, 'validation', '*');
  }

  async insertVersion(row: WebhookVersionRow): Promise<void> {
    await this.db.insertInto('webhook_versions').values(row).execute();
  }

  async listVersions(
    tenantId: string,
    webhookId: string,
    opts: { limit: number; before: number | null },
  ): Promise<WebhookVersionRow[]> {
    let q = this.db
      .selectFrom('webhook_versions')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('webhook_id', '=', webhookId);
    if (opts.before !== null) q = q.where('version', '<', opts.before);
    return q
      .orderBy('version', 'desc')
      .limit(opts.limit + 1)
      .execute();
  }
}
