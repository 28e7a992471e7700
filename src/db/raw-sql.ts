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

/**
 * Multi-row INSERT of whole rows, `chunk` rows per statement. `columns` is a record of every column of the row type,
 * so a column added to the table but not here fails to compile.
 */
export async function insertRows<R extends object>(
  k: Kysely<Database>,
  target: SqlTarget,
  table: keyof Database & string,
  columns: Record<keyof R & string, true>,
  rows: readonly R[],
  chunk = 200,
): Promise<void> {
  const names = Object.keys(columns) as Array<keyof R & string>;
  const direct = directIn(k, target);
  if (direct !== null) {
    const text = `INSERT INTO ${table} (${names.join(', ')}) VALUES (${names.map(() => '?').join(', ')})`;
    for (const row of rows)
      direct.run(
        text,
        names.map((n) => row[n] ?? null),
      );
    return;
  }
  for (let i = 0; i < rows.length; i += chunk) {
    const q = new RawStatement(target.dialect).text(`INSERT INTO ${table} (${names.join(', ')}) VALUES `);
    rows.slice(i, i + chunk).forEach((row, j) => {
      if (j > 0) q.text(', ');
      q.list(names.map((n) => row[n] ?? null));
    });
    await q.run(k);
  }
}
