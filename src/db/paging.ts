/**
 * Cursor paging over time-sortable ids: newest first, `WHERE id < cursor`, one row more than asked to know whether
 * another page exists. The cursor is opaque to clients (base64url of the last id) so its shape can change later.
 */
import { invalidField } from '../domain/errors.js';

export interface PageRequest {
  limit: number;
  cursor: string | null;
}

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

export const DEFAULT_PAGE_LIMIT = 50;
export const MAX_PAGE_LIMIT = 250;

export function encodeCursor(id: string): string {
  return Buffer.from(id, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string | undefined | null): string | null {
  if (cursor === undefined || cursor === null || cursor === '') return null;
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^[a-z]{2,4}_[0-9A-Z]{26}$/.test(id)) throw invalidField('query.cursor', 'is not a cursor this API returned');
  return id;
}

export function pageRequest(query: { limit?: number; cursor?: string }): PageRequest {
  return { limit: query.limit ?? DEFAULT_PAGE_LIMIT, cursor: decodeCursor(query.cursor) };
}

/** Turns `limit + 1` fetched rows into a page. */
export function toPage<R extends { id: string }, T>(rows: R[], limit: number, map: (row: R) => T): Page<T> {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  const last = kept[kept.length - 1];
  return { data: kept.map(map), nextCursor: more && last !== undefined ? encodeCursor(last.id) : null };
}
