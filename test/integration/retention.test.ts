/**
 * Retention on both databases: what `pruneExpired` removes after the retention period, and that the attempt log
 * stays whole meanwhile — an attempt's event (from which a plain request body is rebuilt) is kept as long as the
 * attempt is. An app of its own: pruning with a clock 15 days ahead would empty a database other suites still use.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pruneExpired } from '../../src/delivery/retention.js';
import { DIALECTS, postgresAvailable } from '../helpers/databases.js';
import { eventually, receiverPool } from '../helpers/receiver.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const pgOk = await postgresAvailable();
const DAY = 86_400_000;

for (const dialect of DIALECTS) {
  describe.skipIf(dialect === 'postgres' && !pgOk)(`retention on ${dialect}`, () => {
    let t: TestApp;
    let key: string;
    const pool = receiverPool();

    beforeAll(async () => {
      t = await startTestApp(
        dialect,
        { HOOKLINE_ALLOW_PRIVATE_TARGETS: 'true', HOOKLINE_POLL_INTERVAL_MS: '50' },
        { worker: true },
      );
      key = (await t.tenant('Retention')).adminKey;
    });
    afterAll(async () => {
      await t?.close();
      await pool.closeAll();
    });

    it('keeps an old delivery, its event and the request body while a recent attempt of it is kept', async () => {
      const r = await pool.start();
      const w = (
        await t.call('POST', '/v1/webhooks', { key, body: { url: r.url, eventTypes: ['order.*'], name: 'kept' } })
      ).body as { id: string };
      const pub = await t.call('POST', '/v1/events', { key, body: { type: 'order.created', data: { n: 1 } } });
      expect(pub.status).toBe(201);
      const [sent] = await r.waitFor(1);
      const attemptsOf = async () =>
        (await t.call('GET', `/v1/webhooks/${w.id}/attempts`, { key })).body.data as Array<{
          id: string;
          requestBody: string;
        }>;
      const [attempt] = await eventually(attemptsOf, (a) => a.length === 1);
      // A plain envelope: stored once (in the event), and shown as it was sent.
      expect(attempt?.requestBody).toBe(sent?.body);
      const stored = await t.core.db.kysely
        .selectFrom('attempts')
        .select('request_body')
        .where('id', '=', attempt?.id ?? '')
        .executeTakeFirstOrThrow();
      expect(stored.request_body).toBe('');

      // The delivery and its event are older than the period (retention 14 days), but the delivery was attempted just
      // now, so that attempt — and what it is rebuilt from — stays.
      const now = Date.now();
      const db = t.core.db.kysely;
      await db
        .updateTable('deliveries')
        .set({ created_at: now - 15 * DAY })
        .where('webhook_id', '=', w.id)
        .execute();
      await db
        .updateTable('events')
        .set({ created_at: now - 15 * DAY })
        .where('id', '=', pub.body.id)
        .execute();
      await pruneExpired(t.core.db, now, 14);
      const kept = await attemptsOf();
      expect(kept).toHaveLength(1);
      expect(kept[0]?.requestBody).toBe(sent?.body);
      expect((await t.call('GET', `/v1/events/${pub.body.id}`, { key })).status).toBe(200);

      // Fifteen days on, that attempt has expired as well (an attempt's age is its id's: the id starts with the time
      // it was made), and all of it goes.
      const report = await pruneExpired(t.core.db, now + 15 * DAY, 14);
      expect(report).toMatchObject({ attempts: 1, deliveries: 1 });
      expect(report.events).toBeGreaterThanOrEqual(1);
      expect(await attemptsOf()).toHaveLength(0);
      expect((await t.call('GET', `/v1/events/${pub.body.id}`, { key })).status).toBe(404);
    });
  });
}
