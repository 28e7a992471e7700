import { Type } from 'typebox';
import { pageRequest } from '../../db/paging.js';
import { invalidField } from '../../domain/errors.js';
import { principalOf } from '../auth-plugin.js';
import { errorResponses, IdParams, NullableString, parseTime } from '../schemas.js';
import type { FastifyTypeBoxInstance, RouteDeps } from '../types.js';

const tags = ['Events'];
const PublishBody = Type.Object(
  {
    id: Type.Optional(
      Type.String({ pattern: '^evt_[0-9A-Z]{26}$', description: 'optional client-chosen id; a repeat is idempotent' }),
    ),
    type: Type.String({ minLength: 1, maxLength: 128 }),
    data: Type.Unknown({ description: 'the payload' }),
    accountId: Type.Optional(NullableString(64)),
    occurredAt: Type.Optional(Type.String({ maxLength: 40 })),
    references: Type.Optional(
      Type.Record(Type.String({ minLength: 1, maxLength: 64 }), Type.String({ maxLength: 255 }), { maxProperties: 20 }),
    ),
    included: Type.Optional(Type.Record(Type.String({ maxLength: 64 }), Type.Unknown(), { maxProperties: 50 })),
  },
  { additionalProperties: false, required: ['type', 'data'] },
);
const PublishAnswer = Type.Object({
  id: Type.String(),
  type: Type.String(),
  deliveries: Type.Integer(),
  createdAt: Type.String(),
});
export const MAX_BATCH_EVENTS = 1000;
const BatchItem = Type.Object(
  {
    ...PublishBody.properties,
    idempotencyKey: Type.Optional(
      Type.String({ minLength: 1, maxLength: 255, description: 'per-event Idempotency-Key' }),
    ),
  },
  { additionalProperties: false, required: ['type', 'data'] },
);

export async function eventRoutes(app: FastifyTypeBoxInstance, { services, guards, config }: RouteDeps) {
  const publish = guards.requireRole('events:publish');
  const read = guards.requireRole('webhooks:read');

  app.post(
    '/v1/events',
    {
      onRequest: publish,
      schema: {
        tags,
        summary: 'Publish an event',
        description:
          'The event and one delivery per matching webhook are written in one transaction: a 2xx answer means they are durable. A repeated `Idempotency-Key` (24 h) answers the first result and creates nothing.',
        headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 255 })) }),
        body: PublishBody,
        response: {
          201: PublishAnswer,
          200: PublishAnswer,
          ...errorResponses,
          409: Type.Ref('Problem'),
          422: Type.Ref('Problem'),
        },
      },
    },
    async (request, reply) => {
      const key = request.headers['idempotency-key'];
      const { result, replayed } = await services.publish.publish(principalOf(request), request.body, {
        ...(typeof key === 'string' ? { idempotencyKey: key } : {}),
        correlationId: String(request.id),
      });
      if (replayed) reply.header('idempotent-replayed', 'true');
      return reply.code(replayed ? 200 : 201).send(result);
    },
  );

  app.post(
    '/v1/events/batch',
    {
      onRequest: publish,
      bodyLimit: config.batchBodyLimitBytes,
      schema: {
        tags,
        summary: `Publish up to ${MAX_BATCH_EVENTS} events at once`,
        description:
          "All events and their deliveries are written in one transaction; when any event is invalid, nothing is written and the problem names each bad `body.events[i].field`. Each event may carry its own `idempotencyKey`. The answer lists, in order, each event's id and delivery count (`replayed: true` for an idempotent repeat).",
        body: Type.Object(
          { events: Type.Array(BatchItem, { minItems: 1, maxItems: MAX_BATCH_EVENTS }) },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({
            // One flat object, not an intersection: Fastify's serializer checks every item of an `allOf` against a
            // validator, which cost about 4 µs an event (measured in the batch publish).
            data: Type.Array(
              Type.Object({ ...PublishAnswer.properties, index: Type.Integer(), replayed: Type.Boolean() }),
            ),
          }),
          ...errorResponses,
          409: Type.Ref('Problem'),
          413: Type.Ref('Problem'),
          422: Type.Ref('Problem'),
        },
      },
    },
    async (request, reply) => {
      const items = request.body.events.map(({ idempotencyKey, ...input }) =>
        idempotencyKey === undefined ? { input } : { input, idempotencyKey },
      );
      const outcomes = await services.publish.publishMany(principalOf(request), items, String(request.id));
      return reply.code(201).send({ data: outcomes.map((o, index) => ({ ...o.result, index, replayed: o.replayed })) });
    },
  );

  app.get(
    '/v1/events',
    {
      onRequest: read,
      schema: {
        tags,
        summary: 'List events',
        querystring: Type.Object(
          {
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 250, default: 50 })),
            cursor: Type.Optional(Type.String({ maxLength: 200 })),
            type: Type.Optional(Type.String({ maxLength: 128 })),
            createdAfter: Type.Optional(Type.String({ maxLength: 40 })),
            createdBefore: Type.Optional(Type.String({ maxLength: 40 })),
          },
          { additionalProperties: false },
        ),
        response: errorResponses,
      },
    },
    async (request) => {
      const q = request.query;
      return services.deliveries.listEvents(
        principalOf(request),
        {
          type: q.type,
          createdAfter: parseTime('query.createdAfter', q.createdAfter),
          createdBefore: parseTime('query.createdBefore', q.createdBefore),
        },
        pageRequest(q),
      );
    },
  );

  app.get(
    '/v1/events/:id',
    {
      onRequest: read,
      schema: { tags, summary: 'Get an event with its deliveries', params: IdParams, response: errorResponses },
    },
    async (request) => {
      if (!request.params.id.startsWith('evt_')) throw invalidField('path.id', 'is not an event id');
      return services.deliveries.getEvent(principalOf(request), request.params.id);
    },
  );
}
