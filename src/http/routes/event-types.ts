import { Type } from 'typebox';
import { invalidField } from '../../domain/errors.js';
import { principalOf } from '../auth-plugin.js';
import { errorResponses, NullableString, pageOf } from '../schemas.js';
import type { FastifyTypeBoxInstance, RouteDeps } from '../types.js';

const EventType = Type.Object({
  name: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  objectType: Type.Union([Type.String(), Type.Null()]),
  schema: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  deprecated: Type.Boolean(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});
const fields = {
  description: Type.Optional(NullableString(2000)),
  objectType: Type.Optional(NullableString(128)),
  schema: Type.Optional(
    Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()], {
      description: 'JSON Schema (2020-12) for payloads',
    }),
  ),
  deprecated: Type.Optional(Type.Boolean()),
};
const NameParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 130 }) });
const tags = ['Event types'];

export async function eventTypeRoutes(app: FastifyTypeBoxInstance, { services, guards }: RouteDeps) {
  const read = guards.requireRole('webhooks:read');
  // Publishers define what they publish, so `events:publish` (or admin) may edit the catalogue.
  const write = guards.requireRole('events:publish');

  app.post(
    '/v1/event-types',
    {
      onRequest: write,
      schema: {
        tags,
        summary: 'Add an event type to the catalogue',
        body: Type.Object(
          { name: Type.String({ minLength: 1, maxLength: 128 }), ...fields },
          { additionalProperties: false },
        ),
        response: { 201: EventType, ...errorResponses, 409: Type.Ref('Problem') },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await services.eventTypes.create(principalOf(request), request.body)),
  );
  app.get(
    '/v1/event-types',
    {
      onRequest: read,
      schema: {
        tags,
        summary: 'List the catalogue (by name)',
        querystring: Type.Object(
          {
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 250, default: 50 })),
            cursor: Type.Optional(Type.String({ maxLength: 400 })),
            includeDeprecated: Type.Optional(Type.Boolean({ default: false })),
            prefix: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: pageOf(EventType), ...errorResponses },
      },
    },
    async (request) => {
      const q = request.query;
      let after: string | null = null;
      if (q.cursor !== undefined) {
        after = Buffer.from(q.cursor, 'base64url').toString('utf8');
        if (after === '') throw invalidField('query.cursor', 'is not a cursor this API returned');
      }
      return services.eventTypes.list(principalOf(request), {
        limit: q.limit ?? 50,
        cursor: after,
        includeDeprecated: q.includeDeprecated ?? false,
        prefix: q.prefix ?? null,
      });
    },
  );
  app.get(
    '/v1/event-types/:name',
    {
      onRequest: read,
      schema: {
        tags,
        summary: 'Get an event type',
        params: NameParams,
        response: { 200: EventType, ...errorResponses },
      },
    },
    async (request) => services.eventTypes.get(principalOf(request), request.params.name),
  );
  app.patch(
    '/v1/event-types/:name',
    {
      onRequest: write,
      schema: {
        tags,
        summary: 'Change an event type',
        params: NameParams,
        body: Type.Object(fields, { additionalProperties: false, minProperties: 1 }),
        response: { 200: EventType, ...errorResponses },
      },
    },
    async (request) => services.eventTypes.update(principalOf(request), request.params.name, request.body),
  );
  app.delete(
    '/v1/event-types/:name',
    {
      onRequest: write,
      schema: {
        tags,
        summary: 'Remove an event type',
        params: NameParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await services.eventTypes.delete(principalOf(request), request.params.name);
      return reply.code(204).send(null);
    },
  );
}
