/** Schemas shared by the routes; each route file keeps its own resource schemas beside it. */
import { type TSchema, Type } from 'typebox';
import { invalidField } from '../domain/errors.js';
import { DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT } from '../db/paging.js';

export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String(),
    instance: Type.Optional(Type.String()),
    correlationId: Type.Optional(Type.String()),
    errors: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
  },
  { $id: 'Problem', description: 'RFC 9457 problem details' },
);

export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE_LIMIT, default: DEFAULT_PAGE_LIMIT })),
  cursor: Type.Optional(Type.String({ maxLength: 200, description: 'nextCursor of the previous page' })),
};

export function pageOf<T extends TSchema>(item: T) {
  return Type.Object({ data: Type.Array(item), nextCursor: Type.Union([Type.String(), Type.Null()]) });
}

export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

export const Metadata = Type.Record(Type.String({ maxLength: 64 }), Type.Unknown(), { maxProperties: 50 });

export const NullableString = (max: number) => Type.Union([Type.String({ maxLength: max }), Type.Null()]);

/** Problem answers every route can give, for the OpenAPI document. */
export const errorResponses = {
  400: Type.Ref('Problem'),
  401: Type.Ref('Problem'),
  403: Type.Ref('Problem'),
  404: Type.Ref('Problem'),
};

/** A time in a query string: ISO 8601, or epoch milliseconds (the insurance seed sends int64 timestamps). */
export const TimeQuery = Type.String({ maxLength: 40, description: 'ISO 8601 date-time or epoch milliseconds' });

export function parseTime(field: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(ms)) throw invalidField(field, 'must be an ISO 8601 date-time or epoch milliseconds');
  return ms;
}

/**
 * Query parameters a list's schema does not name are event-reference filters (`?orderRef=ORD-1&customerRef=C-9`), the
 * way the insurance seed filters batches. Names must look like reference names.
 */
export function referenceFilters(query: object, schema: { properties: object }): Record<string, string> {
  const known = new Set(Object.keys(schema.properties));
  const references: Record<string, string> = {};
  for (const [k, v] of Object.entries(query)) {
    if (known.has(k) || typeof v !== 'string') continue;
    if (!/^[A-Za-z][A-Za-z0-9_.-]{0,63}$/.test(k))
      throw invalidField(`query.${k}`, 'is not a known filter or reference name');
    references[k] = v;
  }
  return references;
}
