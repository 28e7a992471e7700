/** Synchronous validation webhooks against real receivers (approving, rejecting, slow, dead, open circuit). */
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, postgresAvailable } from '../helpers/databases.js';
import { type Responder, receiverPool } from '../helpers/receiver.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const pgOk = await postgresAvailable();

for (const dialect of DIALECTS) {
  describe.skipIf(dialect === 'postgres' && !pgOk)(`validation webhooks on ${dialect}`, () => {
    let t: TestApp;
    let key: string;
    const pool = receiverPool();

    beforeAll(async () => {
      t = await startTestApp(
        dialect,
        { HOOKLINE_ALLOW_PRIVATE_TARGETS: 'true', HOOKLINE_POLL_INTERVAL_MS: '50' },
        { worker: true },
      );
      key = (await t.tenant('Validations')).adminKey;
    });
    afterAll(async () => {
      await t?.close();
      await pool.closeAll();
    });

    const receiver = (responder?: Responder) => pool.start(responder);
    async function hook(body: Record<string, unknown>) {
      const res = await t.call('POST', '/v1/webhooks', {
        key,
        body: { kind: 'validation', eventTypes: ['validatePurchaseOrderDraft'], objectType: 'order', ...body },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body as { id: string; secret: string; timeoutMs: number };
    }

    it('calls every matching hook in parallel and answers each result with a verdict', async () => {
      const approve = await receiver(() => ({
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: '{"valid":true}',
      }));
      const reject = await receiver(() => ({
        status: 422,
        headers: { 'content-type': 'application/json' },
        body: '{"errors":["no stock"]}',
      }));
      const slow = await receiver(() => 'hang');
      const dead = await receiver();
      const deadUrl = dead.url;
      await dead.close();
      const other = await receiver();

      const a = await hook({ name: 'approve', url: approve.url, criteria: { 'product.id': 'PRD-1' } });
      expect(a.timeoutMs).toBe(5000);
      const r = await hook({ name: 'reject', url: reject.url });
      const s = await hook({ name: 'slow', url: slow.url, timeoutMs: 300 });
      const d = await hook({ name: 'dead', url: deadUrl });
      await hook({ name: 'not-matching', url: other.url, criteria: { 'product.id': 'PRD-2' } });
      await hook({ name: 'other-object', url: other.url, objectType: 'request' });
      await t.call('POST', '/v1/webhooks', {
        key,
        body: { url: other.url, eventTypes: ['validatePurchaseOrderDraft'] },
      });

      const started = Date.now();
      const res = await t.call('POST', '/v1/validations', {
        key,
        body: {
          type: 'validatePurchaseOrderDraft',
          objectType: 'order',
          payload: { product: { id: 'PRD-1' }, qty: 2 },
        },
      });
      expect(res.status).toBe(200);
      expect(Date.now() - started).toBeLessThan(3000);
      expect(res.body.verdict).toBe('rejected');
      const byName = Object.fromEntries(res.body.results.map((x: { name: string }) => [x.name, x]));
      expect(Object.keys(byName).sort()).toEqual(['approve', 'dead', 'reject', 'slow']);
      expect(byName.approve).toMatchObject({ verdict: 'approved', httpStatus: 200, response: { valid: true } });
      expect(byName.reject).toMatchObject({
        verdict: 'rejected',
        httpStatus: 422,
        reasonPhrase: 'Unprocessable Entity',
        response: { errors: ['no stock'] },
      });
      expect(byName.slow).toMatchObject({ verdict: 'error', httpStatus: null });
      expect(byName.slow.error).toMatch(/time/i);
      expect(byName.dead).toMatchObject({ verdict: 'error', httpStatus: null });
      expect(other.received).toHaveLength(0);

      const [req] = approve.received;
      const signed = new Webhook(a.secret).verify(req?.body ?? '', req?.headers as Record<string, string>) as {
        data: unknown;
      };
      expect(signed.data).toEqual({ product: { id: 'PRD-1' }, qty: 2 });

      const stats = (await t.call('GET', `/v1/webhooks/${r.id}`, { key })).body;
      expect(stats.statistics).toMatchObject({ total: 1, failures: 1 });
      expect(stats.lastFailure.httpStatusCode).toBe(422);
      const attempts = (await t.call('GET', `/v1/webhooks/${s.id}/attempts`, { key })).body.data;
      expect(attempts).toHaveLength(1);
      expect(attempts[0].trigger).toBe('manual');
      // One call each, never retried later by the worker.
      await new Promise((res2) => setTimeout(res2, 400));
      expect(reject.received).toHaveLength(1);
      expect((await t.call('GET', `/v1/webhooks/${d.id}/deliveries`, { key })).body.data[0].status).toBe('failed');
    });

    it('approves when every called hook approves, skips hooks whose circuit is open, and approves when none match', async () => {
      const ok = await receiver();
      const tripped = await receiver();
      await hook({ url: ok.url, eventTypes: ['validateAccount'] });
      const broken = await hook({ url: tripped.url, eventTypes: ['validateAccount'] });
      await t.core.db.kysely
        .updateTable('webhooks')
        .set({ circuit_state: 'open', circuit_failure_count: 10, circuit_opened_at: Date.now() })
        .where('id', '=', broken.id)
        .execute();
      const res = await t.call('POST', '/v1/validations', { key, body: { type: 'validateAccount', payload: {} } });
      expect(res.body.verdict).toBe('approved');
      const skipped = res.body.results.find((x: { webhookId: string }) => x.webhookId === broken.id);
      expect(skipped).toMatchObject({ verdict: 'skipped', skippedReason: 'circuit_open' });
      expect(tripped.received).toHaveLength(0);
      const none = await t.call('POST', '/v1/validations', { key, body: { type: 'validateNothing', payload: {} } });
      expect(none.body).toMatchObject({ verdict: 'approved', results: [] });
      const bad = await t.call('POST', '/v1/validations', { key, body: { payload: {} } });
      expect(bad.status).toBe(400);
      expect(bad.body.detail).toContain('body.type');
    });
  });
}
