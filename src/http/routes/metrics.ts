import { collectDefaultMetrics, Counter, Registry } from 'prom-client';
import type { FastifyTypeBoxInstance } from '../types.js';

/** Prometheus metrics. One registry per app so several apps in one process (tests) do not collide. */
export async function metricsRoutes(app: FastifyTypeBoxInstance) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'hookline_' });
  const requests = new Counter({
    name: 'hookline_http_requests_total',
    help: 'HTTP requests answered, by route and status code',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  app.addHook('onResponse', (request, reply, done) => {
    requests.inc({
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      status: String(reply.statusCode),
    });
    done();
  });
  app.get(
    '/metrics',
    { schema: { tags: ['Operations'], summary: 'Prometheus metrics', produces: ['text/plain'] } },
    async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()),
  );
}
