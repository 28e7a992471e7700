/**
 * Embedded mode keeps WAL checkpoints off the event loop: a thread copies committed pages into the database file
 * while the main connection goes on writing (src/db/checkpointer.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { type Db, openDatabase } from '../../src/db/connect.js';
import { eventually } from '../helpers/receiver.js';

describe('SQLite checkpoints', () => {
  let dir: string | null = null;
  let db: Db | null = null;
  afterEach(async () => {
    await db?.close();
    if (dir !== null) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('copies committed pages into the database file from a thread, below the automatic threshold', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hookline-ckpt-'));
    const file = path.join(dir, 'hookline.db');
    db = openDatabase({ kind: 'sqlite', file });
    await sql`create table filler (body blob not null)`.execute(db.kysely);
    const start = fs.statSync(file).size;
    // 8 MB in 64 commits: far below the main connection's own checkpoint threshold (20 000 pages, about 80 MB), so
    // only the thread can move these pages out of the log.
    const chunk = Buffer.alloc(4096, 7);
    for (let t = 0; t < 64; t++) {
      await db.kysely.transaction().execute(async (trx) => {
        for (let i = 0; i < 32; i++) await sql`insert into filler (body) values (${chunk})`.execute(trx);
      });
    }
    const grown = await eventually(
      async () => fs.statSync(file).size,
      (size) => size > start + 8_000_000,
    );
    expect(grown).toBeGreaterThan(8_000_000);
    const rows = await sql<{ n: number }>`select count(*) as n from filler`.execute(db.kysely);
    expect(rows.rows[0]?.n).toBe(64 * 32);
  });
});
