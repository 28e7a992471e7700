import { Type } from 'typebox';
import { pageRequest } from '../../db/paging.js';
import { ROLES, MODES } from '../../domain/principal.js';
import { principalOf } from '../auth-plugin.js';
import { errorResponses, IdParams, Metadata, NullableString, PageQuery, pageOf } from '../schemas.js';
import type { FastifyTypeBoxInstance, RouteDeps } from '../types.js';

const Tenant = Type.Object({
  id: Type.String(),
  name: Type.String(),
  metadata: Type.Record(Type.String(), Type.Unknown()),
  createdAt: Type.String(),
});
const ApiKey = Type.Object({
  id: Type.String(),
  name: Type.String(),
  prefix: Type.String(),
  roles: Type.Array(Type.String()),
  accountId: Type.Union([Type.String(), Type.Null()]),
  mode: Type.String(),
  createdAt: Type.String(),
});
const Account = Type.Object({
  id: Type.String(),
  href: Type.String(),
  name: Type.String(),
  reference: Type.Union([Type.String(), Type.Null()]),
  metadata: Type.Record(Type.String(), Type.Unknown()),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});
const PageQ = Type.Object(PageQuery, { additionalProperties: false });

export async function tenancyRoutes(app: FastifyTypeBoxInstance, { services, guards }: RouteDeps) {
  const { tenancy } = services;

  app.post(
    '/v1/tenants',
    {
      onRequest: guards.requireRoot,
      schema: {
        tags: ['Tenants'],
        summary: 'Create a tenant (root key)',
        body: Type.Object(
          { name: Type.String({ minLength: 1, maxLength: 255 }), metadata: Type.Optional(Metadata) },
          { additionalProperties: false },
        ),
        response: { 201: Tenant, ...errorResponses },
      },
    },
    async (request, reply) => reply.code(201).send(await tenancy.createTenant(request.body)),
  );
  app.get(
    '/v1/tenants',
    {
      onRequest: guards.requireRoot,
      schema: {
        tags: ['Tenants'],
        summary: 'List tenants (root key)',
        querystring: PageQ,
        response: { 200: pageOf(Tenant), ...errorResponses },
      },
    },
    async (request) => tenancy.listTenants(pageRequest(request.query)),
  );
  app.get(
    '/v1/tenants/:id',
    {
      onRequest: guards.requireRoot,
      schema: {
        tags: ['Tenants'],
        summary: 'Get a tenant (root key)',
        params: IdParams,
        response: { 200: Tenant, ...errorResponses },
      },
    },
    async (request) => tenancy.getTenant(request.params.id),
  );

  const admin = guards.requireRole('admin');
  app.post(
    '/v1/api-keys',
    {
      onRequest: admin,
      schema: {
        tags: ['API keys'],
        summary: 'Create an API key',
        description: 'The `key` value is in this answer only; Hookline keeps just its hash.',
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 255 }),
            roles: Type.Array(Type.Union(ROLES.map((r) => Type.Literal(r))), { minItems: 1, maxItems: ROLES.length }),
            accountId: Type.Optional(NullableString(64)),
            mode: Type.Optional(Type.Union(MODES.map((m) => Type.Literal(m)))),
          },
          { additionalProperties: false },
        ),
        response: { 201: Type.Intersect([ApiKey, Type.Object({ key: Type.String() })]), ...errorResponses },
      },
    },
    async (request, reply) => reply.code(201).send(await tenancy.createApiKey(principalOf(request), request.body)),
  );
  app.get(
    '/v1/api-keys',
    {
      onRequest: admin,
      schema: {
        tags: ['API keys'],
        summary: 'List API keys (never their values)',
        querystring: PageQ,
        response: { 200: pageOf(ApiKey), ...errorResponses },
      },
    },
    async (request) => tenancy.listApiKeys(principalOf(request), pageRequest(request.query)),
  );
  app.delete(
    '/v1/api-keys/:id',
    {
      onRequest: admin,
      schema: {
        tags: ['API keys'],
        summary: 'Revoke an API key (effective at once)',
        params: IdParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await tenancy.revokeApiKey(principalOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/v1/accounts',
    {
      onRequest: admin,
      schema: {
        tags: ['Accounts'],
        summary: 'Create an account (a customer of the tenant that owns webhooks)',
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 255 }),
            reference: Type.Optional(NullableString(255)),
            metadata: Type.Optional(Metadata),
          },
          { additionalProperties: false },
        ),
        response: { 201: Account, ...errorResponses, 409: Type.Ref('Problem') },
      },
    },
    async (request, reply) => reply.code(201).send(await tenancy.createAccount(principalOf(request), request.body)),
  );
  const read = guards.requireRole('webhooks:read');
  app.get(
    '/v1/accounts',
    {
      onRequest: read,
      schema: {
        tags: ['Accounts'],
        summary: 'List accounts',
        querystring: PageQ,
        response: { 200: pageOf(Account), ...errorResponses },
      },
    },
    async (request) => tenancy.listAccounts(principalOf(request), pageRequest(request.query)),
  );
  app.get(
    '/v1/accounts/:id',
    {
      onRequest: read,
      schema: {
        tags: ['Accounts'],
        summary: 'Get an account',
        params: IdParams,
        response: { 200: Account, ...errorResponses },
      },
    },
    async (request) => tenancy.getAccount(principalOf(request), request.params.id),
  );
}
