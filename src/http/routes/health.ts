import { Type } from 'typebox';
import type { FastifyTypeBoxInstance, RouteDeps } from '../types.js';
import { sendProblem } from '../problem.js';

export async function healthRoutes(app: FastifyTypeBoxInstance, { db }: RouteDeps) {
  app.get(
    '/healthz',
    {
      schema: {
        tags: ['Operations'],
        summary: 'Liveness: the process answers',
        response: { 200: Type.Object({ status: Type.Literal('ok') }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );
  app.get(
    '/readyz',
    {
      schema: {
        tags: ['Operations'],
        summary: 'Readiness: the database answers',
        response: {
          200: Type.Object({ status: Type.Literal('ready'), database: Type.String() }),
          503: Type.Ref('Problem'),
        },
      },
    },
    async (request, reply) => {
      try {
        await db.ping();
        return { status: 'ready' as const, database: db.dialect };
      } catch (err) {
        request.log.warn({ err }, 'readiness check failed');
        return sendProblem(request, reply, 'unavailable', 'The database is not reachable');
      }
    },
  );
}
