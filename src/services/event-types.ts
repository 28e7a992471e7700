/** The event-type catalogue of a tenant: names, descriptions, object types, optional payload schemas. */
import { AppError, invalidField, notFound } from '../domain/errors.js';
import { isValidEventTypeName } from '../domain/event-type-match.js';
import type { Principal } from '../domain/principal.js';
import { toJson } from '../db/json.js';
import type { EventTypeRow } from '../db/repos/event-types-repo.js';
import { encodeCursor } from '../db/paging.js';
import type { ServiceDeps } from './deps.js';
import { checkPayloadSchema } from './payload-schemas.js';
import { requireScope } from './webhooks.js';

export function eventTypeView(r: EventTypeRow) {
  return {
    name: r.name,
    description: r.description,
    objectType: r.object_type,
    schema: r.schema === null ? null : (JSON.parse(r.schema) as Record<string, unknown>),
    deprecated: r.deprecated === 1,
    createdAt: new Date(r.created_at).toISOString(),
    updatedAt: new Date(r.updated_at).toISOString(),
  };
}

export interface EventTypeFields {
  description?: string | null;
  objectType?: string | null;
  schema?: Record<string, unknown> | null;
  deprecated?: boolean;
}

function catalogueScope(principal: Principal) {
  const scope = requireScope(principal);
  if (scope.accountId !== null && !principal.isRoot) {
    throw new AppError('forbidden', 'An account-restricted key cannot change the event-type catalogue');
  }
  return scope;
}

export class EventTypeService {
  constructor(private readonly deps: ServiceDeps) {}

  async create(principal: Principal, input: EventTypeFields & { name: string }) {
    const scope = catalogueScope(principal);
    if (!isValidEventTypeName(input.name)) {
      throw invalidField('body.name', 'must be 1-128 characters of letters, digits and _ . : - without empty segments');
    }
    if (input.schema != null) checkPayloadSchema(input.schema);
    if ((await this.deps.repos.eventTypes.get(scope.tenantId, input.name)) !== undefined) {
      throw new AppError('conflict', `body.name: event type "${input.name}" already exists`, {
        errors: [{ field: 'body.name', message: 'already exists' }],
      });
    }
    const now = this.deps.now();
    const row: EventTypeRow = {
      tenant_id: scope.tenantId,
      name: input.name,
      description: input.description ?? null,
      object_type: input.objectType ?? null,
      schema: input.schema == null ? null : toJson(input.schema),
      deprecated: input.deprecated === true ? 1 : 0,
      created_at: now,
      updated_at: now,
    };
    await this.deps.repos.eventTypes.insert(row);
    this.deps.caches.eventTypes.clear();
    return eventTypeView(row);
  }

  async get(principal: Principal, name: string) {
    const scope = requireScope(principal);
    const row = await this.deps.repos.eventTypes.get(scope.tenantId, name);
    if (row === undefined) throw notFound('event type', name);
    return eventTypeView(row);
  }

  async list(
    principal: Principal,
    q: { limit: number; cursor: string | null; includeDeprecated: boolean; prefix: string | null },
  ) {
    const scope = requireScope(principal);
    const rows = await this.deps.repos.eventTypes.list(scope.tenantId, {
      limit: q.limit,
      after: q.cursor,
      includeDeprecated: q.includeDeprecated,
      prefix: q.prefix,
    });
    const more = rows.length > q.limit;
    const kept = more ? rows.slice(0, q.limit) : rows;
    const last = kept[kept.length - 1];
    return { data: kept.map(eventTypeView), nextCursor: more && last ? encodeCursor(last.name) : null };
  }

  async update(principal: Principal, name: string, patch: EventTypeFields) {
    const scope = catalogueScope(principal);
    if (patch.schema != null) checkPayloadSchema(patch.schema);
    const set: Partial<EventTypeRow> = { updated_at: this.deps.now() };
    if (patch.description !== undefined) set.description = patch.description;
    if (patch.objectType !== undefined) set.object_type = patch.objectType;
    if (patch.schema !== undefined) set.schema = patch.schema === null ? null : toJson(patch.schema);
    if (patch.deprecated !== undefined) set.deprecated = patch.deprecated ? 1 : 0;
    const updated = await this.deps.repos.eventTypes.update(scope.tenantId, name, set);
    this.deps.caches.eventTypes.clear();
    if (!updated) throw notFound('event type', name);
    return this.get(principal, name);
  }

  async delete(principal: Principal, name: string) {
    const scope = catalogueScope(principal);
    const deleted = await this.deps.repos.eventTypes.delete(scope.tenantId, name);
    this.deps.caches.eventTypes.clear();
    if (!deleted) throw notFound('event type', name);
  }
}
