import { Type } from 'typebox';
import type { FastifyTypeBoxInstance } from '../types.js';
import { pageRequest } from '../../db/paging.js';
import { invalidField } from '../../domain/errors.js';
import { matchesFilter } from '../../domain/event-filter.js';
import { checkFilter } from '../../services/webhook-input.js';
import { principalOf } from '../auth-plugin.js';
import { errorResponses, IdParams, pageOf, parseTime } from '../schemas.js';
import type { RouteDeps } from '../types.js';
import {
  WebhookCreateBody,
  WebhookListQuery,
  WebhookPatchBody,
  WebhookVersionSchema,
  WebhookWithSecret,
} from './webhook-schemas.js';

const tags = ['Webhooks'];

export async function webhookRoutes(app: FastifyTypeBoxInstance, { services, guards }: RouteDeps) {
  const read = guards.requireRole('webhooks:read');
  const write = guards.requireRole('webhooks:write');
  const webhook = Type.Ref('Webhook');

  app.post(
    '/v1/webhooks',
    {
      onRequest: write,
      schema: {
        tags,
        summary: 'Create a webhook',
        description: 'The answer is the only one that ever holds the signing `secret`.',
        body: WebhookCreateBody,
        response: { 201: WebhookWithSecret, ...errorResponses, 409: Type.Ref('Problem') },
      },
    },
    async (request, reply) => {
      const { webhook: view, secret } = await services.webhooks.create(principalOf(request), request.body);
      return reply
        .code(201)
        .header('location', view.href)
        .send({ ...view, secret });
    },
  );

  app.get(
    '/v1/webhooks',
    {
      onRequest: read,
      schema: {
        tags,
        summary: 'List webhooks',
        querystring: WebhookListQuery,
        response: { 200: pageOf(webhook), ...errorResponses },
      },
    },
    async (request) => {
      const q = request.query;
      return services.webhooks.list(
        principalOf(request),
        {
          status: q.status,
          kind: q.kind,
          eventType: q.eventType,
          accountId: q.accountId,
          reference: q.reference,
          createdAfter: parseTime('query.createdAfter', q.createdAfter),
          createdBefore: parseTime('query.createdBefore', q.createdBefore),
        },
        pageRequest(q),
      );
    },
  );

  app.get(
    '/v1/webhooks/:id',
    {
      onRequest: read,
      schema: { tags, summary: 'Get a webhook', params: IdParams, response: { 200: webhook, ...errorResponses } },
    },
    async (request) => services.webhooks.get(principalOf(request), request.params.id),
  );

  app.patch(
    '/v1/webhooks/:id',
    {
      onRequest: write,
      schema: {
        tags,
        summary: 'Change a webhook',
        description: 'Only the fields sent change. Each change is recorded in the version history.',
        params: IdParams,
        body: WebhookPatchBody,
        response: { 200: webhook, ...errorResponses, 409: Type.Ref('Problem') },
      },
    },
    async (request) => services.webhooks.update(principalOf(request), request.params.id, request.body),
  );

  app.delete(
    '/v1/webhooks/:id',
    {
      onRequest: write,
      schema: {
        tags,
        summary: 'Delete a webhook',
        params: IdParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await services.webhooks.delete(principalOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/v1/webhooks/:id/enable',
    {
      onRequest: write,
      schema: { tags, summary: 'Enable a webhook', params: IdParams, response: { 200: webhook, ...errorResponses } },
    },
    async (request) => services.webhooks.setStatus(principalOf(request), request.params.id, 'enabled', undefined),
  );

  app.post(
    '/v1/webhooks/:id/disable',
    {
      onRequest: write,
      schema: {
        tags,
        summary: 'Disable a webhook',
        description: 'Deliveries for a disabled webhook wait; nothing is dropped.',
        params: IdParams,
        body: Type.Optional(
          Type.Object(
            { reason: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })) },
            { additionalProperties: false },
          ),
        ),
        response: { 200: webhook, ...errorResponses },
      },
    },
    async (request) =>
      services.webhooks.setStatus(principalOf(request), request.params.id, 'disabled', request.body?.reason),
  );

  app.post(
    '/v1/webhooks/:id/reset-circuit',
    {
      onRequest: write,
      schema: {
        tags,
        summary: 'Close the circuit breaker and zero its failure count',
        params: IdParams,
        response: { 200: webhook, ...errorResponses },
      },
    },
    async (request) => services.webhooks.resetCircuit(principalOf(request), request.params.id),
  );

  app.post(
    '/v1/webhooks/:id/rotate-secret',
    {
      onRequest: write,
      schema: {
        tags,
        summary: 'Rotate the signing secret',
        description:
          'The new secret is returned once. The previous secret keeps signing beside it (two signatures per request) for `graceSeconds` (default HOOKLINE_SECRET_ROTATION_GRACE_SECONDS).',
        params: IdParams,
        body: Type.Optional(
          Type.Object(
            {
              secret: Type.Optional(Type.String({ maxLength: 200 })),
              graceSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 30 * 86_400 })),
            },
            { additionalProperties: false },
          ),
        ),
        response: { 200: WebhookWithSecret, ...errorResponses },
      },
    },
    async (request) => {
      const { webhook: view, secret } = await services.webhooks.rotateSecret(
        principalOf(request),
        request.params.id,
        request.body ?? {},
      );
      return { ...view, secret };
    },
  );

  app.post(
    '/v1/webhooks/test-filter',
    {
      onRequest: read,
      schema: {
        tags,
        summary: 'Check a rich filter against an event',
        description:
          'Answers whether `filter` matches `event` (the envelope a webhook filter sees: id, type, timestamp, data, accountId, references). An invalid filter is refused naming the operator and path.',
        body: Type.Object(
          {
            filter: Type.Record(Type.String(), Type.Unknown()),
            event: Type.Object(
              {
                id: Type.Optional(Type.String({ maxLength: 64 })),
                type: Type.String({ minLength: 1, maxLength: 128 }),
                timestamp: Type.Optional(Type.String({ maxLength: 40 })),
                data: Type.Unknown(),
                accountId: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
                references: Type.Optional(Type.Record(Type.String(), Type.String())),
              },
              { additionalProperties: false, required: ['type', 'data'] },
            ),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ matches: Type.Boolean() }), ...errorResponses },
      },
    },
    async (request) => {
      const filter = checkFilter(request.body.filter);
      const e = request.body.event;
      return {
        matches: matchesFilter(filter, {
          id: e.id ?? null,
          type: e.type,
          timestamp: e.timestamp ?? new Date().toISOString(),
          data: e.data,
          accountId: e.accountId ?? null,
          references: e.references ?? {},
        }),
      };
    },
  );

  app.get(
    '/v1/webhooks/:id/versions',
    {
      onRequest: read,
      schema: {
        tags,
        summary: 'Change history of a webhook',
        params: IdParams,
        querystring: Type.Object(
          {
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 250, default: 50 })),
            cursor: Type.Optional(Type.String({ maxLength: 20 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: pageOf(WebhookVersionSchema), ...errorResponses },
      },
    },
    async (request) => {
      const { limit = 50, cursor } = request.query;
      let before: number | null = null;
      if (cursor !== undefined) {
        if (!/^\d+$/.test(cursor)) throw invalidField('query.cursor', 'is not a cursor this API returned');
        before = Number(cursor);
      }
      return services.webhooks.versions(principalOf(request), request.params.id, { limit, before });
    },
  );
}
