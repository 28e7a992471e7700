import type { Kysely, Selectable } from 'kysely';
import type { PageRequest } from '../paging.js';
import type { ApiKeysTable, Database } from '../schema.js';

export type ApiKeyRow = Selectable<ApiKeysTable>;

export class ApiKeysRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: ApiKeyRow): Promise<void> {
    await this.db.insertInto('api_keys').values(row).execute();
  }

  /** The authentication lookup: by hash, live keys only, so a revoked key stops working on its next request. */
  async findActiveByHash(hash: string): Promise<ApiKeyRow | undefined> {
    return this.db
      .selectFrom('api_keys')
      .selectAll()
      .where('key_hash', '=', hash)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
  }

  async list(tenantId: string, page: PageRequest, accountId: string | null): Promise<ApiKeyRow[]> {
    let q = this.db
      .selectFrom('api_keys')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('revoked_at', 'is', null);
    if (accountId !== null) q = q.where('account_id', '=', accountId);
    if (page.cursor !== null) q = q.where('id', '<', page.cursor);
    return q
      .orderBy('id', 'desc')
      .limit(page.limit + 1)
      .execute();
  }

  async get(tenantId: string, id: string): Promise<ApiKeyRow | undefined> {
    return this.db
      .selectFrom('api_keys')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
  }

  async revoke(tenantId: string, id: string, now: number): Promise<boolean> {
    const res = await this.db
      .updateTable('api_keys')
      .set({ revoked_at: now })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }
}
