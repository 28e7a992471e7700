import type { Kysely, Selectable } from 'kysely';
import type { PageRequest } from '../paging.js';
import type { AccountsTable, Database } from '../schema.js';

export type AccountRow = Selectable<AccountsTable>;

export class AccountsRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: AccountRow): Promise<void> {
    await this.db.insertInto('accounts').values(row).execute();
  }

  async get(tenantId: string, id: string): Promise<AccountRow | undefined> {
    return this.db
      .selectFrom('accounts')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .executeTakeFirst();
  }

  async findByReference(tenantId: string, reference: string): Promise<AccountRow | undefined> {
    return this.db
      .selectFrom('accounts')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('reference', '=', reference)
      .executeTakeFirst();
  }

  async list(tenantId: string, page: PageRequest, onlyId: string | null): Promise<AccountRow[]> {
    let q = this.db.selectFrom('accounts').selectAll().where('tenant_id', '=', tenantId);
    if (onlyId !== null) q = q.where('id', '=', onlyId);
    if (page.cursor !== null) q = q.where('id', '<', page.cursor);
    return q
      .orderBy('id', 'desc')
      .limit(page.limit + 1)
      .execute();
  }
}
