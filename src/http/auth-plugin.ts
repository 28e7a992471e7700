/**
 * Authentication and authorisation. `app.authenticate` resolves the Principal once per request; each route then names
 * what it needs with `requireRole(role)` or `requireRoot`.
 */
import type { FastifyInstance, FastifyRequest, onRequestHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { AppError } from '../domain/errors.js';
import { hasRole, type Principal, type Role } from '../domain/principal.js';
import type { Authenticator } from '../services/auth.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

function header(request: FastifyRequest, name: string): string | undefined {
  const v = request.headers[name];
  const s = Array.isArray(v) ? v[0] : v;
  return s === undefined || s === '' ? undefined : s;
}

async function resolve(auth: Authenticator, request: FastifyRequest): Promise<Principal> {
  if (request.principal !== null) return request.principal;
  const principal = await auth.authenticate({
    authorization: header(request, 'authorization'),
    tenantId: header(request, 'x-tenant-id'),
    accountId: header(request, 'x-account-id'),
    mode: header(request, 'x-hookline-mode'),
  });
  request.principal = principal;
  return principal;
}

export function principalOf(request: FastifyRequest): Principal {
  if (request.principal === null) throw new AppError('unauthorized', 'Not authenticated');
  return request.principal;
}

export function createGuards(auth: Authenticator) {
  const requireRole =
    (role: Role): onRequestHookHandler =>
    async (request) => {
      const principal = await resolve(auth, request);
      if (!hasRole(principal, role)) {
        throw new AppError('forbidden', `This API key lacks the "${role}" role needed here`);
      }
      if (principal.scope === null) {
        throw new AppError('tenant_required', 'x-tenant-id: the root key must name a tenant for this route');
      }
    };
  const requireRoot: onRequestHookHandler = async (request) => {
    const principal = await resolve(auth, request);
    if (!principal.isRoot) throw new AppError('forbidden', 'Only the root key (HOOKLINE_ADMIN_KEY) may manage tenants');
  };
  return { requireRole, requireRoot };
}

export type Guards = ReturnType<typeof createGuards>;

export const principalPlugin = fp(async (app: FastifyInstance) => {
  app.decorateRequest('principal', null);
});
