/**
 * Hand-built statements for the delivery hot path. Kysely's builder costs more than the statement itself for the
 * wide per-row CASE updates and multi-row inserts run for every group of attempts; these are assembled as text with
 * positional parameters (`?` on SQLite, `$n` on PostgreSQL) and run as Kysely compiled queries, so they still share
 * its connection, transactions and, on SQLite, the prepared-statement cache.
 *
 * On SQLite, inside a transaction, they skip Kysely's executor and run synchronously (`Db.direct`): the transaction
 * holds the only connection, and Kysely's per-query promises cost more than a small statement. Rows are then written
 * one statement each: one text per table, prepared once, where multi-row statements had a text per row count
 * (prepared anew for each new count, and a wide fan-out meets many).
 */
import { CompiledQuery, type Kysely, type QueryResult } from 'kysely';
import type { Db, DirectSql } from './connect.js';
import type { Database } from './schema.js';

/** What a hand-built statement needs to know of its database. */
export type SqlTarget = Pick<Db, 'dialect' | 'direct'>;

/** The synchronous runner when `k` is a transaction on an in-process database; otherwise null. */
export function directIn(k: Kysely<Database>, target: SqlTarget): DirectSql | null {
  return target.direct !== null && k.isTransaction ? target.direct : null;
}

/**
 * Runs `fn` holding the database's one connection on SQLite, so that `fn` may use the synchronous runner outside a
 * transaction (it gets null on PostgreSQL, whose pool gives each statement a connection). Every statement then still
 * commits on its own, as it would through Kysely.
 */
export function withDirect<T>(
  db: Pick<Db, 'kysely' | 'direct'>,
  fn: (k: Kysely<Database>, direct: DirectSql | null) => Promise<T>,
): Promise<T> {
  const { direct } = db;
  if (direct === null) return fn(db.kysely, null);
  return db.kysely.connection().execute((k) => fn(k, direct));
}

export class RawStatement {
  private readonly parts: string[] = [];
  readonly params: unknown[] = [];

  constructor(private readonly dialect: Db['dialect']) {}

  /** Appends SQL text (never user input: values go through `param`). */
  text(s: string): this {
    this.parts.push(s);
    return this;
  }

  /** Appends a placeholder for `value`. */
  param(value: unknown): this {
    this.params.push(value);
    this.parts.push(this.dialect === 'postgres' ? `$${this.params.length}` : '?');
    return this;
  }

  /**
   * PostgreSQL: `unnest($1::t1[], $2::t2[], …)`, a row per index of the arrays — one statement text whatever the
   * number of rows, so the server parses a short statement instead of one with a parameter per value.
   */
  unnest(columns: ReadonlyArray<{ type: SqlType; values: unknown[] }>): this {
    this.text('unnest(');
    columns.forEach(({ type, values }, i) => {
      if (i > 0) this.text(', ');
      this.param(values).text(`::${type}[]`);
    });
    return this.text(')');
  }

  /**
   * `column IN (…values)` (or `NOT IN`) with the values as one parameter: a JSON array read by `json_each` on SQLite,
   * a text array on PostgreSQL. One statement text whatever the number of values, so it is prepared once (a list of
   * placeholders had a text per count).
   */
  inList(column: string, values: readonly string[], not = false): this {
    if (this.dialect === 'postgres')
      return this.text(`${column} ${not ? '<> ALL' : '= ANY'}(`)
        .param(values)
        .text('::text[])');
    return this.text(`${column} ${not ? 'NOT IN' : 'IN'} (SELECT value FROM json_each(`)
      .param(JSON.stringify(values))
      .text('))');
  }

  /** `(p1, p2, …)` for a list of values. */
  list(values: readonly unknown[]): this {
    this.text('(');
    values.forEach((v, i) => {
      if (i > 0) this.text(', ');
      this.param(v);
    });
    return this.text(')');
  }

  get sql(): string {
    return this.parts.join('');
  }

