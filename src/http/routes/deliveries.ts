import { Type } from 'typebox';
import { pageRequest } from '../../db/paging.js';
import { principalOf } from '../auth-plugin.js';
import { errorResponses, parseTime, referenceFilters } from '../schemas.js';
import type { FastifyTypeBoxInstance, RouteDeps } from '../types.js';

const tags = ['Deliveries'];
const Params = Type.Object({ id: Type.String({ maxLength: 64 }) });
const DeliveryParams = Type.Object({ id: Type.String({ maxLength: 64 }), deliveryId: Type.String({ maxLength: 64 }) });
const AttemptParams = Type.Object({ id: Type.String({ maxLength: 64 }), attemptId: Type.String({ maxLength: 64 }) });
const Paging = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 250, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 200 })),
};

/** Unnamed parameters are event-reference filters (see `referenceFilters`). */
const DeliveryListQuery = Type.Object(
  {
    ...Paging,
    from: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000, description: 'offset paging (with take)' })),
    take: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    status: Type.Optional(Type.Union(['pending', 'delivering', 'succeeded', 'failed'].map((s) => Type.Literal(s)))),
    eventType: Type.Optional(Type.String({ maxLength: 128 })),
    createdAfter: Type.Optional(Type.String({ maxLength: 40 })),
    createdBefore: Type.Optional(Type.String({ maxLength: 40 })),
    lastAttemptAfter: Type.Optional(Type.String({ maxLength: 40 })),
    lastAttemptBefore: Type.Optional(Type.String({ maxLength: 40 })),
  },
  { additionalProperties: Type.String({ maxLength: 255 }) },
);

export async function deliveryRoutes(app: FastifyTypeBoxInstance, { services, guards }: RouteDeps) {
  const read = guards.requireRole('webhooks:read');
  const write = guards.requireRole('webhooks:write');
  const svc = services.deliveries;

  app.get(
    '/v1/webhooks/:id/deliveries',
    {
      onRequest: read,
      schema: {
        tags,
        summary: "List a webhook's deliveries",
        description:
          'Filters: status, eventType, created and last-attempt ranges (ISO 8601 or epoch ms). Any other parameter filters by an event reference, e.g. `?orderRef=ORD-1`. Paged by `limit` / `cursor`, or by `from` / `take` (then the answer has `totalCount`).',
        params: Params,
        querystring: DeliveryListQuery,
        response: errorResponses,
      },
    },
    async (request) => {
      const q = request.query as Record<string, string | number | undefined> & typeof request.query;
      const references = referenceFilters(q, DeliveryListQuery);
      return svc.listDeliveries(
        principalOf(request),
        request.params.id,
        {
          status: q.status,
          eventType: q.eventType,
          createdAfter: parseTime('query.createdAfter', q.createdAfter),
          createdBefore: parseTime('query.createdBefore', q.createdBefore),
          lastAttemptAfter: parseTime('query.lastAttemptAfter', q.lastAttemptAfter),
          lastAttemptBefore: parseTime('query.lastAttemptBefore', q.lastAttemptBefore),
          references,
        },
        pageRequest(q),
        q.from !== undefined || q.take !== undefined ? { from: q.from ?? 0, take: q.take ?? 100 } : undefined,
      );
    },
  );

  app.get(
    '/v1/webhooks/:id/deliveries/:deliveryId',
    { onRequest: read, schema: { tags, summary: 'Get a delivery', params: DeliveryParams, response: errorResponses } },
    async (request) => svc.getDelivery(principalOf(request), request.params.id, request.params.deliveryId),
  );

  app.get(
    '/v1/webhooks/:id/deliveries/:deliveryId/attempts',
    {
      onRequest: read,
      schema: {
        tags,
        summary: "List a delivery's attempts",
        params: DeliveryParams,
        querystring: Type.Object(Paging, { additionalProperties: false }),
        response: errorResponses,
      },
    },
    async (request) =>
      svc.listDeliveryAttempts(
        principalOf(request),
        request.params.id,
        request.params.deliveryId,
        pageRequest(request.query),
      ),
  );

  app.post(
    '/v1/webhooks/:id/deliveries/:deliveryId/attempts',
    {
      onRequest: write,
      schema: {
        tags,
        summary: 'Schedule a new attempt now (also for a failed delivery)',
        params: DeliveryParams,
        response: { 202: Type.Unknown(), ...errorResponses },
      },
    },
    async (request, reply) =>
      reply
        .code(202)
        .send(await svc.scheduleAttempt(principalOf(request), request.params.id, request.params.deliveryId)),
  );

  app.get(
    '/v1/webhooks/:id/attempts',
    {
      onRequest: read,
      schema: {
        tags,
        summary: 'The attempt log of a webhook (newest first)',
        params: Params,
        querystring: Type.Object(
          {
            ...Paging,
            since: Type.Optional(Type.String({ maxLength: 40 })),
            onlyFailed: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
        response: errorResponses,
      },
    },
    async (request) =>
      svc.listAttempts(
        principalOf(request),
        request.params.id,
        { since: parseTime('query.since', request.query.since), onlyFailed: request.query.onlyFailed },
        pageRequest(request.query),
      ),
  );

  app.get(
    '/v1/webhooks/:id/attempts/:attemptId',
    { onRequest: read, schema: { tags, summary: 'Get one attempt', params: AttemptParams, response: errorResponses } },
    async (request) => svc.getAttempt(principalOf(request), request.params.id, request.params.attemptId),
  );

  app.post(
    '/v1/webhooks/:id/recover',
    {
      onRequest: write,
      schema: {
        tags,
        summary: 'Re-deliver what failed since a time',
        description:
          'With `includeMissing: true`, also delivers events since then that this webhook never received (a batching webhook gets them in batches of up to `maxBatchSize`; `deliveriesCreated` counts deliveries).',
        params: Params,
        body: Type.Object(
          { since: Type.String({ maxLength: 40 }), includeMissing: Type.Optional(Type.Boolean()) },
          { additionalProperties: false },
        ),
        response: { 202: Type.Unknown(), ...errorResponses },
      },
    },
    async (request, reply) => {
      const since = parseTime('body.since', request.body.since) ?? 0;
      return reply
        .code(202)
        .send(await svc.recover(principalOf(request), request.params.id, since, request.body.includeMissing ?? false));
    },
  );

  app.post(
    '/v1/webhooks/:id/test',
    {
      onRequest: write,
      schema: {
        tags: ['Webhooks'],
        summary: 'Send a test event now and answer with the attempt',
        params: Params,
        body: Type.Object(
          { type: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })), data: Type.Optional(Type.Unknown()) },
          { additionalProperties: false },
        ),
        response: errorResponses,
      },
    },
    async (request) => svc.test(principalOf(request), request.params.id, request.body ?? {}),
  );
}
