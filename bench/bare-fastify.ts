/**
 * The publish API's reference point: a bare Fastify server (separate process, forked by the harness with IPC) with
 * one TypeBox-validated POST route shaped like `POST /v1/events` — no authentication, no storage, no fan-out. It
 * answers 201 with an event-like object. Sends `{ port }` over IPC when listening; exits when the harness goes.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify from 'fastify';
import { Type } from 'typebox';

const Body = Type.Object(
  {
    type: Type.String({ minLength: 1, maxLength: 128 }),
    data: Type.Unknown(),
  },
  { additionalProperties: false, required: ['type', 'data'] },
);
const Answer = Type.Object({
  id: Type.String(),
  type: Type.String(),
  deliveries: Type.Integer(),
  createdAt: Type.String(),
});

const app = Fastify({ logger: false }).withTypeProvider<TypeBoxTypeProvider>();
app.post('/v1/events', { schema: { body: Body, response: { 201: Answer } } }, async (request, reply) =>
  reply.code(201).send({
    id: `evt_${randomUUID()}`,
    type: request.body.type,
    deliveries: 0,
    createdAt: new Date().toISOString(),
  }),
);

await app.listen({ port: 0, host: '127.0.0.1' });
process.on('disconnect', () => process.exit(0));
process.send?.({ port: (app.server.address() as AddressInfo).port });
