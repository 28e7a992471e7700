/** Rich webhook filters through the API: refused when invalid, tested on demand, applied at fan-out and recovery. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, postgresAvailable } from '../helpers/databases.js';
import { type Receiver, startReceiver } from '../helpers/receiver.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const pgOk = await postgresAvailable();

for (const dialect of DIALECTS) {
  describe.skipIf(dialect === 'postgres' && !pgOk)(`rich filters on ${dialect}`, () => {
    let t: TestApp;
    let key: string;
    let r: Receiver;

    beforeAll(async () => {
      t = await startTestApp(
        dialect,
        { HOOKLINE_ALLOW_PRIVATE_TARGETS: 'true', HOOKLINE_POLL_INTERVAL_MS: '50' },
        { worker: true },
      );
      key = (await t.tenant('Filters')).adminKey;
      r = await startReceiver();
    });
    afterAll(async () => {
      await t?.close();
      await r?.close();
    });

    it('refuses an invalid filter naming the operator and its path', async () => {
      const res = await t.call('POST', '/v1/webhooks', {
        key,
        body: {
          url: r.url,
          eventTypes: ['*'],
          filter: { $or: [{ 'data.total': { $gte: 1 } }, { 'data.total': { $near: 5 } }] },
        },
      });
      expect(res.status).toBe(400);
      expect(res.body.detail).toContain('body.filter.$or[1]');
      expect(res.body.detail).toContain('$near');
      const notArray = await t.call('POST', '/v1/webhooks', {
        key,
        body: { url: r.url, eventTypes: ['*'], filter: { type: { $in: 'x' } } },
      });
      expect(notArray.status).toBe(400);
      expect(notArray.body.detail).toContain('$in');
    });

    it('answers whether a filter matches an event', async () => {
      const filter = {
        $and: [{ 'data.total': { $gte: 100 } }, { type: { $startsWith: 'order.' } }, { $not: { 'data.tags': 'test' } }],
      };
      const yes = await t.call('POST', '/v1/webhooks/test-filter', {
        key,
        body: { filter, event: { type: 'order.created', data: { total: 150, tags: ['vip'] } } },
      });
      expect(yes.body).toEqual({ matches: true });
      const no = await t.call('POST', '/v1/webhooks/test-filter', {
        key,
        body: { filter, event: { type: 'order.created', data: { total: 150, tags: ['test'] } } },
      });
      expect(no.body).toEqual({ matches: false });
      const bad = await t.call('POST', '/v1/webhooks/test-filter', {
        key,
        body: { filter: { $bogus: 1 }, event: { type: 'x', data: {} } },
      });
      expect(bad.status).toBe(400);
      expect(bad.body.detail).toContain('$bogus');
    });

    it('delivers only the events its filter matches', async () => {
      const w = await t.call('POST', '/v1/webhooks', {
        key,
        body: {
          url: r.url,
          eventTypes: ['order.*'],
          filter: {
            $or: [{ 'data.total': { $gte: 100 } }, { 'references.priority': 'high' }],
            'data.currency': { $in: ['EUR', 'USD'] },
          },
        },
      });
      expect(w.status).toBe(201);
      expect(w.body.filter).toMatchObject({ 'data.currency': { $in: ['EUR', 'USD'] } });
      const publish = async (data: Record<string, unknown>, references: Record<string, string> = {}) =>
        (await t.call('POST', '/v1/events', { key, body: { type: 'order.created', data, references } })).body
          .deliveries;
      expect(await publish({ total: 150, currency: 'EUR', n: 1 })).toBe(1);
      expect(await publish({ total: 50, currency: 'EUR', n: 2 })).toBe(0);
      expect(await publish({ total: 50, currency: 'USD', n: 3 }, { priority: 'high' })).toBe(1);
      expect(await publish({ total: 500, currency: 'GBP', n: 4 })).toBe(0);
      await r.waitFor(2);
      await new Promise((res) => setTimeout(res, 200));
      expect(r.received.map((q) => JSON.parse(q.body).data.n).sort()).toEqual([1, 3]);
      const cleared = await t.call('PATCH', `/v1/webhooks/${w.body.id}`, { key, body: { filter: null } });
      expect(cleared.body.filter).toBeNull();
    });
  });
}
