/**
 * The queue's claims against real databases (the same suite on SQLite and PostgreSQL): per-webhook caps, disjoint
 * concurrent claims, FIFO heads, batch closing and lease recovery.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CompiledQuery } from 'kysely';
import { callRowsStatement } from '../../src/db/repos/webhooks-repo.js';
import { claimDueDeliveries, reclaimExpiredLeases, renewLeases } from '../../src/queue/claim-due-deliveries.js';
import { DIALECTS, postgresAvailable } from '../helpers/databases.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const pgOk = await postgresAvailable();

for (const dialect of DIALECTS) {
  describe.skipIf(dialect === 'postgres' && !pgOk)(`queue claims on ${dialect}`, () => {
    let t: TestApp;
    let key: string;

    beforeAll(async () => {
      t = await startTestApp(dialect, { HOOKLINE_ALLOW_PRIVATE_TARGETS: 'true' });
      key = (await t.tenant('Queue')).adminKey;
    });
    afterAll(async () => {
      await t?.close();
    });

    async function webhook(eventType: string, extra: Record<string, unknown> = {}) {
      const res = await t.call('POST', '/v1/webhooks', {
        key,
        body: { url: 'http://127.0.0.1:9/x', eventTypes: [eventType], ...extra },
      });
      return res.body.id as string;
    }
    async function publish(type: string, n: number) {
      const res = await t.call('POST', '/v1/events/batch', {
        key,
        body: { events: Array.from({ length: n }, (_, i) => ({ type, data: { i } })) },
      });
      expect(res.status).toBe(201);
    }
    // Claims see the whole queue: each test starts from an empty one.
    beforeEach(async () => {
      await t.core.db.kysely
        .updateTable('deliveries')
        .set({ status: 'succeeded' })
        .where('status', 'in', ['pending', 'delivering'])
        .execute();
    });
    const claim = (workerId: string, limit: number, inFlight = new Map<string, number>(), cap = 2, now = Date.now()) =>
      claimDueDeliveries(t.core.db, { workerId, limit, now, leaseMs: 60_000, held: inFlight, perWebhookHold: cap });
    /** The stored rows of claimed deliveries (a claim returns only what running them needs). */
    const stored = (claimed: Array<{ id: string }>) =>
      claimed.length === 0
        ? Promise.resolve([])
        : t.core.db.kysely
            .selectFrom('deliveries')
            .selectAll()
            .where(
              'id',
              'in',
              claimed.map((d) => d.id),
            )
            .execute();

    it('takes no more of a webhook than its free slots', async () => {
      const a = await webhook('cap.a');
      const b = await webhook('cap.b');
      await publish('cap.a', 5);
      await publish('cap.b', 5);
      const first = await claim('w1', 10);
      expect(first.filter((d) => d.webhook_id === a)).toHaveLength(2);
      expect(first.filter((d) => d.webhook_id === b)).toHaveLength(2);
      const rows = await stored(first);
      expect(rows).toHaveLength(4);
      expect(rows.every((d) => d.status === 'delivering' && d.lease_owner === 'w1')).toBe(true);
      const second = await claim(
        'w1',
        10,
        new Map([
          [a, 2],
          [b, 1],
        ]),
      );
      expect(second.map((d) => d.webhook_id)).toEqual([b]);
    });

    it('tops up a backlogged webhook by its own index, and looks past a full one only when allowed', async () => {
      const a = await webhook('top.a');
      const b = await webhook('top.b');
      await publish('top.a', 30);
      await publish('top.b', 3);
      const opts = (held: Map<string, number>, extra: { topUp?: Set<string>; lookPast?: boolean }) => ({
        workerId: 'w1',
        limit: 10,
        now: Date.now(),
        leaseMs: 60_000,
        held,
        perWebhookHold: 5,
        ...extra,
      });
      // a holds 1 of 5 and has a backlog: it gets 4 more, and b's newer rows fill the rest.
      const topped = await claimDueDeliveries(t.core.db, opts(new Map([[a, 1]]), { topUp: new Set([a]) }));
      expect(topped.filter((d) => d.webhook_id === a)).toHaveLength(4);
      expect(topped.filter((d) => d.webhook_id === b)).toHaveLength(3);
      // b is done; more of b arrive behind a's backlog, which fills the window while a holds all it may.
      await publish('top.b', 2);
      const blocked = await claimDueDeliveries(t.core.db, opts(new Map([[a, 5]]), { lookPast: false }));
      expect(blocked).toHaveLength(0);
      const past = await claimDueDeliveries(t.core.db, opts(new Map([[a, 5]]), { lookPast: true }));
      expect(past.map((d) => d.webhook_id)).toEqual([b, b]);
    });

    it('tops up only the held webhooks when told not to look for others', async () => {
      const a = await webhook('only.a');
      const b = await webhook('only.b');
      await publish('only.a', 6);
      await publish('only.b', 2);
      const opts = (others: boolean) => ({
        workerId: 'w1',
        limit: 10,
        now: Date.now(),
        leaseMs: 60_000,
        held: new Map([[a, 1]]),
        perWebhookHold: 3,
        topUp: new Set([a]),
        others,
      });
      const topUpOnly = await claimDueDeliveries(t.core.db, opts(false));
      expect(topUpOnly.map((d) => d.webhook_id)).toEqual([a, a]);
      // Looking again, b's due work is found.
      const all = await claimDueDeliveries(t.core.db, opts(true));
      expect(all.filter((d) => d.webhook_id === b)).toHaveLength(2);
    });

    it('never hands the same delivery to two concurrent claims', async () => {
      await webhook('race.x');
      await publish('race.x', 60);
      const ids: string[] = [];
      for (let round = 0; round < 10 && ids.length < 60; round++) {
        const results = await Promise.all(['r1', 'r2', 'r3'].map((w) => claim(w, 15, new Map(), 100)));
        ids.push(...results.flat().map((d) => d.id));
      }
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.length).toBe(60);
    });

    it('offers only the head of a FIFO webhook, and closes a batch it claims', async () => {
      const f = await webhook('fifo.q', { ordering: 'fifo' });
      await publish('fifo.q', 3);
      const got = (await claim('f1', 10, new Map(), 10)).filter((d) => d.webhook_id === f);
      expect(got).toHaveLength(1);
      expect((await claim('f2', 10, new Map(), 10)).filter((d) => d.webhook_id === f)).toHaveLength(0);

      const bw = await webhook('batch.q', { maxBatchSize: 10, maxBatchTimeDelay: 0 });
      await publish('batch.q', 3);
      const claimedBatch = (await claim('b1', 10, new Map(), 10)).filter((d) => d.webhook_id === bw);
      expect(claimedBatch).toHaveLength(1);
      const [batch] = await stored(claimedBatch);
      expect(batch?.event_count).toBe(3);
      expect(batch?.batch_open).toBe(0);
      await publish('batch.q', 1);
      const open = await t.core.db.kysely
        .selectFrom('deliveries')
        .selectAll()
        .where('webhook_id', '=', bw)
        .where('batch_open', '=', 1)
        .execute();
      expect(open).toHaveLength(1);
      expect(open[0]?.id).not.toBe(batch?.id);
    });

    it('gives back the deliveries of a worker whose lease expired', async () => {
      const w = await webhook('lease.q');
      await publish('lease.q', 2);
      const leased = (await claim('dead-worker', 10, new Map(), 10)).filter((d) => d.webhook_id === w);
      expect(leased).toHaveLength(2);
      expect(await reclaimExpiredLeases(t.core.db, Date.now())).toBe(0);
      expect(await reclaimExpiredLeases(t.core.db, Date.now() + 61_000)).toBeGreaterThanOrEqual(2);
      const again = (await claim('new-worker', 10, new Map(), 10, Date.now() + 61_000)).filter(
        (d) => d.webhook_id === w,
      );
      expect(again.map((d) => d.id).sort()).toEqual(leased.map((d) => d.id).sort());
    });

    it("renews every lease a worker holds, however many, and no other worker's", async () => {
      const a = await webhook('renew.a');
      const b = await webhook('renew.b');
      for (let i = 0; i < 3; i++) await publish('renew.a', 900);
      const now = Date.now();
      const mine: string[] = [];
      for (let i = 0; i < 10 && mine.length < 2_700; i++) {
        const held = new Map([[a, mine.length]]);
        mine.push(
          ...(await claim('renew-worker', 400, held, 2_700, now)).filter((d) => d.webhook_id === a).map((d) => d.id),
        );
      }
      expect(mine).toHaveLength(2_700);
      await publish('renew.b', 3);
      const later = Date.now();
      const theirs = (await claim('other-worker', 10, new Map(), 10, later)).filter((d) => d.webhook_id === b);
      expect(theirs).toHaveLength(3);

      const until = now + 600_000;
      expect(await renewLeases(t.core.db, 'renew-worker', until)).toBe(2_700);
      const leases = await t.core.db.kysely
        .selectFrom('deliveries')
        .select(['lease_owner', 'lease_expires_at'])
        .where('status', '=', 'delivering')
        .execute();
      expect(
        leases.filter((l) => l.lease_owner === 'renew-worker').every((l) => Number(l.lease_expires_at) === until),
      ).toBe(true);
      expect(leases.filter((l) => l.lease_owner === 'other-worker').map((l) => Number(l.lease_expires_at))).toEqual([
        later + 60_000,
        later + 60_000,
        later + 60_000,
      ]);
    });

    it("loads the call rows of the asked webhooks, only the tenant's own, by primary key", async () => {
      const mine = await Promise.all(Array.from({ length: 30 }, () => webhook('call.rows')));
      const other = await t.tenant('Other');
      const theirs = await t.call('POST', '/v1/webhooks', {
        key: other.adminKey,
        body: { url: 'http://127.0.0.1:9/x', eventTypes: ['call.rows'] },
      });
      const { tenantId } = await t.core.db.kysely
        .selectFrom('webhooks')
        .select('tenant_id as tenantId')
        .where('id', '=', mine[0] as string)
        .executeTakeFirstOrThrow();
      const asked = [mine[3], mine[17], theirs.body.id as string] as string[];
      const q = callRowsStatement(t.core.db.dialect, asked, tenantId);
      const rows = (await q.run<{ id: string; tenant_id: string }>(t.core.db.kysely)).rows;
      expect(rows.map((r) => r.id).sort()).toEqual([mine[3], mine[17]].sort());
      expect(rows.every((r) => r.tenant_id === tenantId)).toBe(true);
      if (dialect === 'sqlite') {
        // A hand-over runs this for every publish: it must probe the asked ids, not read all the tenant's webhooks.
        const explained = await t.core.db.kysely.executeQuery<{ detail: string }>(
          CompiledQuery.raw(`EXPLAIN QUERY PLAN ${q.sql}`, q.params),
        );
        const details = explained.rows.map((r) => r.detail).join(' | ');
        expect(details).toMatch(/SEARCH webhooks USING (COVERING )?INDEX sqlite_autoindex_webhooks_1 \(id=\?\)/);
        expect(details).not.toMatch(/tenant_id=/);
      }
    });
  });
}