  /** Runs through Kysely, or synchronously when `direct` is given (`directIn`). */
  async run<R = unknown>(k: Kysely<Database>, direct: DirectSql | null = null): Promise<QueryResult<R>> {
    if (direct === null) return k.executeQuery<R>(CompiledQuery.raw(this.sql, this.params));
    const { rows, changes } = direct.run(this.sql, this.params);
    return { rows: rows as R[], numAffectedRows: BigInt(changes) };
  }
}

/** 32 rows × a table's columns (at most a few dozen here): far below SQLite's limit of 32 766 parameters. */
const DIRECT_ROWS_PER_STATEMENT = 32;
/** By column set (the callers' constant records), then table and row count. */
const directInsertTexts = new WeakMap<object, Map<string, string>>();

/** `INSERT INTO t (a, b) VALUES (?, ?), (?, ?)` for `rowCount` rows, built once per table, columns and count. */
function directInsertText(columns: object, table: string, names: readonly string[], rowCount: number): string {
  let texts = directInsertTexts.get(columns);
  if (texts === undefined) {
    texts = new Map();
    directInsertTexts.set(columns, texts);
  }
  const key = `${table} ${rowCount}`;
  let text = texts.get(key);
  if (text === undefined) {
    const one = `(${names.map(() => '?').join(', ')})`;
    text = `INSERT INTO ${table} (${names.join(', ')}) VALUES ${Array.from({ length: rowCount }, () => one).join(', ')}`;
    texts.set(key, text);
  }
  return text;
}

/** A column's SQL type, as the migrations create it (for PostgreSQL's typed arrays). */
export type SqlType = 'text' | 'bigint' | 'integer';

/**
 * INSERT of whole rows. `columns` names every column of the row type with its SQL type, so a column added to the
 * table but not here fails to compile. On SQLite inside a transaction: up to 32 rows per statement, run
 * synchronously; on PostgreSQL: `chunk` rows per statement, as arrays through `unnest`.
 */
export async function insertRows<R extends object>(
  k: Kysely<Database>,
  target: SqlTarget,
  table: keyof Database & string,
  columns: Record<keyof R & string, SqlType>,
  rows: readonly R[],
  chunk = 200,
): Promise<void> {
  const names = Object.keys(columns) as Array<keyof R & string>;
  const direct = directIn(k, target);
  if (direct !== null) {
    // Rows in statements of 32, 16, …, 1 rows: one call into SQLite per statement instead of per row costs about a
    // third less a row, and the power-of-two sizes keep the distinct statement texts (and prepared statements) few.
    let i = 0;
    while (i < rows.length) {
      let size = DIRECT_ROWS_PER_STATEMENT;
      while (size > rows.length - i) size >>= 1;
      // Sized up front: growing the array row by row copied it several times (a tenth of the main thread's
      // allocations in the throughput bench).
      const params = new Array<unknown>(size * names.length);
      let at = 0;
      for (let j = i; j < i + size; j++) {
        const row = rows[j] as R;
        for (const n of names) params[at++] = row[n] ?? null;
      }
      direct.run(directInsertText(columns, table, names, size), params);
      i += size;
    }
    return;
  }
  for (let i = 0; i < rows.length; i += chunk) {
    const part = rows.slice(i, i + chunk);
    const q = new RawStatement(target.dialect).text(`INSERT INTO ${table} (${names.join(', ')}) `);
    if (target.dialect === 'postgres') {
      q.text('SELECT * FROM ').unnest(
        names.map((n) => ({ type: columns[n], values: part.map((row) => row[n] ?? null) })),
      );
    } else {
      // SQLite outside a transaction (never on the hot path): one multi-row statement per chunk.
      q.text('VALUES ');
      part.forEach((row, j) => {
        if (j > 0) q.text(', ');
        q.list(names.map((n) => row[n] ?? null));
      });
    }
    await q.run(k);
  }
}
