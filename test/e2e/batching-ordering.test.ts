/**
 * Batched delivery (the seeds' maxBatchSize / maxBatchTimeDelay and batch API) and FIFO ordering, end to end against
 * real receivers, on SQLite and PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, postgresAvailable } from '../helpers/databases.js';
import { eventually, type Receiver, type Responder, receiverPool } from '../helpers/receiver.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const pgOk = await postgresAvailable();

interface BatchBody {
  batchId: string;
  events: Array<{ id: string; type: string; data: { n: number } }>;
}

for (const dialect of DIALECTS) {
  describe.skipIf(dialect === 'postgres' && !pgOk)(`batching and ordering on ${dialect}`, () => {
    let t: TestApp;
    let key: string;
    const pool = receiverPool();

    beforeAll(async () => {
      t = await startTestApp(
        dialect,
        { HOOKLINE_ALLOW_PRIVATE_TARGETS: 'true', HOOKLINE_POLL_INTERVAL_MS: '50' },
        { worker: true },
      );
      key = (await t.tenant('Batches')).adminKey;
    });
    afterAll(async () => {
      await t?.close();
      await pool.closeAll();
    });

    const receiver = (responder?: Responder) => pool.start(responder);
    async function webhook(body: Record<string, unknown>) {
      const res = await t.call('POST', '/v1/webhooks', { key, body });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body as { id: string };
    }
    async function publish(type: string, n: number, references: Record<string, string> = {}) {
      const res = await t.call('POST', '/v1/events', { key, body: { type, data: { n }, references } });
      expect(res.status).toBe(201);
      return res.body.id as string;
    }
    const bodies = (r: Receiver) => r.received.map((q) => JSON.parse(q.body) as BatchBody);

    it('sends recovered missed events and test sends to a batching webhook as batches', async () => {
      const r = await receiver();
      const since = new Date(Date.now() - 1000).toISOString();
      const w = await webhook({ url: r.url, eventTypes: ['missed.*'], maxBatchSize: 3, maxBatchTimeDelay: 60_000 });
      await t.call('POST', `/v1/webhooks/${w.id}/disable`, { key });
      for (let n = 0; n < 5; n++) await publish('missed.test', n);
      await t.call('POST', `/v1/webhooks/${w.id}/enable`, { key });
      const rec = await t.call('POST', `/v1/webhooks/${w.id}/recover`, { key, body: { since, includeMissing: true } });
      expect(rec.status).toBe(202);
      // Five missed events in batches of up to three: two deliveries.
      expect(rec.body).toMatchObject({ deliveriesRequeued: 0, deliveriesCreated: 2 });
      await r.waitFor(2);
      const recovered = bodies(r).map((b) => b.events.map((e) => e.data.n));
      expect(recovered.sort((a, b) => (a[0] ?? 0) - (b[0] ?? 0))).toEqual([
        [0, 1, 2],
        [3, 4],
      ]);
      expect(
        bodies(r)
          .map((b) => b.batchId)
          .sort(),
      ).toEqual(r.received.map((q) => q.headers['webhook-id']).sort());

      const test = await t.call('POST', `/v1/webhooks/${w.id}/test`, { key, body: { data: { n: 9 } } });
      expect(test.status).toBe(200);
      expect(test.body.attempt).toMatchObject({ status: 'succeeded' });
      const sent = JSON.parse(test.body.attempt.requestBody) as BatchBody;
      expect(sent.batchId).toBe(test.body.delivery.id);
      expect(sent.events).toEqual([expect.objectContaining({ type: 'hookline.test', data: { n: 9 } })]);
    });

    it('sends a batch when it is full, in publish order, and keeps the rest open', async () => {
      const r = await receiver();
      const w = await webhook({ url: r.url, eventTypes: ['size.*'], maxBatchSize: 3, maxBatchTimeDelay: 60_000 });
      const ids: string[] = [];
      for (let n = 0; n < 7; n++) ids.push(await publish('size.test', n, { orderRef: n < 3 ? 'ORD-A' : 'ORD-B' }));
      await r.waitFor(2);
      await new Promise((res) => setTimeout(res, 200));
      expect(r.received).toHaveLength(2);
      const [b1, b2] = bodies(r);
      expect(b1?.events.map((e) => e.data.n)).toEqual([0, 1, 2]);
      expect(b2?.events.map((e) => e.data.n)).toEqual([3, 4, 5]);
      expect(r.received[0]?.headers['webhook-id']).toBe(b1?.batchId);

      const list = await t.call('GET', `/v1/webhooks/${w.id}/batches`, { key });
      expect(list.status).toBe(200);
      expect(list.body).toMatchObject({ totalCount: 3, rowCount: 3, pageSize: 100, currentPage: 0, pageCount: 1 });
      const open = list.body.results[0];
      expect(open).toMatchObject({ totalEvents: 1, open: true, lastDeliveryAttemptStatus: 'Scheduled' });
      expect(open.events).toEqual([{ eventType: 'size.test', messageId: ids[6] }]);
      const sent = await t.call('GET', `/v1/webhooks/${w.id}/batches?lastDeliveryAttemptStatus=Succeeded`, { key });
      expect(sent.body.results.map((b: { batchId: string }) => b.batchId).sort()).toEqual(
        [b1?.batchId, b2?.batchId].sort(),
      );
      const byRef = await t.call('GET', `/v1/webhooks/${w.id}/batches?orderRef=ORD-A`, { key });
      expect(byRef.body.results.map((b: { batchId: string }) => b.batchId)).toEqual([b1?.batchId]);
      const paged = await t.call('GET', `/v1/webhooks/${w.id}/batches?from=1&take=1`, { key });
      expect(paged.body).toMatchObject({ currentPage: 1, pageCount: 3, rowCount: 1, totalCount: 3 });
      const none = await t.call('GET', `/v1/webhooks/${w.id}/batches?createdBefore=1`, { key });
      expect(none.body.totalCount).toBe(0);
      const offset = await t.call('GET', `/v1/webhooks/${w.id}/deliveries?from=2&take=5`, { key });
      expect(offset.body.totalCount).toBe(3);
      expect(offset.body.data).toHaveLength(1);
      const one = await t.call('GET', `/v1/webhooks/${w.id}/batches/${b1?.batchId}`, { key });
      expect(one.body).toMatchObject({
        batchId: b1?.batchId,
        totalEvents: 3,
        eventTypes: ['size.test'],
        lastDeliveryAttemptStatus: 'Succeeded',
      });
      expect(typeof one.body.lastDeliveryAttemptTimestamp).toBe('number');
    });

    it('sends a batch when its oldest event has waited maxBatchTimeDelay', async () => {
      const r = await receiver();
      await webhook({ url: r.url, eventTypes: ['delay.*'], maxBatchSize: 100, maxBatchTimeDelay: 300 });
      const start = Date.now();
      for (let n = 0; n < 5; n++) await publish('delay.test', n);
      const [req] = await r.waitFor(1);
      expect((req?.at ?? 0) - start).toBeGreaterThanOrEqual(250);
      await new Promise((res) => setTimeout(res, 100));
      expect(r.received).toHaveLength(1);
      expect(bodies(r)[0]?.events.map((e) => e.data.n)).toEqual([0, 1, 2, 3, 4]);
    });

    it('retries the same batch with the same webhook-id, lists its attempts and takes a manual attempt', async () => {
      const r = await receiver((_q, i) => (i === 0 ? { status: 500, body: 'down' } : { status: 200 }));
      const w = await webhook({
        url: r.url,
        eventTypes: ['retry.*'],
        maxBatchSize: 2,
        maxBatchTimeDelay: 60_000,
        retrySchedule: [0, 0],
      });
      await publish('retry.test', 1);
      await publish('retry.test', 2);
      const reqs = await r.waitFor(2);
      expect(reqs[0]?.headers['webhook-id']).toBe(reqs[1]?.headers['webhook-id']);
      expect(reqs[0]?.body).toBe(reqs[1]?.body);
      const batchId = String(reqs[0]?.headers['webhook-id']);
      await eventually(
        async () => (await t.call('GET', `/v1/webhooks/${w.id}/batches/${batchId}`, { key })).body,
        (b) => b.lastDeliveryAttemptStatus === 'Succeeded',
      );
      const attempts = await t.call('GET', `/v1/webhooks/${w.id}/batches/${batchId}/delivery-attempts`, { key });
      expect(attempts.body.results.map((a: { deliveryStatus: string }) => a.deliveryStatus)).toEqual([
        'Succeeded',
        'Failed',
      ]);
      expect(attempts.body.results[1]).toMatchObject({
        batchId,
        subscriptionId: w.id,
        responseStatusCode: 500,
        response: 'down',
      });
      const one = await t.call(
        'GET',
        `/v1/webhooks/${w.id}/batches/${batchId}/delivery-attempts/${attempts.body.results[1].deliveryAttemptId}`,
        { key },
      );
      expect(one.body.deliveryStatus).toBe('Failed');

      const scheduled = await t.call('POST', `/v1/webhooks/${w.id}/batches/${batchId}/delivery-attempts`, { key });
      expect(scheduled.status).toBe(201);
      expect(scheduled.body.deliveryStatus).toBe('Scheduled');
      await r.waitFor(3);
      expect(r.received[2]?.headers['webhook-id']).toBe(batchId);
      expect(JSON.parse(r.received[2]?.body ?? '{}').events).toHaveLength(2);
    });

    it('delivers a FIFO webhook strictly in publish order under retries, without holding back other webhooks', async () => {
      let failedOnce = false;
      const fifo = await receiver((q) => {
        const n = (JSON.parse(q.body) as { data: { n: number } }).data.n;
        if (n === 1 && !failedOnce) {
          failedOnce = true;
          return { status: 503 };
        }
        return { status: 200 };
      });
      const free = await receiver();
      await webhook({ url: fifo.url, eventTypes: ['fifo.*'], ordering: 'fifo', retrySchedule: [0, 1] });
      await webhook({ url: free.url, eventTypes: ['fifo.*'] });
      for (let n = 0; n < 5; n++) await publish('fifo.test', n);
      // The other webhook is not held back; the FIFO one gets 0, then 1 (which fails), and nothing more until the
      // retry of 1 (due a second later).
      await free.waitFor(5, 800);
      await fifo.waitFor(2, 800);
      const ns = (r: Receiver) => r.received.map((q) => (JSON.parse(q.body) as { data: { n: number } }).data.n);
      expect(ns(fifo)).toEqual([0, 1]);
      await fifo.waitFor(6);
      expect(ns(fifo)).toEqual([0, 1, 1, 2, 3, 4]);
    });

    it('blocks a FIFO webhook behind a finally failed delivery when asked to, until it is repaired', async () => {
      const r = await receiver((q) =>
        (JSON.parse(q.body) as { data: { n: number } }).data.n === 0 ? { status: 500 } : { status: 200 },
      );
      const w = await webhook({
        url: r.url,
        eventTypes: ['block.*'],
        ordering: 'fifo',
        orderingOnFailure: 'block',
        retrySchedule: [0],
      });
      for (let n = 0; n < 3; n++) await publish('block.test', n);
      await r.waitFor(1);
      await new Promise((res) => setTimeout(res, 300));
      expect(r.received).toHaveLength(1);
      const failed = (await t.call('GET', `/v1/webhooks/${w.id}/deliveries?status=failed`, { key })).body.data;
      expect(failed).toHaveLength(1);
      r.respond(() => ({ status: 200 }));
      await t.call('POST', `/v1/webhooks/${w.id}/deliveries/${failed[0].id}/attempts`, { key });
      await r.waitFor(4);
      expect(r.received.map((q) => (JSON.parse(q.body) as { data: { n: number } }).data.n)).toEqual([0, 0, 1, 2]);
    });
  });
}
