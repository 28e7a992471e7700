/**
 * The delivery engine end to end: a real Hookline (API + worker) on a real database, real receivers on 127.0.0.1,
 * signatures checked with the public `standardwebhooks` package. The same suite on SQLite and PostgreSQL.
 */
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretBox } from '../../src/domain/secret-box.js';
import { DIALECTS, postgresAvailable } from '../helpers/databases.js';
import { eventually, type Responder, receiverPool } from '../helpers/receiver.js';
import { type Json, startTestApp, type TestApp } from '../helpers/test-app.js';

const pgOk = await postgresAvailable();

for (const dialect of DIALECTS) {
  describe.skipIf(dialect === 'postgres' && !pgOk)(`delivery engine on ${dialect}`, () => {
    let t: TestApp;
    let key: string;
    const pool = receiverPool();

    beforeAll(async () => {
      t = await startTestApp(
        dialect,
        {
          HOOKLINE_ALLOW_PRIVATE_TARGETS: 'true',
          HOOKLINE_POLL_INTERVAL_MS: '50',
          HOOKLINE_CIRCUIT_FAILURE_THRESHOLD: '3',
          HOOKLINE_CIRCUIT_COOLDOWN_SECONDS: '1',
        },
        { worker: true },
      );
      key = (await t.tenant('Deliveries')).adminKey;
    });
    afterAll(async () => {
      await t?.close();
      await pool.closeAll();
    });

    const receiver = (responder?: Responder) => pool.start(responder);
    async function webhook(body: Record<string, unknown>, k = key) {
      const res = await t.call('POST', '/v1/webhooks', { key: k, body: { eventTypes: ['order.*'], ...body } });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body as { id: string; secret: string };
    }
    async function publish(body: Record<string, unknown>, opts: { k?: string; headers?: Record<string, string> } = {}) {
      const res = await t.call('POST', '/v1/events', { key: opts.k ?? key, body, headers: opts.headers ?? {} });
      expect([200, 201], JSON.stringify(res.body)).toContain(res.status);
      return res;
    }
    const deliveriesOf = async (webhookId: string) =>
      (await t.call('GET', `/v1/webhooks/${webhookId}/deliveries`, { key })).body.data as Array<
        Record<string, unknown>
      >;

    it('delivers a signed request that the public standardwebhooks library verifies', async () => {
      const r = await receiver();
      const w = await webhook({
        url: r.url,
        headers: { 'X-Team': 'blue', Authorization: 'Bearer receiver-token' },
        includeResources: ['customer'],
      });
      const pub = await publish(
        {
          type: 'order.created',
          data: { id: 'ORD-1', total: 42 },
          references: { orderRef: 'ORD-1' },
          included: { customer: { id: 'C1' }, other: 1 },
        },
        { headers: { 'x-correlation-id': 'corr-777' } },
      );
      expect(pub.status).toBe(201);
      expect(pub.body.deliveries).toBe(1);
      const [req] = await r.waitFor(1);
      if (req === undefined) throw new Error('no request');
      const verified = new Webhook(w.secret).verify(req.body, req.headers as Record<string, string>) as Record<
        string,
        unknown
      >;
      expect(verified).toMatchObject({
        id: pub.body.id,
        type: 'order.created',
        data: { id: 'ORD-1', total: 42 },
        included: { customer: { id: 'C1' } },
      });
      expect(verified.included).not.toHaveProperty('other');
      expect(req.headers['x-hook-uid']).toBe(w.id);
      expect(req.headers['x-event-key']).toBe('order.created');
      expect(req.headers['x-correlation-id']).toBe('corr-777');
      expect(req.headers['x-team']).toBe('blue');
      expect(req.headers['user-agent']).toMatch(/^Hookline\//);
      const deliveries = await eventually(
        () => deliveriesOf(w.id),
        (d) => d[0]?.status === 'succeeded',
      );
      expect(req.headers['webhook-id']).toBe(deliveries[0]?.id);
      expect(req.headers['x-request-uid']).toBe(deliveries[0]?.lastAttemptId);

      const attempts = (await t.call('GET', `/v1/webhooks/${w.id}/attempts`, { key })).body.data;
      expect(attempts).toHaveLength(1);
      expect(attempts[0]).toMatchObject({
        status: 'succeeded',
        responseStatus: 200,
        reasonPhrase: 'OK',
        trigger: 'scheduled',
        isRetry: false,
        parentAttemptId: null,
      });
      expect(attempts[0].requestHeaders.Authorization).toBe('[redacted]');
      // The log shows the headers as sent, the signature (added by the sender) included.
      expect(attempts[0].requestHeaders['webhook-signature']).toBe(req.headers['webhook-signature']);
      expect(attempts[0].requestHeaders['webhook-timestamp']).toBe(req.headers['webhook-timestamp']);
      expect(attempts[0].requestBody).toBe(req.body);
      expect(attempts[0].elapsedMs).toBeGreaterThanOrEqual(0);
      const hook = (await t.call('GET', `/v1/webhooks/${w.id}`, { key })).body;
      expect(hook.statistics).toEqual({ total: 1, successes: 1, failures: 0, failuresSinceLastSuccess: 0 });
      expect(hook.lastSuccess).toMatchObject({ success: true, httpStatusCode: 200, reasonPhrase: 'OK' });
      expect(hook.lastCall).toEqual(hook.lastSuccess);
      const byRef = (await t.call('GET', `/v1/webhooks/${w.id}/deliveries?orderRef=ORD-1`, { key })).body.data;
      expect(byRef).toHaveLength(1);
      expect((await t.call('GET', `/v1/webhooks/${w.id}/deliveries?orderRef=nope`, { key })).body.data).toHaveLength(0);
      const ev = (await t.call('GET', `/v1/events/${pub.body.id}`, { key })).body;
      expect(ev.deliveries.map((d: { id: string }) => d.id)).toEqual([deliveries[0]?.id]);
    });

    it('sends nothing unsigned: a secret sealed with another key fails the attempt, and the delivery is retried', async () => {
      const r = await receiver();
      const w = await webhook({ url: r.url, retrySchedule: [0, 3600] });
      // As if the at-rest key had changed since the secret was sealed.
      const alien = new SecretBox(randomBytes(32)).seal(w.secret);
      await t.core.db.kysely.updateTable('webhooks').set({ secret_enc: alien }).where('id', '=', w.id).execute();
      await publish({ type: 'order.created', data: { id: 'ORD-unsigned' } });
      const [attempt] = await eventually(
        async () => (await t.call('GET', `/v1/webhooks/${w.id}/attempts`, { key })).body.data,
        (a: Json[]) => a.length > 0,
      );
      expect(attempt).toMatchObject({ status: 'failed', responseStatus: null });
      expect(attempt.error).toMatch(/^request not signed/);
      expect(attempt.requestHeaders['webhook-signature']).toBeUndefined();
      const [d] = await deliveriesOf(w.id);
      expect(d).toMatchObject({ status: 'pending', attempts: 1 });
      expect(r.received).toHaveLength(0);
    });

    it('records an answer whose body holds NUL characters, once, with them shown as U+FFFD', async () => {
      // PostgreSQL's text cannot hold U+0000: stored as received, the attempt's row failed its whole group's commit.
      const r = await receiver(() => ({ status: 200, body: 'ok\u0000then\u0000more' }));
      const w = await webhook({ url: r.url });
      await publish({ type: 'order.created', data: { n: 'nul' } });
      const [d] = await eventually(
        () => deliveriesOf(w.id),
        (x) => x[0]?.status === 'succeeded',
      );
      expect(d?.attempts).toBe(1);
      const [a] = (await t.call('GET', `/v1/webhooks/${w.id}/deliveries/${d?.id}/attempts`, { key })).body.data;
      expect(a.responseBody).toBe('ok\ufffdthen\ufffdmore');
      // Not called again: the delivery was recorded the first time.
      await new Promise((res) => setTimeout(res, 200));
      expect(r.received).toHaveLength(1);
    });

    it('retries on failure with the same webhook-id, then fails, then accepts a manual attempt', async () => {
      const r = await receiver((_req, i) => (i < 2 ? { status: 500, body: 'boom' } : { status: 200 }));
      const w = await webhook({ url: r.url, retrySchedule: [0, 0, 0] });
      await publish({ type: 'order.updated', data: { n: 1 } });
      const reqs = await r.waitFor(3);
      expect(new Set(reqs.map((q) => q.headers['webhook-id'])).size).toBe(1);
      const [d] = await eventually(
        () => deliveriesOf(w.id),
        (x) => x[0]?.status === 'succeeded',
      );
      expect(d?.attempts).toBe(3);
      const attempts = (
        await t.call('GET', `/v1/webhooks/${w.id}/deliveries/${d?.id}/attempts`, { key })
      ).body.data.reverse();
      expect(attempts.map((a: { trigger: string }) => a.trigger)).toEqual(['scheduled', 'retry', 'retry']);
      expect(attempts[1].parentAttemptId).toBe(attempts[0].id);
      expect(attempts[2].isRetry).toBe(true);
      const failedOnly = (await t.call('GET', `/v1/webhooks/${w.id}/attempts?onlyFailed=true`, { key })).body.data;
      expect(failedOnly).toHaveLength(2);
      expect(failedOnly[0].responseBody).toBe('boom');
      // The log shows the body as sent, in lists and alone (a plain envelope is rebuilt from the event).
      expect(failedOnly[0].requestBody).toBe(reqs[0]?.body);
      const one = await t.call('GET', `/v1/webhooks/${w.id}/attempts/${failedOnly[0].id}`, { key });
      expect(one.body.requestBody).toBe(reqs[0]?.body);

      // Exhaust a two-attempt schedule, then repair by hand.
      r.respond(() => ({ status: 503 }));
      const w2 = await webhook({ url: r.url, retrySchedule: [0, 0] });
      const before = r.received.length;
      await publish({ type: 'order.updated', data: { n: 2 } });
      const [failed] = await eventually(
        () => deliveriesOf(w2.id),
        (x) => x[0]?.status === 'failed',
      );
      expect(r.received.length - before).toBeGreaterThanOrEqual(2);
      const failing = (await t.call('GET', `/v1/webhooks/${w2.id}`, { key })).body;
      expect(failing.lastFailure).toMatchObject({ success: false, httpStatusCode: 503 });
      expect(failing.lastCall).toEqual(failing.lastFailure);
      expect(failing.lastSuccess).toBeNull();
      r.respond(() => ({ status: 200 }));
      const sched = await t.call('POST', `/v1/webhooks/${w2.id}/deliveries/${failed?.id}/attempts`, { key });
      expect(sched.status).toBe(202);
      const [ok] = await eventually(
        () => deliveriesOf(w2.id),
        (x) => x[0]?.status === 'succeeded',
      );
      expect(ok?.attempts).toBe(3);
      const last = (await t.call('GET', `/v1/webhooks/${w2.id}/attempts?limit=1`, { key })).body.data[0];
      expect(last.trigger).toBe('manual');
    });

    it('honours Retry-After on 429 and disables the webhook on 410 without losing the delivery', async () => {
      const r = await receiver((_q, i) =>
        i === 0 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 200 },
      );
      const w = await webhook({ url: r.url, retrySchedule: [0, 0, 0] });
      await publish({ type: 'order.created', data: {} });
      const reqs = await r.waitFor(2);
      expect((reqs[1]?.at ?? 0) - (reqs[0]?.at ?? 0)).toBeGreaterThanOrEqual(900);
      await eventually(
        () => deliveriesOf(w.id),
        (x) => x[0]?.status === 'succeeded',
      );

      const gone = await receiver(() => ({ status: 410 }));
      const g = await webhook({ url: gone.url });
      await publish({ type: 'order.created', data: {} });
      const hook = await eventually(
        async () => (await t.call('GET', `/v1/webhooks/${g.id}`, { key })).body,
        (h) => h.status === 'disabled',
      );
      expect(hook.disabledReason).toBe('gone');
      expect(hook.audit.disabled.by.type).toBe('system');
      const [d] = await deliveriesOf(g.id);
      expect(d?.status).toBe('pending');
      gone.respond(() => ({ status: 200 }));
      await t.call('POST', `/v1/webhooks/${g.id}/enable`, { key });
      await eventually(
        () => deliveriesOf(g.id),
        (x) => x[0]?.status === 'succeeded',
      );
    });

    it('opens the circuit after consecutive failures, probes after the cool-down and closes on success', async () => {
      const r = await receiver(() => ({ status: 500 }));
      const w = await webhook({ url: r.url, retrySchedule: [0, 0, 0, 0, 0, 0, 0, 0] });
      await publish({ type: 'order.created', data: {} });
      const open = await eventually(
        async () => (await t.call('GET', `/v1/webhooks/${w.id}`, { key })).body,
        (h) => h.circuit.state === 'open',
      );
      expect(open.circuit.failureCount).toBe(3);
      const callsWhenOpened = r.received.length;
      await new Promise((res) => setTimeout(res, 400));
      expect(r.received.length).toBe(callsWhenOpened);
      r.respond(() => ({ status: 200 }));
      const closed = await eventually(
        async () => (await t.call('GET', `/v1/webhooks/${w.id}`, { key })).body,
        (h) => h.circuit.state === 'closed',
      );
      expect(closed.circuit.failureCount).toBe(0);
      expect(closed.statistics.failuresSinceLastSuccess).toBe(0);
      await eventually(
        () => deliveriesOf(w.id),
        (x) => x[0]?.status === 'succeeded',
      );
    });

    it('disables a webhook that has failed without success for the configured time', async () => {
      const r = await receiver(() => ({ status: 500 }));
      const w = await webhook({ url: r.url, retrySchedule: [0, 3600] });
      await t.core.db.kysely
        .updateTable('webhooks')
        .set({ failing_since: Date.now() - 6 * 86_400_000 })
        .where('id', '=', w.id)
        .execute();
      await publish({ type: 'order.created', data: {} });
      const hook = await eventually(
        async () => (await t.call('GET', `/v1/webhooks/${w.id}`, { key })).body,
        (h) => h.status === 'disabled',
      );
      expect(hook.disabledReason).toBe('failing');
    });

    it('publishes idempotently with Idempotency-Key', async () => {
      const r = await receiver();
      const w = await webhook({ url: r.url, eventTypes: ['invoice.paid'] });
      const first = await publish(
        { type: 'invoice.paid', data: { n: 1 } },
        { headers: { 'idempotency-key': 'pay-1' } },
      );
      const again = await publish(
        { type: 'invoice.paid', data: { n: 1 } },
        { headers: { 'idempotency-key': 'pay-1' } },
      );
      expect(again.status).toBe(200);
      expect(again.body.id).toBe(first.body.id);
      const conflict = await t.call('POST', '/v1/events', {
        key,
        body: { type: 'invoice.paid', data: { n: 2 } },
        headers: { 'idempotency-key': 'pay-1' },
      });
      expect(conflict.status).toBe(409);
      await r.waitFor(1);
      await new Promise((res) => setTimeout(res, 200));
      expect(r.received).toHaveLength(1);
      expect(await deliveriesOf(w.id)).toHaveLength(1);
    });

    it('writes concurrent publishes together without one request failing another', async () => {
      const r = await receiver();
      const w = await webhook({ url: r.url, eventTypes: ['refund.issued'] });
      await publish({ type: 'refund.issued', data: { n: 0 } }, { headers: { 'idempotency-key': 'grp-x' } });
      const send = (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
        t.call('POST', '/v1/events', { key, body, headers });
      // Arrive together, so they share a group: plain ones, a conflicting key, and one key sent twice.
      const [plain, conflict, y1, y2] = await Promise.all([
        Promise.all(Array.from({ length: 20 }, (_, i) => send({ type: 'refund.issued', data: { i } }))),
        send({ type: 'refund.issued', data: { n: 2 } }, { 'idempotency-key': 'grp-x' }),
        send({ type: 'refund.issued', data: { n: 3 } }, { 'idempotency-key': 'grp-y' }),
        send({ type: 'refund.issued', data: { n: 3 } }, { 'idempotency-key': 'grp-y' }),
      ]);
      expect(plain.map((p) => p.status)).toEqual(Array(20).fill(201));
      expect(new Set(plain.map((p) => p.body.id)).size).toBe(20);
      expect(conflict.status).toBe(409);
      expect(conflict.body.code).toBe('idempotency_conflict');
      expect([y1.status, y2.status].sort()).toEqual([200, 201]);
      expect(y1.body.id).toBe(y2.body.id);
      await r.waitFor(22);
      expect(await deliveriesOf(w.id)).toHaveLength(22);
    });

    it('fans out by event type, wildcard, criteria, account and mode', async () => {
      const tenant = await t.tenant('Fanout');
      const k = tenant.adminKey;
      const acc1 = (await t.call('POST', '/v1/accounts', { key: k, body: { name: 'one' } })).body.id;
      const acc2 = (await t.call('POST', '/v1/accounts', { key: k, body: { name: 'two' } })).body.id;
      const testKey = await t.key(k, { name: 't', roles: ['admin'], mode: 'test' });
      const r = await receiver();
      const mk = async (name: string, body: Record<string, unknown>, kk = k) =>
        [name, (await webhook({ url: `${r.url}?${name}`, ...body }, kk)).id] as const;
      const hooks = Object.fromEntries([
        await mk('exact', { eventTypes: ['order.created'] }),
        await mk('wild', { eventTypes: ['order.*'] }),
        await mk('all', { eventTypes: ['*'] }),
        await mk('other', { eventTypes: ['invoice.paid'] }),
        await mk('crit', { eventTypes: ['order.*'], criteria: { 'product.id': 'P1' } }),
        await mk('critMiss', { eventTypes: ['order.*'], criteria: { 'product.id': 'P2' } }),
        await mk('acc1', { eventTypes: ['order.*'], accountId: acc1 }),
        await mk('acc2', { eventTypes: ['order.*'], accountId: acc2 }),
        await mk('testmode', { eventTypes: ['*'] }, testKey),
      ]);
      await t.call('POST', `/v1/webhooks/${(await mk('off', { eventTypes: ['*'] }))[1]}/disable`, { key: k });
      const pub = await publish({ type: 'order.created', data: { product: { id: 'P1' } }, accountId: acc1 }, { k });
      expect(pub.body.deliveries).toBe(5);
      await r.waitFor(5);
      await new Promise((res) => setTimeout(res, 200));
      const got = r.received.map((q) => q.url.split('?')[1]).sort();
      expect(got).toEqual(['acc1', 'all', 'crit', 'exact', 'wild']);
      expect(hooks.testmode).toBeDefined();
      // A tenant's events never reach another tenant's webhooks.
      const before = r.received.length;
      await publish({ type: 'order.created', data: { product: { id: 'P1' } } });
      await new Promise((res) => setTimeout(res, 300));
      expect(r.received.slice(before).map((q) => q.url.split('?')[1])).not.toContain('exact');
    });

    it('recovers failed deliveries and, on request, the events a webhook missed', async () => {
      const r = await receiver(() => ({ status: 500 }));
      const since = new Date().toISOString();
      const w = await webhook({ url: r.url, retrySchedule: [0], eventTypes: ['shipment.sent'] });
      await publish({ type: 'shipment.sent', data: { n: 1 } });
      await eventually(
        () => deliveriesOf(w.id),
        (x) => x[0]?.status === 'failed',
      );
      await t.call('POST', `/v1/webhooks/${w.id}/disable`, { key });
      await publish({ type: 'shipment.sent', data: { n: 2 } });
      r.respond(() => ({ status: 200 }));
      await t.call('POST', `/v1/webhooks/${w.id}/enable`, { key });
      const rec = await t.call('POST', `/v1/webhooks/${w.id}/recover`, { key, body: { since, includeMissing: true } });
      expect(rec.status).toBe(202);
      expect(rec.body).toMatchObject({ deliveriesRequeued: 1, deliveriesCreated: 1 });
      const all = await eventually(
        () => deliveriesOf(w.id),
        (x) => x.length === 2 && x.every((d) => d.status === 'succeeded'),
      );
      expect(all).toHaveLength(2);
    });

    it('sends a test event on demand and answers with the attempt', async () => {
      const r = await receiver(() => ({
        status: 202,
        headers: { 'content-type': 'application/json' },
        body: '{"ok":true}',
      }));
      const w = await webhook({ url: r.url });
      const res = await t.call('POST', `/v1/webhooks/${w.id}/test`, { key, body: { data: { hello: 'world' } } });
      expect(res.status).toBe(200);
      expect(res.body.attempt).toMatchObject({ status: 'succeeded', responseStatus: 202, trigger: 'manual' });
      expect(JSON.parse(res.body.attempt.requestBody).data).toEqual({ hello: 'world' });
      expect(res.body.delivery.status).toBe('succeeded');
      const hook = (await t.call('GET', `/v1/webhooks/${w.id}`, { key })).body;
      expect(hook.lastCall.response).toEqual({ ok: true });
    });

    it('does not let an endpoint that never answers delay a healthy one', async () => {
      const dead = await receiver(() => 'hang');
      const healthy = await receiver();
      await webhook({ url: dead.url, eventTypes: ['slow.test'], timeoutMs: 5000 });
      await webhook({ url: healthy.url, eventTypes: ['slow.test'] });
      const started = Date.now();
      for (let i = 0; i < 20; i++) await publish({ type: 'slow.test', data: { i } });
      await healthy.waitFor(20, 4000);
      expect(Date.now() - started).toBeLessThan(4000);
    });

    it('spaces the calls of a webhook with rateLimitPerSecond', async () => {
      const limited = await receiver();
      const free = await receiver();
      await webhook({ url: limited.url, eventTypes: ['paced.test'], rateLimitPerSecond: 10 });
      await webhook({ url: free.url, eventTypes: ['paced.test'] });
      const events = Array.from({ length: 6 }, (_, i) => ({ type: 'paced.test', data: { i } }));
      expect((await t.call('POST', '/v1/events/batch', { key, body: { events } })).status).toBe(201);
      await free.waitFor(6, 5000);
      const at = (await limited.waitFor(6, 5000)).map((q) => q.at).sort((a, b) => a - b);
      // 10 a second: the calls start at least 100 ms apart (measured at receipt, so a little loopback jitter is allowed).
      for (let i = 1; i < at.length; i++) expect((at[i] ?? 0) - (at[i - 1] ?? 0)).toBeGreaterThanOrEqual(80);
      expect((at[5] ?? 0) - (at[0] ?? 0)).toBeGreaterThanOrEqual(480);
    });

    it('publishes a batch in one transaction, naming each bad event and writing nothing when one is invalid', async () => {
      const r = await receiver();
      const w = await webhook({ url: r.url, eventTypes: ['bulk.*'] });
      const bad = await t.call('POST', '/v1/events/batch', {
        key,
        body: {
          events: [
            { type: 'bulk.a', data: {} },
            { type: 'bulk.b', data: {}, colour: 1 },
            { type: 'bulk.c', data: {}, accountId: 'acc_01J00000000000000000000000' },
          ],
        },
      });
      expect(bad.status).toBe(400);
      expect(bad.body.detail).toContain('body.events[1].colour');
      const badAccount = await t.call('POST', '/v1/events/batch', {
        key,
        body: {
          events: [
            { type: 'bulk.a', data: {} },
            { type: 'bulk.c', data: {}, accountId: 'acc_01J00000000000000000000000' },
          ],
        },
      });
      expect(badAccount.status).toBe(400);
      expect(badAccount.body.errors[0].field).toBe('body.events[1].accountId');
      expect(await deliveriesOf(w.id)).toHaveLength(0);
      const tooMany = await t.call('POST', '/v1/events/batch', {
        key,
        body: { events: Array.from({ length: 1001 }, () => ({ type: 'bulk.a', data: {} })) },
      });
      expect(tooMany.status).toBe(400);

      const events = Array.from({ length: 300 }, (_, i) => ({
        type: 'bulk.a',
        data: { i },
        idempotencyKey: `bulk-${i}`,
      }));
      const ok = await t.call('POST', '/v1/events/batch', { key, body: { events } });
      expect(ok.status).toBe(201);
      expect(ok.body.data).toHaveLength(300);
      expect(ok.body.data[5]).toEqual({
        id: expect.stringMatching(/^evt_/),
        type: 'bulk.a',
        deliveries: 1,
        createdAt: expect.any(String),
        index: 5,
        replayed: false,
      });
      expect(
        ok.body.data.every((d: { deliveries: number; replayed: boolean }) => d.deliveries === 1 && !d.replayed),
      ).toBe(true);
      await r.waitFor(300);
      const again = await t.call('POST', '/v1/events/batch', { key, body: { events: events.slice(0, 2) } });
      expect(again.body.data.map((d: { id: string; replayed: boolean }) => [d.id, d.replayed])).toEqual([
        [ok.body.data[0].id, true],
        [ok.body.data[1].id, true],
      ]);
      await new Promise((res) => setTimeout(res, 200));
      expect(r.received).toHaveLength(300);
      expect(new Set(r.received.map((q) => JSON.parse(q.body).data.i)).size).toBe(300);
    });

    it('validates payloads against the event type schema', async () => {
      await t.call('POST', '/v1/event-types', {
        key,
        body: {
          name: 'user.signed_up',
          schema: { type: 'object', required: ['email'], properties: { email: { type: 'string' } } },
        },
      });
      const bad = await t.call('POST', '/v1/events', { key, body: { type: 'user.signed_up', data: { email: 5 } } });
      expect(bad.status).toBe(422);
      expect(bad.body.detail).toContain('body.data');
      expect(
        (await t.call('POST', '/v1/events', { key, body: { type: 'user.signed_up', data: { email: 'a@b.c' } } }))
          .status,
      ).toBe(201);
    });
  });
}
