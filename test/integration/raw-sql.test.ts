/**
 * Hand-built hot-path statements (`src/db/raw-sql.ts`) against real databases. On SQLite they run synchronously inside
 * a transaction, bypassing Kysely's executor: they must still belong to that transaction (rolled back with it), and
 * outside a transaction they must go through Kysely, never into another caller's open transaction.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Db, openDatabase } from '../../src/db/connect.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { EVENT_COLUMNS } from '../../src/db/repos/events-repo.js';
import { directIn, insertRows, RawStatement, type SqlType, withDirect } from '../../src/db/raw-sql.js';
import type { EventsTable, SettingsTable } from '../../src/db/schema.js';
import { createTestDatabase, DIALECTS, postgresAvailable, type TestDatabase } from '../helpers/databases.js';

const pgOk = await postgresAvailable();
const COLUMNS: Record<keyof SettingsTable, SqlType> = { key: 'text', value: 'text' };

for (const dialect of DIALECTS) {
  describe.skipIf(dialect === 'postgres' && !pgOk)(`raw statements on ${dialect}`, () => {
    let tdb: TestDatabase;
    let db: Db;

    beforeAll(async () => {
      tdb = await createTestDatabase(dialect);
      db = openDatabase(tdb.target);
      await migrateToLatest(db.kysely);
    });
    afterAll(async () => {
      await db?.close();
      await tdb?.drop();
    });

    async function keys(prefix: string): Promise<string[]> {
      const rows = await db.kysely
        .selectFrom('settings')
        .select('key')
        .where('key', 'like', `${prefix}%`)
        .orderBy('key')
        .execute();
      return rows.map((r) => r.key);
    }

    it('writes every row in a transaction, and nothing when the transaction fails', async () => {
      const rows = Array.from({ length: 250 }, (_, i) => ({ key: `a-${String(i).padStart(3, '0')}`, value: `${i}` }));
      await db.kysely.transaction().execute(async (trx) => {
        // The synchronous path is taken exactly where it is safe: in a transaction, on SQLite.
        expect(directIn(trx, db) !== null).toBe(dialect === 'sqlite');
        expect(directIn(db.kysely, db)).toBeNull();
        await insertRows(trx, db, 'settings', COLUMNS, rows, 100);
      });
      expect(await keys('a-')).toEqual(rows.map((r) => r.key));
      // 250 rows go as statements of 32, 16, 8 and 2 rows on SQLite: each value lands in its own row.
      const written = await db.kysely
        .selectFrom('settings')
        .select(['key', 'value'])
        .where('key', 'like', 'a-%')
        .execute();
      expect(new Map(written.map((r) => [r.key, r.value]))).toEqual(new Map(rows.map((r) => [r.key, r.value])));

      await expect(
        db.kysely.transaction().execute(async (trx) => {
          await insertRows(trx, db, 'settings', COLUMNS, [{ key: 'b-1', value: 'x' }], 100);
          await new RawStatement(db.dialect)
            .text('UPDATE settings SET value = ')
            .param('changed')
            .text(' WHERE key = ')
            .param('a-000')
            .run(trx, directIn(trx, db));
          throw new Error('abort');
        }),
      ).rejects.toThrow('abort');
      expect(await keys('b-')).toEqual([]);
      const first = await db.kysely
        .selectFrom('settings')
        .select('value')
        .where('key', '=', 'a-000')
        .executeTakeFirst();
      expect(first?.value).toBe('0');
    });

    it("keeps every column's type and nulls, in and outside a transaction", async () => {
      const row = (id: string, accountId: string | null): EventsTable => ({
        id,
        tenant_id: 'ten_raw',
        mode: 'live',
        account_id: accountId,
        type: 'raw.test',
        payload: '{"quote":"it\'s \\"quoted\\", {braced}, a,b"}',
        refs: '{}',
        included: null,
        occurred_at: 1_790_000_000_123,
        created_at: 1_790_000_000_456,
        correlation_id: null,
        delivery_count: 3,
      });
      const rows = [row('evt_raw_1', null), row('evt_raw_2', 'acc_1')];
      await db.kysely.transaction().execute((trx) => insertRows(trx, db, 'events', EVENT_COLUMNS, rows.slice(0, 1)));
      await insertRows(db.kysely, db, 'events', EVENT_COLUMNS, rows.slice(1));
      const back = await db.kysely
        .selectFrom('events')
        .selectAll()
        .where('tenant_id', '=', 'ten_raw')
        .orderBy('id')
        .execute();
      expect(back).toEqual(rows);
    });

    it('reads rows the same way directly and through Kysely, from the same statement text', async () => {
      await insertRows(db.kysely, db, 'settings', COLUMNS, [
        { key: 'r-1', value: 'one' },
        { key: 'r-2', value: 'two' },
      ]);
      const expected = [
        { key: 'r-1', value: 'one', n: 3, absent: null },
        { key: 'r-2', value: 'two', n: 3, absent: null },
      ];
      // Direct (in a transaction, on SQLite), then through Kysely, then directly again: on SQLite the three share one
      // prepared statement, and each must get rows keyed by column name.
      const statement = () =>
        new RawStatement(db.dialect).text(
          "SELECT key, value, length(value) AS n, NULL AS absent FROM settings WHERE key LIKE 'r-%' ORDER BY key",
        );
      const inTrx = () =>
        db.kysely
          .transaction()
          .execute(async (trx) => (await statement().run<Record<string, unknown>>(trx, directIn(trx, db))).rows);
      expect(await inTrx()).toEqual(expected);
      expect((await statement().run<Record<string, unknown>>(db.kysely)).rows).toEqual(expected);
      expect(await inTrx()).toEqual(expected);
      // A statement returning what it changed reads the same way.
      const updated = await db.kysely
        .transaction()
        .execute(
          async (trx) =>
            (
              await new RawStatement(db.dialect)
                .text("UPDATE settings SET value = value || '!' WHERE key = ")
                .param('r-2')
                .text(' RETURNING key, value')
                .run<Record<string, unknown>>(trx, directIn(trx, db))
            ).rows,
        );
      expect(updated).toEqual([{ key: 'r-2', value: 'two!' }]);
    });

    it('counts the rows a direct update changed', async () => {
      await insertRows(db.kysely, db, 'settings', COLUMNS, [{ key: 'c-1', value: '1' }], 100);
      const res = await db.kysely
        .transaction()
        .execute((trx) =>
          new RawStatement(db.dialect)
            .text('UPDATE settings SET value = ')
            .param('2')
            .text(' WHERE key IN ')
            .list(['c-1', 'c-missing'])
            .run(trx, directIn(trx, db)),
        );
      expect(res.numAffectedRows).toBe(1n);
    });

    it('matches a list of values given as one parameter, whatever its length or contents', async () => {
      const odd = ["d-it's", 'd-"quoted"', 'd-, {braced}', 'd-ünïcode', 'd-plain'];
      const many = Array.from({ length: 1_200 }, (_, i) => `d-${String(i).padStart(4, '0')}`);
      await insertRows(
        db.kysely,
        db,
        'settings',
        COLUMNS,
        [...odd, ...many].map((key) => ({ key, value: key })),
        200,
      );
      const matching = async (values: string[], not = false) => {
        const q = new RawStatement(db.dialect)
          .text("SELECT key FROM settings WHERE key LIKE 'd-%' AND ")
          .inList('key', values, not)
          .text(' ORDER BY key');
        return (await withDirect(db, (k, direct) => q.run<{ key: string }>(k, direct))).rows.map((r) => r.key);
      };
      expect(await matching([...odd, 'd-absent'])).toEqual([...odd].sort());
      expect(await matching(many.slice(0, 1_100))).toEqual(many.slice(0, 1_100));
      expect(await matching([])).toEqual([]);
      expect(await matching([...many, 'd-plain'], true)).toEqual(odd.filter((k) => k !== 'd-plain').sort());
      expect((await matching([], true)).length).toBe(odd.length + many.length);
    });

    it('runs synchronous statements outside a transaction only while it holds the connection', async () => {
      // A transaction is open and waiting (another caller's): a statement run meanwhile through withDirect must not
      // land in it, so it stays when that transaction rolls back.
      let release: () => void = () => {};
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      let begun: () => void = () => {};
      const open = new Promise<void>((resolve) => {
        begun = resolve;
      });
      const other = db.kysely.transaction().execute(async (trx) => {
        await insertRows(trx, db, 'settings', COLUMNS, [{ key: 'e-rolled-back', value: 'x' }], 100);
        begun();
        await held;
        throw new Error('abort');
      });
      await open;
      const outside = withDirect(db, (k, direct) =>
        new RawStatement(db.dialect).text("INSERT INTO settings (key, value) VALUES ('e-kept', 'y')").run(k, direct),
      );
      release();
      await expect(other).rejects.toThrow('abort');
      await outside;
      expect(await keys('e-')).toEqual(['e-kept']);
    });
  });
}
