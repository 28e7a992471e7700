/**
 * Opens the database the configuration names. Dialect differences are capability flags decided here, not `if
 * (sqlite)` scattered through the code (Kysely's dialect adapters, pg-boss COMPATIBILITY_FLAGS).
 */
import fs from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { Checkpointer } from './checkpointer.js';
import type { Database } from './schema.js';

export interface DbCapabilities {
  /** `SELECT … FOR UPDATE SKIP LOCKED`: several workers may claim from one queue. */
  skipLocked: boolean;
  /** LISTEN/NOTIFY wakes workers in other processes; without it, wake-ups are in-process only. */
  listenNotify: boolean;
  /** The name of "position of a substring, 0 when absent": `strpos` on PostgreSQL, `instr` on SQLite. */
  substringPositionFn: 'strpos' | 'instr';
}

export interface Db {
  kysely: Kysely<Database>;
  dialect: 'sqlite' | 'postgres';
  capabilities: DbCapabilities;
  /** A short description for logs, without credentials. */
  describe: string;
  ping(): Promise<void>;
  close(): Promise<void>;
  /** PostgreSQL only: a pool for LISTEN connections and raw queries; null on SQLite. */
  pgPool: pg.Pool | null;
  /**
   * SQLite only (null on PostgreSQL): runs a statement synchronously on the connection Kysely uses, through the same
   * prepared-statement cache. Only for statements inside a Kysely transaction, which holds that single connection
   * (`raw-sql.ts` checks): outside one, a statement could land in another caller's open transaction.
   */
  direct: DirectSql | null;
}

/** Synchronous statements on an in-process database: no round trip, so a statement per row costs little. */
export interface DirectSql {
  run(sql: string, params: readonly unknown[]): { rows: unknown[]; changes: number };
}

// int8 (bigint) columns hold epoch milliseconds and counters, all far below 2^53: read them as numbers.
pg.types.setTypeParser(20, (v) => Number(v));

export type DatabaseTarget = { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string; poolSize?: number };

export function openDatabase(target: DatabaseTarget): Db {
  if (target.kind === 'postgres') {
    const pool = new pg.Pool({
      connectionString: target.url,
      max: target.poolSize ?? 10,
      // Fail fast instead of hanging when the server is unreachable.
      connectionTimeoutMillis: 5000,
      idleTimeoutMillis: 30_000,
    });
    pool.on('error', () => {
      // An idle client lost its connection; the pool replaces it. Queries report their own errors.
    });
    const kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return {
      kysely,
      dialect: 'postgres',
      capabilities: { skipLocked: true, listenNotify: true, substringPositionFn: 'strpos' },
      describe: target.url.replace(/\/\/([^:@/]+):([^@/]*)@/, '//$1:****@'),
      pgPool: pool,
      direct: null,
      async ping() {
        await sql`select 1`.execute(kysely);
      },
      async close() {
        await kysely.destroy();
      },
    };
  }

  if (target.file !== ':memory:') fs.mkdirSync(path.dirname(target.file), { recursive: true });
  const sqlite = new SqliteDatabase(target.file);
  // WAL lets readers proceed during writes; NORMAL sync is durable across process crashes (only an OS crash can
  // lose the last transactions), which is the trade-off the embedded mode documents.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  // Checkpoints run in a thread of their own (checkpointer.ts); this connection checkpoints only if that falls behind.
  const checkpointer = target.file === ':memory:' ? null : new Checkpointer(target.file);
  if (checkpointer !== null) sqlite.pragma('wal_autocheckpoint = 20000');
  const cached = withStatementCache(sqlite);
  const kysely = new Kysely<Database>({ dialect: new SqliteDialect({ database: cached }) });
  return {
    kysely,
    dialect: 'sqlite',
    capabilities: { skipLocked: false, listenNotify: false, substringPositionFn: 'instr' },
    describe: `sqlite:${target.file}`,
    pgPool: null,
    direct: {
      run(text, params) {
        const stmt = cached.prepare(text);
        if (stmt.reader) return { rows: rowsOf(stmt, params), changes: 0 };
        return { rows: [], changes: stmt.run(params).changes };
      },
    },
    async ping() {
      await sql`select 1`.execute(kysely);
    },
    async close() {
      await checkpointer?.stop();
      await kysely.destroy();
    },
  };
}

/** Result column names by statement, read once: `columns()` builds a description object per column. */
const columnNames = new WeakMap<SqliteDatabase.Statement, string[]>();

/**
 * A reading statement's rows as objects keyed by column name, as `all()` returns them, but read as arrays and keyed
 * here: better-sqlite3 builds each row object through V8's API, one named property at a time, which cost about
 * 7.1-9.5 µs a row of the 16 columns a call reads of a webhook, against 4.6-5.9 µs this way (400 rows, three rounds).
 * The statement is shared with Kysely's path, which wants objects: raw mode is switched off again before returning.
 * A column named twice keeps its last value, as in `all()`.
 */
function rowsOf(stmt: SqliteDatabase.Statement, params: readonly unknown[]): Record<string, unknown>[] {
  let raw: unknown[][];
  stmt.raw(true);
  try {
    raw = stmt.all(params) as unknown[][];
  } finally {
    stmt.raw(false);
  }
  // Read again when the count differs: SQLite prepares a statement again when the schema changes, and a `SELECT *`
  // may then have other columns.
  let names = columnNames.get(stmt);
  if (names === undefined || (raw.length > 0 && raw[0]?.length !== names.length)) {
    names = stmt.columns().map((c) => c.name);
    columnNames.set(stmt, names);
  }
  const rows = new Array<Record<string, unknown>>(raw.length);
  for (let r = 0; r < raw.length; r++) {
    const values = raw[r] as unknown[];
    const row: Record<string, unknown> = {};
    for (let c = 0; c < names.length; c++) row[names[c] as string] = values[c];
    rows[r] = row;
  }
  return rows;
}

/**
 * Kysely prepares every statement anew; with better-sqlite3 preparing costs more than running a small query. Prepared
 * statements are reusable, so keep the recent ones by SQL text. IN-lists of varying length make many distinct texts,
 * so the cache is bounded: two generations of up to `size` each, the older dropped when the newer fills (statements
 * in use move to the newer on their next use). A hit in the newer generation costs one lookup, where an exact LRU
 * would move the entry on every use.
 */
function withStatementCache(db: SqliteDatabase.Database, size = 500) {
  let recent = new Map<string, SqliteDatabase.Statement>();
  let older = new Map<string, SqliteDatabase.Statement>();
  return {
    close: () => db.close(),
    prepare(sql: string) {
      let stmt = recent.get(sql);
      if (stmt !== undefined) return stmt;
      stmt = older.get(sql) ?? db.prepare(sql);
      if (recent.size >= size) {
        older = recent;
        recent = new Map();
      }
      recent.set(sql, stmt);
      return stmt;
    },
  };
}
