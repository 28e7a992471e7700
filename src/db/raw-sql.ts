/**
 * Hand-built statements for the delivery hot path. Kysely's builder costs more than the statement itself for the
 * wide per-row CASE updates and multi-row inserts run for every group of attempts; these are assembled as text with
 * positional parameters (`?` on SQLite, `$n` on PostgreSQL) and run as Kysely compiled queries, so they still share
 * its connection, transactions and, on SQLite, the prepared-statement cache.
 */
import { CompiledQuery, type Kysely, type QueryResult } from 'kysely';
import type { Db } from './connect.js';
import type { Database } from './schema.js';

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

  run<R = unknown>(k: Kysely<Database>): Promise<QueryResult<R>> {
    return k.executeQuery<R>(CompiledQuery.raw(this.sql, this.params));
  }
}

/**
 * Multi-row INSERT of whole rows, `chunk` rows per statement. `columns` is a record of every column of the row type,
 * so a column added to the table but not here fails to compile.
 */
export async function insertRows<R extends object>(
  k: Kysely<Database>,
  dialect: Db['dialect'],
  table: keyof Database & string,
  columns: Record<keyof R & string, true>,
  rows: readonly R[],
  chunk = 200,
): Promise<void> {
  const names = Object.keys(columns) as Array<keyof R & string>;
  for (let i = 0; i < rows.length; i += chunk) {
    const q = new RawStatement(dialect).text(`INSERT INTO ${table} (${names.join(', ')}) VALUES `);
    rows.slice(i, i + chunk).forEach((row, j) => {
      if (j > 0) q.text(', ');
      q.list(names.map((n) => row[n] ?? null));
    });
    await q.run(k);
  }
}
