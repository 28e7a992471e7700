/**
 * A worker stopping while an endpoint hangs: it waits for the calls in progress (up to their timeout), but hands the
 * calls it had passed to its sender thread and that never started back to the queue — no attempt recorded for them,
 * due now for the next worker — instead of making them, round after round, before it can stop.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { DIALECTS, postgresAvailable } from '../helpers/databases.js';
import { receiverPool } from '../helpers/receiver.js';
import { startTestApp } from '../helpers/test-app.js';

const pgOk = await postgresAvailable();

for (const dialect of DIALECTS) {
  describe.skipIf(dialect === 'postgres' && !pgOk)(`worker stop on ${dialect}`, () => {
    const pool = receiverPool();
    afterAll(async () => {
      await pool.closeAll();
    });

    it('releases the calls its sender had not started, and records only the calls it made', async () => {
      const t = await startTestApp(
        dialect,
        { HOOKLINE_ALLOW_PRIVATE_TARGETS: 'true', HOOKLINE_PER_WEBHOOK_CONCURRENCY: '2' },
        { worker: true },
      );
      try {
        const { adminKey: key } = await t.tenant('Stop');
        const dead = await pool.start(() => 'hang');
        const created = await t.call('POST', '/v1/webhooks', {
          key,
          body: { url: dead.url, eventTypes: ['stop.test'], timeoutMs: 1000 },
        });
        const webhookId = created.body.id as string;
        const published = await t.call('POST', '/v1/events/batch', {
          key,
          body: { events: Array.from({ length: 12 }, (_, i) => ({ type: 'stop.test', data: { i } })) },
        });
        expect(published.status).toBe(201);
        // Two calls hang at the endpoint (its cap); the worker has handed its sender more rounds of them.
        await dead.waitFor(2, 5000);
        await t.stopWorker();

        const rows = await t.core.db.kysely
          .selectFrom('deliveries')
          .select(['status', 'attempts', 'lease_owner'])
          .where('webhook_id', '=', webhookId)
          .execute();
        const attempts = await t.core.db.kysely
          .selectFrom('attempts')
          .select('id')
          .where('webhook_id', '=', webhookId)
          .execute();
        // Only the two calls in progress were made and recorded (timed out, to be retried).
        expect(dead.received).toHaveLength(2);
        expect(attempts).toHaveLength(2);
        expect(rows).toHaveLength(12);
        expect(rows.filter((r) => r.attempts === 1)).toHaveLength(2);
        // Everything else is back in the queue, leased to no one, without an attempt.
        const untouched = rows.filter((r) => r.attempts === 0);
        expect(untouched).toHaveLength(10);
        expect(untouched.every((r) => r.status === 'pending' && r.lease_owner === null)).toBe(true);
      } finally {
        await t.close();
      }
    });
  });
}
