import type { Kysely, Selectable, Updateable } from 'kysely';
import type { Database, EventTypesTable } from '../schema.js';

export type EventTypeRow = Selectable<EventTypesTable>;

export class EventTypesRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: EventTypeRow): Promise<void> {
    await this.db.insertInto('event_types').values(row).execute();
  }

  async get(tenantId: string, name: string): Promise<EventTypeRow | undefined> {
    return this.db
      .selectFrom('event_types')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('name', '=', name)
      .executeTakeFirst();
  }

  /** Paged by name (the catalogue's natural key), ascending. */
  async list(
    tenantId: string,
    opts: { limit: number; after: string | null; includeDeprecated: boolean; prefix: string | null },
  ): Promise<EventTypeRow[]> {
    let q = this.db.selectFrom('event_types').selectAll().where('tenant_id', '=', tenantId);
    if (!opts.includeDeprecated) q = q.where('deprecated', '=', 0);
    // substr() rather than LIKE: no wildcard escaping, whose syntax differs between the dialects.
    if (opts.prefix !== null) {
      const prefix = opts.prefix;
      q = q.where((eb) => eb(eb.fn('substr', ['name', eb.val(1), eb.val(prefix.length)]), '=', prefix));
    }
    if (opts.after !== null) q = q.where('name', '>', opts.after);
    return q
      .orderBy('name', 'asc')
      .limit(opts.limit + 1)
      .execute();
  }

  async update(tenantId: string, name: string, patch: Updateable<EventTypesTable>): Promise<boolean> {
    const res = await this.db
      .updateTable('event_types')
      .set(patch)
      .where('tenant_id', '=', tenantId)
      .where('name', '=', name)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  async delete(tenantId: string, name: string): Promise<boolean> {
    const res = await this.db
      .deleteFrom('event_types')
      .where('tenant_id', '=', tenantId)
      .where('name', '=', name)
      .executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }
}
