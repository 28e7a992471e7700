import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';

/** Installation-wide settings (the root key's hash). Not tenant data. */
export class SettingsRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async get(key: string): Promise<string | null> {
    const row = await this.db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirst();
    return row?.value ?? null;
  }

  /** Inserts only when absent, so two processes starting together agree on one value. Returns the stored value. */
  async putIfAbsent(key: string, value: string): Promise<string> {
    await this.db
      .insertInto('settings')
      .values({ key, value })
      .onConflict((oc) => oc.column('key').doNothing())
      .execute();
    return (await this.get(key)) ?? value;
  }
}
