import type { Kysely, Selectable } from 'kysely';
import { newId } from '../../domain/ids.js';
import { toJson } from '../json.js';
import type { PageRequest } from '../paging.js';
import type { Database, TenantsTable } from '../schema.js';

export type TenantRow = Selectable<TenantsTable>;

/** Tenants are the one table not scoped by tenant: only the root key reaches it. */
export class TenantsRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async create(input: { name: string; metadata: Record<string, unknown> }, now: number): Promise<TenantRow> {
    const row: TenantRow = {
      id: newId('tenant', now),
      name: input.name,
      metadata: toJson(input.metadata),
      created_at: now,
    };
    await this.db.insertInto('tenants').values(row).execute();
    return row;
  }

  async get(id: string): Promise<TenantRow | undefined> {
    return this.db.selectFrom('tenants').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async list(page: PageRequest): Promise<TenantRow[]> {
    let q = this.db.selectFrom('tenants').selectAll();
    if (page.cursor !== null) q = q.where('id', '<', page.cursor);
    return q
      .orderBy('id', 'desc')
      .limit(page.limit + 1)
      .execute();
  }
}
