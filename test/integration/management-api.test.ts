/**
 * The management API through app.inject() on a real database — the same suite on SQLite and on PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, postgresAvailable } from '../helpers/databases.js';
import { ROOT_KEY, startTestApp, type TestApp } from '../helpers/test-app.js';

const pgOk = await postgresAvailable();

const hook = (over: Record<string, unknown> = {}) => ({
  name: `hook-${Math.random().toString(36).slice(2, 8)}`,
  url: 'https://hooks.example.com/receive',
  eventTypes: ['order.created'],
  ...over,
});

for (const dialect of DIALECTS) {
  describe.skipIf(dialect === 'postgres' && !pgOk)(`management API on ${dialect}`, () => {
    let t: TestApp;
    let a: { tenantId: string; adminKey: string };
    let b: { tenantId: string; adminKey: string };

    beforeAll(async () => {
      t = await startTestApp(dialect);
      a = await t.tenant('Tenant A');
      b = await t.tenant('Tenant B');
    });
    afterAll(async () => {
      await t?.close();
    });

    it('answers health, readiness, the OpenAPI document and the docs page', async () => {
      expect((await t.call('GET', '/healthz')).body).toEqual({ status: 'ok' });
      const ready = await t.call('GET', '/readyz');
      expect(ready.status).toBe(200);
      expect(ready.body.database).toBe(dialect);
      const spec = await t.call('GET', '/openapi.json');
      expect(spec.body.openapi).toBe('3.1.0');
      expect(Object.keys(spec.body.paths)).toContain('/v1/webhooks/{id}/rotate-secret');
      const docs = await t.app.inject({ method: 'GET', url: '/docs/' });
      expect(docs.statusCode).toBe(200);
      expect(docs.body).toContain('swagger');
    });

    it('counts answered requests by route and status in the Prometheus metrics', async () => {
      const count = async () => {
        const res = await t.app.inject({ method: 'GET', url: '/metrics' });
        expect(res.statusCode).toBe(200);
        const line = res.body
          .split('\n')
          .find((l) => l.startsWith('hookline_http_requests_total{method="GET",route="/healthz",status="200"}'));
        return line === undefined ? 0 : Number(line.split(' ').at(-1));
      };
      const before = await count();
      await t.call('GET', '/healthz');
      await t.call('GET', '/healthz');
      expect(await count()).toBe(before + 2);
    });

    it('refuses missing and unknown keys with a problem', async () => {
      const none = await t.call('GET', '/v1/webhooks');
      expect(none.status).toBe(401);
      expect(none.headers['content-type']).toContain('application/problem+json');
      expect(none.body).toMatchObject({
        status: 401,
        code: 'unauthorized',
        title: expect.any(String),
        detail: expect.any(String),
      });
      expect((await t.call('GET', '/v1/webhooks', { key: 'hl_live_nope' })).status).toBe(401);
    });

    it('lets only the root key manage tenants, and the root key act in a tenant with x-tenant-id', async () => {
      expect((await t.call('GET', '/v1/tenants', { key: a.adminKey })).status).toBe(403);
      const list = await t.call('GET', '/v1/tenants', { key: ROOT_KEY });
      expect(list.body.data.map((x: { id: string }) => x.id)).toEqual(expect.arrayContaining([a.tenantId, b.tenantId]));
      expect((await t.call('GET', `/v1/tenants/${a.tenantId}`, { key: ROOT_KEY })).body.name).toBe('Tenant A');
      const noTenant = await t.call('GET', '/v1/webhooks', { key: ROOT_KEY });
      expect(noTenant.status).toBe(400);
      expect(noTenant.body.code).toBe('tenant_required');
      const created = await t.call('POST', '/v1/webhooks', {
        key: ROOT_KEY,
        headers: { 'x-tenant-id': a.tenantId },
        body: hook(),
      });
      expect(created.status).toBe(201);
      expect(created.body.audit.created.by.type).toBe('root');
      const unknownTenant = await t.call('GET', '/v1/webhooks', {
        key: ROOT_KEY,
        headers: { 'x-tenant-id': 'ten_01J00000000000000000000000' },
      });
      expect(unknownTenant.status).toBe(404);
    });

    it('creates a webhook with every seed field and shows the secret only in the create answer', async () => {
      const account = await t.call('POST', '/v1/accounts', {
        key: a.adminKey,
        body: { name: 'Adobe', reference: 'ERP-1' },
      });
      expect(account.status).toBe(201);
      const body = hook({
        description: 'Order validation for Office 365',
        kind: 'validation',
        eventTypes: ['validatePurchaseOrderDraft'],
        objectType: 'order',
        criteria: { 'product.id': 'PRD-6233-9657' },
        includeResources: ['customer', 'lines'],
        headers: [{ name: 'X-Api-Token', value: 'abc' }],
        maxBatchSize: 10,
        maxBatchTimeDelay: 2000,
        timeoutMs: 4000,
        retrySchedule: [0, 10, 60],
        ordering: 'fifo',
        metadata: { team: 'billing' },
        reference: 'ERP-42',
        referenceOrigin: 'sap',
        accountId: account.body.id,
      });
      const res = await t.call('POST', '/v1/webhooks', { key: a.adminKey, body });
      expect(res.status).toBe(201);
      const w = res.body;
      expect(w.secret).toMatch(/^whsec_[A-Za-z0-9+/=]+$/);
      expect(w).toMatchObject({
        href: `/v1/webhooks/${w.id}`,
        status: 'enabled',
        disabledAt: null,
        kind: 'validation',
        eventTypes: ['validatePurchaseOrderDraft'],
        objectType: 'order',
        criteria: { 'product.id': 'PRD-6233-9657' },
        includeResources: ['customer', 'lines'],
        headers: { 'X-Api-Token': 'abc' },
        maxBatchSize: 10,
        maxBatchTimeDelay: 2000,
        timeoutMs: 4000,
        retrySchedule: [0, 10, 60],
        ordering: 'fifo',
        circuit: { state: 'closed', failureCount: 0, openedAt: null },
        statistics: { total: 0, successes: 0, failures: 0, failuresSinceLastSuccess: 0 },
        lastSuccess: null,
        lastFailure: null,
        lastCall: null,
        metadata: { team: 'billing' },
        reference: 'ERP-42',
        referenceOrigin: 'sap',
        mode: 'live',
        account: { id: account.body.id, name: 'Adobe' },
      });
      expect(w.id).toMatch(/^wh_[0-9A-Z]{26}$/);
      expect(w.audit.created.by.type).toBe('api_key');

      const got = await t.call('GET', `/v1/webhooks/${w.id}`, { key: a.adminKey });
      expect(got.status).toBe(200);
      expect(got.body.secret).toBeUndefined();
      expect(JSON.stringify(got.body)).not.toContain(w.secret);
      const list = await t.call('GET', '/v1/webhooks', { key: a.adminKey });
      expect(JSON.stringify(list.body)).not.toContain(w.secret);
      const patched = await t.call('PATCH', `/v1/webhooks/${w.id}`, {
        key: a.adminKey,
        body: { description: 'changed' },
      });
      expect(patched.body.secret).toBeUndefined();

      // At rest: the signing secret is encrypted, API keys are hashed.
      const row = await t.core.db.kysely
        .selectFrom('webhooks')
        .selectAll()
        .where('id', '=', w.id)
        .executeTakeFirstOrThrow();
      expect(JSON.stringify(row)).not.toContain(w.secret.slice(6));
      const keys = await t.core.db.kysely.selectFrom('api_keys').selectAll().execute();
      expect(JSON.stringify(keys)).not.toContain(a.adminKey);
      expect(JSON.stringify(keys)).not.toContain(a.adminKey.slice(12));
    });

    it('names the field in every validation problem and never answers 500 to bad input', async () => {
      const cases: Array<[unknown, number, string]> = [
        [{ ...hook(), colour: 'red' }, 400, 'body.colour'],
        [{ ...hook(), timeoutMs: '5000' }, 400, 'body.timeoutMs'],
        [{ ...hook(), eventTypes: 'order.created' }, 400, 'body.eventTypes'],
        [{ name: 'x', eventTypes: ['a'] }, 400, 'body.url'],
        [hook({ url: 'not a url' }), 400, 'body.url'],
        [hook({ url: 'http://hooks.example.com/x' }), 400, 'body.url'],
        [hook({ url: 'https://127.0.0.1/x' }), 400, 'body.url'],
        [hook({ url: 'https://2130706433/x' }), 400, 'body.url'],
        [hook({ url: 'https://0x7f.1/x' }), 400, 'body.url'],
        [hook({ url: 'https://[::1]/x' }), 400, 'body.url'],
        [hook({ url: 'https://[::ffff:127.0.0.1]/x' }), 400, 'body.url'],
        [hook({ url: 'https://169.254.169.254/latest' }), 400, 'body.url'],
        [hook({ url: 'https://10.1.2.3/x' }), 400, 'body.url'],
        [hook({ url: 'https://localhost/x' }), 400, 'body.url'],
        [hook({ url: 'https://0.0.0.0/x' }), 400, 'body.url'],
        [hook({ eventTypes: ['bad type!'] }), 400, 'body.eventTypes[0]'],
        [hook({ headers: { 'webhook-signature': 'x' } }), 400, 'body.headers.webhook-signature'],
        [hook({ headers: { 'bad header': 'x' } }), 400, 'body.headers.bad header'],
        [hook({ secret: 'nope' }), 400, 'body.secret'],
        [hook({ maxBatchSize: 0 }), 400, 'body.maxBatchSize'],
        [hook({ accountId: 'acc_01J00000000000000000000000' }), 400, 'body.accountId'],
      ];
      for (const [body, status, field] of cases) {
        const res = await t.call('POST', '/v1/webhooks', { key: a.adminKey, body });
        expect(res.status, JSON.stringify(body)).toBe(status);
        expect(res.headers['content-type']).toContain('application/problem+json');
        expect(res.body.detail, JSON.stringify(res.body)).toContain(field);
        expect(res.body.errors?.[0]?.field ?? field, JSON.stringify(res.body)).toContain(field);
      }

      const malformed = await t.app.inject({
        method: 'POST',
        url: '/v1/webhooks',
        headers: { authorization: `Bearer ${a.adminKey}`, 'content-type': 'application/json' },
        payload: '{"url": ',
      });
      expect(malformed.statusCode).toBe(400);
      expect(JSON.parse(malformed.body).code).toBe('malformed_json');

      const huge = await t.app.inject({
        method: 'POST',
        url: '/v1/webhooks',
        headers: { authorization: `Bearer ${a.adminKey}`, 'content-type': 'application/json' },
        payload: JSON.stringify({ ...hook(), description: 'x'.repeat(2 * 1024 * 1024) }),
      });
      expect(huge.statusCode).toBe(413);
      expect(JSON.parse(huge.body).code).toBe('body_too_large');

      const badQuery = await t.call('GET', '/v1/webhooks?limit=abc', { key: a.adminKey });
      expect(badQuery.status).toBe(400);
      expect(badQuery.body.detail).toContain('query.limit');
      const badCursor = await t.call('GET', '/v1/webhooks?cursor=zzz', { key: a.adminKey });
      expect(badCursor.status).toBe(400);
      const badTime = await t.call('GET', '/v1/webhooks?createdAfter=yesterday', { key: a.adminKey });
      expect(badTime.status).toBe(400);
      expect(badTime.body.detail).toContain('query.createdAfter');
    });

    it('refuses U+0000 in stored strings, naming each field, and keeps it in payloads and metadata', async () => {
      // PostgreSQL's text cannot hold U+0000: these answered 500 there before.
      const nul = 'a\u0000b';
      const bad = await t.call('POST', '/v1/webhooks', {
        key: a.adminKey,
        body: { ...hook(), description: nul, metadata: { note: nul } },
      });
      expect(bad.status).toBe(400);
      expect(bad.body.errors).toEqual([{ field: 'body.description', message: expect.stringContaining('U+0000') }]);
      const refs = await t.call('POST', '/v1/events', {
        key: a.adminKey,
        body: { type: 'order.created', data: { note: nul }, references: { [`ref${nul}`]: 'x', orderRef: nul } },
      });
      expect(refs.status).toBe(400);
      expect(refs.body.errors.map((e: { field: string }) => e.field)).toEqual([
        `body.references.ref${nul}`,
        'body.references.orderRef',
      ]);
      // In a payload or metadata (stored as JSON text, where it stays escaped) it is data like any other.
      const ok = await t.call('POST', '/v1/events', {
        key: a.adminKey,
        body: { type: 'order.created', data: { nul } },
      });
      expect(ok.status).toBe(201);
      const withMeta = await t.call('POST', '/v1/webhooks', {
        key: a.adminKey,
        body: { ...hook(), metadata: { nul } },
      });
      expect(withMeta.status, JSON.stringify(withMeta.body)).toBe(201);
      const got = await t.call('GET', `/v1/webhooks/${withMeta.body.id}`, { key: a.adminKey });
      expect(got.body.metadata).toEqual({ nul });
    });

    it('refuses duplicate names per tenant but allows the same name in another tenant', async () => {
      const name = 'orders-to-erp';
      expect((await t.call('POST', '/v1/webhooks', { key: a.adminKey, body: hook({ name }) })).status).toBe(201);
      const dup = await t.call('POST', '/v1/webhooks', { key: a.adminKey, body: hook({ name }) });
      expect(dup.status).toBe(409);
      expect(dup.body.detail).toContain('body.name');
      expect((await t.call('POST', '/v1/webhooks', { key: b.adminKey, body: hook({ name }) })).status).toBe(201);
    });

    it('isolates tenants on every webhook route', async () => {
      const mine = (await t.call('POST', '/v1/webhooks', { key: b.adminKey, body: hook() })).body;
      const routes: Array<['GET' | 'POST' | 'PATCH' | 'DELETE', string, unknown?]> = [
        ['GET', `/v1/webhooks/${mine.id}`],
        ['PATCH', `/v1/webhooks/${mine.id}`, { description: 'hijack' }],
        ['POST', `/v1/webhooks/${mine.id}/enable`],
        ['POST', `/v1/webhooks/${mine.id}/disable`],
        ['POST', `/v1/webhooks/${mine.id}/reset-circuit`],
        ['POST', `/v1/webhooks/${mine.id}/rotate-secret`],
        ['GET', `/v1/webhooks/${mine.id}/versions`],
        ['DELETE', `/v1/webhooks/${mine.id}`],
      ];
      for (const [method, url, body] of routes) {
        const res = await t.call(method, url, { key: a.adminKey, ...(body ? { body } : {}) });
        expect(res.status, `${method} ${url}`).toBe(404);
      }
      const listA = await t.call('GET', '/v1/webhooks?limit=250', { key: a.adminKey });
      expect(listA.body.data.map((w: { id: string }) => w.id)).not.toContain(mine.id);
      // Still intact for its owner.
      expect((await t.call('GET', `/v1/webhooks/${mine.id}`, { key: b.adminKey })).body.description).toBeNull();
      // Accounts and keys of another tenant are invisible too.
      const accB = (await t.call('POST', '/v1/accounts', { key: b.adminKey, body: { name: 'B customer' } })).body;
      expect((await t.call('GET', `/v1/accounts/${accB.id}`, { key: a.adminKey })).status).toBe(404);
      const keysB = (await t.call('GET', '/v1/api-keys', { key: b.adminKey })).body.data;
      expect((await t.call('DELETE', `/v1/api-keys/${keysB[0].id}`, { key: a.adminKey })).status).toBe(404);
      // A key may not claim another tenant through the header.
      expect(
        (await t.call('GET', '/v1/webhooks', { key: a.adminKey, headers: { 'x-tenant-id': b.tenantId } })).status,
      ).toBe(403);
    });

    it('enforces roles: a read key cannot write, a write key cannot manage keys', async () => {
      const readKey = await t.key(a.adminKey, { name: 'reader', roles: ['webhooks:read'] });
      const writeKey = await t.key(a.adminKey, { name: 'writer', roles: ['webhooks:write', 'webhooks:read'] });
      expect((await t.call('GET', '/v1/webhooks', { key: readKey })).status).toBe(200);
      const denied = await t.call('POST', '/v1/webhooks', { key: readKey, body: hook() });
      expect(denied.status).toBe(403);
      expect(denied.body.code).toBe('forbidden');
      expect((await t.call('POST', '/v1/webhooks', { key: writeKey, body: hook() })).status).toBe(201);
      expect(
        (await t.call('POST', '/v1/api-keys', { key: writeKey, body: { name: 'x', roles: ['admin'] } })).status,
      ).toBe(403);
      expect((await t.call('POST', '/v1/event-types', { key: readKey, body: { name: 'x.y' } })).status).toBe(403);
    });

    it('limits an account-restricted key to its account', async () => {
      const acc1 = (await t.call('POST', '/v1/accounts', { key: a.adminKey, body: { name: 'one' } })).body;
      const acc2 = (await t.call('POST', '/v1/accounts', { key: a.adminKey, body: { name: 'two' } })).body;
      const h1 = (await t.call('POST', '/v1/webhooks', { key: a.adminKey, body: hook({ accountId: acc1.id }) })).body;
      const h2 = (await t.call('POST', '/v1/webhooks', { key: a.adminKey, body: hook({ accountId: acc2.id }) })).body;
      const k1 = await t.key(a.adminKey, {
        name: 'acc1',
        roles: ['webhooks:read', 'webhooks:write'],
        accountId: acc1.id,
      });
      const ids = (await t.call('GET', '/v1/webhooks?limit=250', { key: k1 })).body.data.map(
        (w: { id: string }) => w.id,
      );
      expect(ids).toContain(h1.id);
      expect(ids).not.toContain(h2.id);
      expect((await t.call('GET', `/v1/webhooks/${h2.id}`, { key: k1 })).status).toBe(404);
      expect((await t.call('PATCH', `/v1/webhooks/${h2.id}`, { key: k1, body: { description: 'x' } })).status).toBe(
        404,
      );
      const created = await t.call('POST', '/v1/webhooks', { key: k1, body: hook() });
      expect(created.body.accountId).toBe(acc1.id);
      expect((await t.call('POST', '/v1/webhooks', { key: k1, body: hook({ accountId: acc2.id }) })).status).toBe(403);
      expect((await t.call('GET', `/v1/accounts/${acc2.id}`, { key: k1 })).status).toBe(404);
      // The tenant-wide key narrows itself with x-account-id (the insurance seed's header).
      const narrowed = await t.call('GET', '/v1/webhooks?limit=250', {
        key: a.adminKey,
        headers: { 'x-account-id': acc2.id },
      });
      expect(narrowed.body.data.map((w: { id: string }) => w.id)).toEqual([h2.id]);
    });

    it('keeps test-mode and live-mode resources apart', async () => {
      const testKey = await t.key(a.adminKey, { name: 'test', roles: ['admin'], mode: 'test' });
      const live = (await t.call('POST', '/v1/webhooks', { key: a.adminKey, body: hook() })).body;
      const test = (await t.call('POST', '/v1/webhooks', { key: testKey, body: hook() })).body;
      expect(test.mode).toBe('test');
      expect((await t.call('GET', `/v1/webhooks/${live.id}`, { key: testKey })).status).toBe(404);
      expect((await t.call('GET', `/v1/webhooks/${test.id}`, { key: a.adminKey })).status).toBe(404);
      const testIds = (await t.call('GET', '/v1/webhooks?limit=250', { key: testKey })).body.data.map(
        (w: { id: string }) => w.id,
      );
      expect(testIds).toEqual([test.id]);
      expect(
        (await t.call('POST', '/v1/api-keys', { key: testKey, body: { name: 'x', roles: ['admin'], mode: 'live' } }))
          .status,
      ).toBe(403);
    });

    it('stops accepting a revoked key at once', async () => {
      const k = await t.key(a.adminKey, { name: 'temp', roles: ['webhooks:read'] });
      expect((await t.call('GET', '/v1/webhooks', { key: k })).status).toBe(200);
      const keys = (await t.call('GET', '/v1/api-keys?limit=250', { key: a.adminKey })).body.data;
      const entry = keys.find((x: { name: string }) => x.name === 'temp');
      expect(entry.key).toBeUndefined();
      expect(k.startsWith(entry.prefix)).toBe(true);
      expect((await t.call('DELETE', `/v1/api-keys/${entry.id}`, { key: a.adminKey })).status).toBe(204);
      expect((await t.call('GET', '/v1/webhooks', { key: k })).status).toBe(401);
    });

    it('runs the actions and records every change in the version history', async () => {
      const w = (await t.call('POST', '/v1/webhooks', { key: a.adminKey, body: hook() })).body;
      const disabled = await t.call('POST', `/v1/webhooks/${w.id}/disable`, {
        key: a.adminKey,
        body: { reason: 'maintenance' },
      });
      expect(disabled.body).toMatchObject({ status: 'disabled', disabledReason: 'maintenance' });
      expect(disabled.body.disabledAt).toEqual(expect.any(String));
      expect(disabled.body.audit.disabled.at).toEqual(expect.any(String));
      const enabled = await t.call('POST', `/v1/webhooks/${w.id}/enable`, { key: a.adminKey });
      expect(enabled.body).toMatchObject({ status: 'enabled', disabledAt: null, disabledReason: null });
      expect(enabled.body.audit.enabled.by.type).toBe('api_key');
      const reset = await t.call('POST', `/v1/webhooks/${w.id}/reset-circuit`, { key: a.adminKey });
      expect(reset.body.circuit).toEqual({ state: 'closed', failureCount: 0, openedAt: null });
      const patched = await t.call('PATCH', `/v1/webhooks/${w.id}`, {
        key: a.adminKey,
        body: { eventTypes: ['order.*'], headers: { 'X-Team': 'blue' } },
      });
      expect(patched.body.eventTypes).toEqual(['order.*']);
      expect(patched.body.audit.updated.at).toEqual(expect.any(String));

      const rotated = await t.call('POST', `/v1/webhooks/${w.id}/rotate-secret`, {
        key: a.adminKey,
        body: { graceSeconds: 3600 },
      });
      expect(rotated.status).toBe(200);
      expect(rotated.body.secret).toMatch(/^whsec_/);
      expect(rotated.body.secret).not.toBe(w.secret);
      expect(rotated.body.secretRotation.previousSecretExpiresAt).toEqual(expect.any(String));

      const versions = await t.call('GET', `/v1/webhooks/${w.id}/versions`, { key: a.adminKey });
      const actions = versions.body.data.map((v: { action: string }) => v.action);
      expect(actions).toEqual(['secret_rotated', 'updated', 'circuit_reset', 'enabled', 'disabled', 'created']);
      const update = versions.body.data[1];
      expect(update.changes.eventTypes).toEqual({ from: ['order.created'], to: ['order.*'] });
      expect(update.changedBy.type).toBe('api_key');
      expect(JSON.stringify(versions.body)).not.toContain(rotated.body.secret);
      expect(JSON.stringify(versions.body)).not.toContain(w.secret);
      const page = await t.call('GET', `/v1/webhooks/${w.id}/versions?limit=2`, { key: a.adminKey });
      expect(page.body.data).toHaveLength(2);
      const next = await t.call('GET', `/v1/webhooks/${w.id}/versions?limit=10&cursor=${page.body.nextCursor}`, {
        key: a.adminKey,
      });
      expect(next.body.data.map((v: { action: string }) => v.action)).toEqual(actions.slice(2));

      expect((await t.call('DELETE', `/v1/webhooks/${w.id}`, { key: a.adminKey })).status).toBe(204);
      expect((await t.call('GET', `/v1/webhooks/${w.id}`, { key: a.adminKey })).status).toBe(404);
    });

    it('pages and filters webhook lists', async () => {
      const c = await t.tenant('Pager');
      const made: string[] = [];
      for (let i = 0; i < 5; i++) {
        const w = await t.call('POST', '/v1/webhooks', {
          key: c.adminKey,
          body: hook({
            eventTypes: i % 2 === 0 ? ['order.created'] : ['invoice.paid'],
            status: i === 4 ? 'disabled' : 'enabled',
          }),
        });
        made.push(w.body.id);
      }
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res: { body: { data: Array<{ id: string }>; nextCursor: string | null } } = await t.call(
          'GET',
          `/v1/webhooks?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
          { key: c.adminKey },
        );
        seen.push(...res.body.data.map((w) => w.id));
        cursor = res.body.nextCursor;
        pages++;
      } while (cursor !== null);
      expect(pages).toBe(3);
      expect(seen).toEqual([...made].reverse());
      const paid = await t.call('GET', '/v1/webhooks?eventType=invoice.paid', { key: c.adminKey });
      expect(paid.body.data.map((w: { id: string }) => w.id).sort()).toEqual([made[1], made[3]].sort());
      const disabled = await t.call('GET', '/v1/webhooks?status=disabled', { key: c.adminKey });
      expect(disabled.body.data.map((w: { id: string }) => w.id)).toEqual([made[4]]);
      const future = await t.call(
        'GET',
        `/v1/webhooks?createdAfter=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`,
        { key: c.adminKey },
      );
      expect(future.body.data).toEqual([]);
    });

    it('manages the event-type catalogue with optional JSON Schemas', async () => {
      const schema = { type: 'object', required: ['id'], properties: { id: { type: 'string' } } };
      const created = await t.call('POST', '/v1/event-types', {
        key: a.adminKey,
        body: { name: 'order.created', description: 'An order was placed', objectType: 'order', schema },
      });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ name: 'order.created', objectType: 'order', schema, deprecated: false });
      expect(
        (await t.call('POST', '/v1/event-types', { key: a.adminKey, body: { name: 'order.created' } })).status,
      ).toBe(409);
      const bad = await t.call('POST', '/v1/event-types', {
        key: a.adminKey,
        body: { name: 'order.bad', schema: { type: 'nonsense' } },
      });
      expect(bad.status).toBe(400);
      expect(bad.body.detail).toContain('body.schema');
      await t.call('POST', '/v1/event-types', { key: a.adminKey, body: { name: 'order.cancelled' } });
      await t.call('POST', '/v1/event-types', { key: a.adminKey, body: { name: 'invoice.paid' } });
      const dep = await t.call('PATCH', '/v1/event-types/order.cancelled', {
        key: a.adminKey,
        body: { deprecated: true },
      });
      expect(dep.body.deprecated).toBe(true);
      const orders = await t.call('GET', '/v1/event-types?prefix=order.', { key: a.adminKey });
      expect(orders.body.data.map((e: { name: string }) => e.name)).toEqual(['order.created']);
      const all = await t.call('GET', '/v1/event-types?includeDeprecated=true&limit=1', { key: a.adminKey });
      expect(all.body.data).toHaveLength(1);
      const rest = await t.call('GET', `/v1/event-types?includeDeprecated=true&cursor=${all.body.nextCursor}`, {
        key: a.adminKey,
      });
      expect([...all.body.data, ...rest.body.data].map((e: { name: string }) => e.name)).toEqual([
        'invoice.paid',
        'order.cancelled',
        'order.created',
      ]);
      expect((await t.call('GET', '/v1/event-types/order.created', { key: b.adminKey })).status).toBe(404);
      expect((await t.call('DELETE', '/v1/event-types/invoice.paid', { key: a.adminKey })).status).toBe(204);
      expect((await t.call('GET', '/v1/event-types/invoice.paid', { key: a.adminKey })).status).toBe(404);
    });

    it('accepts, echoes and generates correlation ids', async () => {
      const res = await t.call('GET', '/healthz', { headers: { 'x-correlation-id': 'corr-123' } });
      expect(res.headers['x-correlation-id']).toBe('corr-123');
      const gen = await t.call('GET', '/v1/nope');
      expect(gen.status).toBe(404);
      expect(gen.headers['x-correlation-id']).toEqual(expect.any(String));
      expect(gen.body.correlationId).toBe(gen.headers['x-correlation-id']);
    });
  });
}
