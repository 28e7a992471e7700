import { sql } from 'kysely';

/**
 * Delivery statuses written into the SQL text instead of bound as parameters, for conditions that should use the
 * queue's partial indexes (migration 006): SQLite chooses a partial index only when the query repeats its condition,
 * and a parameter's value is not known when the statement is prepared.
 */
export const STATUS_SQL = {
  pending: sql.lit('pending'),
  delivering: sql.lit('delivering'),
  failed: sql.lit('failed'),
} as const;
