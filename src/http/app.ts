/**
 * buildApp(deps): the HTTP API as a Fastify instance, apart from listen(), so tests drive it with `app.inject()`
 * (Fastify `docs/Guides/Testing.md`). Routes are plugins, one file per resource.
 */
import { randomUUID } from 'node:crypto';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyError, type FastifyServerOptions, LogController } from 'fastify';
import secureJson from 'secure-json-parse';
import type { Config } from '../config/config.js';
import type { Db } from '../db/connect.js';
import { createGuards, principalPlugin } from './auth-plugin.js';
import { nulCharacterProblem } from './nul-characters.js';
import { handleError, sendProblem } from './problem.js';
import { batchRoutes } from './routes/batches.js';
import { deliveryRoutes } from './routes/deliveries.js';
import { eventRoutes } from './routes/events.js';
import { eventTypeRoutes } from './routes/event-types.js';
import { healthRoutes } from './routes/health.js';
import { metricsRoutes } from './routes/metrics.js';
import { tenancyRoutes } from './routes/tenancy.js';
import { validationRoutes } from './routes/validations.js';
import { WebhookSchema } from './routes/webhook-schemas.js';
import { webhookRoutes } from './routes/webhooks.js';
import { ProblemSchema } from './schemas.js';
import type { AppServices, RouteDeps } from './types.js';
import { validatorCompiler } from './validator.js';
import { HOOKLINE_VERSION } from '../version.js';

export interface AppDeps {
  config: Config;
  db: Db;
  services: AppServices;
  logger?: FastifyServerOptions['loggerInstance'];
}

/** A correlation id from a client is kept when it is a sane token; otherwise we make one. */
const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export async function buildApp(deps: AppDeps) {
  const app = Fastify({
    ...(deps.logger !== undefined ? { loggerInstance: deps.logger } : { logger: { level: deps.config.logLevel } }),
    bodyLimit: deps.config.bodyLimitBytes,
    logController: new LogController({ requestIdLogLabel: 'correlationId' }),
    genReqId: (req) => {
      const h = req.headers['x-correlation-id'];
      const v = Array.isArray(h) ? h[0] : h;
      return v !== undefined && CORRELATION_ID.test(v) ? v : randomUUID();
    },
    // Timeouts bound slow clients: a request must arrive within 30 s, idle keep-alive sockets close after 72 s.
    requestTimeout: 30_000,
    keepAliveTimeout: 72_000,
    ajv: { customOptions: { removeAdditional: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  // JSON bodies: an empty body counts as none (action routes are often POSTed bare), and prototype-poisoning keys
  // (`__proto__`, `constructor.prototype`) are refused rather than parsed.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    let parsed: unknown;
    try {
      parsed = secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
    } catch (e) {
      const err = new SyntaxError(e instanceof Error ? e.message : 'invalid JSON');
      return done(err, undefined);
    }
    const nul = nulCharacterProblem(text, parsed);
    if (nul !== null) return done(nul, undefined);
    done(null, parsed);
  });
  app.addSchema(ProblemSchema);
  app.addSchema(WebhookSchema);
  app.setErrorHandler((error: FastifyError, request, reply) => handleError(error, request, reply));
  app.setNotFoundHandler((request, reply) =>
    sendProblem(request, reply, 'route_not_found', `No route for ${request.method} ${request.url.split('?')[0]}`),
  );
  // Callback-style hooks on every request: an async hook costs a promise and a microtask turn per request.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-correlation-id', String(request.id));
    done();
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Hookline API',
        version: HOOKLINE_VERSION,
        description:
          'Self-hosted, multi-tenant webhook management and delivery. Authenticate with `Authorization: Bearer <key>`. Errors are RFC 9457 problems.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`),
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list', deepLinking: true } });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  await app.register(principalPlugin);
  const routeDeps: RouteDeps = {
    services: deps.services,
    guards: createGuards(deps.services.auth),
    db: deps.db,
    config: deps.config,
  };
  await app.register(healthRoutes, routeDeps);
  // Registered at the root (not encapsulated) so its onResponse hook counts every route.
  await metricsRoutes(app);
  await app.register(tenancyRoutes, routeDeps);
  await app.register(eventTypeRoutes, routeDeps);
  await app.register(webhookRoutes, routeDeps);
  await app.register(eventRoutes, routeDeps);
  await app.register(deliveryRoutes, routeDeps);
  await app.register(batchRoutes, routeDeps);
  await app.register(validationRoutes, routeDeps);
  return app;
}

export type HooklineApp = Awaited<ReturnType<typeof buildApp>>;
