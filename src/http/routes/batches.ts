import { Type } from 'typebox';
import { BATCH_STATUS_FILTER, type BatchStatus } from '../../services/batches.js';
import { principalOf } from '../auth-plugin.js';
import { errorResponses, parseTime, referenceFilters } from '../schemas.js';
import type { FastifyTypeBoxInstance, RouteDeps } from '../types.js';

const tags = ['Batches'];
const WebhookParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
const BatchParams = Type.Object({ id: Type.String({ maxLength: 64 }), batchId: Type.String({ maxLength: 64 }) });
const AttemptParams = Type.Object({
  id: Type.String({ maxLength: 64 }),
  batchId: Type.String({ maxLength: 64 }),
  attemptId: Type.String({ maxLength: 64 }),
});
const OffsetPaging = {
  from: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0 })),
  take: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
};

/** Unnamed parameters are event-reference filters (see `referenceFilters`). */
const BatchListQuery = Type.Object(
  {
    ...OffsetPaging,
    createdBefore: Type.Optional(Type.String({ maxLength: 40 })),
    createdAfter: Type.Optional(Type.String({ maxLength: 40 })),
    lastDeliveredBefore: Type.Optional(Type.String({ maxLength: 40 })),
    lastDeliveredAfter: Type.Optional(Type.String({ maxLength: 40 })),
    lastDeliveryAttemptStatus: Type.Optional(
      Type.Union([Type.Literal('Scheduled'), Type.Literal('Succeeded'), Type.Literal('Failed')]),
    ),
    eventType: Type.Optional(Type.String({ maxLength: 128 })),
  },
  { additionalProperties: Type.String({ maxLength: 255 }) },
);

/**
 * The insurance seed's batch API under `/v1/webhooks/{id}/batches` (their `{subscriptionId}` is our webhook id): a batch is a
 * delivery, its delivery attempts are the attempt log.
 */
export async function batchRoutes(app: FastifyTypeBoxInstance, { services, guards }: RouteDeps) {
  const read = guards.requireRole('webhooks:read');
  const write = guards.requireRole('webhooks:write');
  const svc = services.batches;

  app.get(
    '/v1/webhooks/:id/batches',
    {
      onRequest: read,
      schema: {
        tags,
        summary: "List a webhook's batches",
        description:
          'Filters: createdBefore/After, lastDeliveredBefore/After (epoch ms or ISO 8601), lastDeliveryAttemptStatus (Scheduled, Succeeded, Failed), eventType; any other parameter filters by an event reference (orderRef, customerRef, …). Paged with from / take.',
        params: WebhookParams,
        querystring: BatchListQuery,
        response: errorResponses,
      },
    },
    async (request) => {
      const q = request.query as typeof request.query & Record<string, unknown>;
      const references = referenceFilters(q, BatchListQuery);
      const status = q.lastDeliveryAttemptStatus as BatchStatus | undefined;
      return svc.list(
        principalOf(request),
        request.params.id,
        {
          createdBefore: parseTime('query.createdBefore', q.createdBefore),
          createdAfter: parseTime('query.createdAfter', q.createdAfter),
          lastAttemptBefore: parseTime('query.lastDeliveredBefore', q.lastDeliveredBefore),
          lastAttemptAfter: parseTime('query.lastDeliveredAfter', q.lastDeliveredAfter),
          ...(status !== undefined ? { statuses: BATCH_STATUS_FILTER[status] } : {}),
          ...(q.eventType !== undefined ? { eventType: q.eventType } : {}),
          references,
        },
        q.from ?? 0,
        q.take ?? 100,
      );
    },
  );

  app.get(
    '/v1/webhooks/:id/batches/:batchId',
    { onRequest: read, schema: { tags, summary: 'Get a batch', params: BatchParams, response: errorResponses } },
    async (request) => svc.get(principalOf(request), request.params.id, request.params.batchId),
  );

  app.get(
    '/v1/webhooks/:id/batches/:batchId/delivery-attempts',
    {
      onRequest: read,
      schema: {
        tags,
        summary: "List a batch's delivery attempts",
        params: BatchParams,
        querystring: Type.Object(OffsetPaging, { additionalProperties: false }),
        response: errorResponses,
      },
    },
    async (request) =>
      svc.attempts(
        principalOf(request),
        request.params.id,
        request.params.batchId,
        request.query.from ?? 0,
        request.query.take ?? 100,
      ),
  );

  app.get(
    '/v1/webhooks/:id/batches/:batchId/delivery-attempts/:attemptId',
    {
      onRequest: read,
      schema: { tags, summary: 'Get a batch delivery attempt', params: AttemptParams, response: errorResponses },
    },
    async (request) =>
      svc.attempt(principalOf(request), request.params.id, request.params.batchId, request.params.attemptId),
  );

  app.post(
    '/v1/webhooks/:id/batches/:batchId/delivery-attempts',
    {
      onRequest: write,
      schema: {
        tags,
        summary: 'Schedule a new delivery attempt for a batch now',
        params: BatchParams,
        response: { 201: Type.Unknown(), ...errorResponses },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await svc.schedule(principalOf(request), request.params.id, request.params.batchId)),
  );
}
