import { describe, expect, it } from 'vitest';
import type { Job } from '../../src/delivery/executor.js';
import { HandOff, type LocalDispatch } from '../../src/delivery/local-dispatch.js';

/** A local worker with a hand-over budget of `room` jobs; `reserved` is what it has handed out and not got back. */
function worker(room: number) {
  const state = {
    left: room,
    reservedBytes: 0,
    accepted: [] as Array<{ job: Job; bytes: number }>,
    loads: [] as Array<{ tenantId: string; ids: string[] }>,
    failLoads: false,
    lateErrors: [] as unknown[],
  };
  const dispatch: LocalDispatch = {
    workerId: 'wrk_test',
    leaseMs: () => 30_000,
    reserve: (bytes) => {
      if (state.left === 0) return false;
      state.left--;
      state.reservedBytes += bytes;
      return true;
    },
    unreserve: (bytes) => {
      state.left++;
      state.reservedBytes -= bytes;
    },
    accept: (jobs) => {
      state.accepted.push(...jobs);
    },
    loadCallRows: async (tenantId, ids) => {
      state.loads.push({ tenantId, ids });
      if (state.failLoads) throw new Error('database is gone');
      return ids
        .filter((id) => !id.startsWith('deleted'))
        .map((id) => ({ id }) as unknown as Job['webhook'] & { id: string });
    },
    lateFailed: (err) => {
      state.lateErrors.push(err);
    },
  };
  return { dispatch, state };
}

const job = (id: string, webhookId: string, tenantId = 'ten_a') =>
  ({ delivery: { id, webhook_id: webhookId, tenant_id: tenantId } }) as unknown as Job;
const tick = () => new Promise((r) => setImmediate(r));

describe('HandOff', () => {
  it('leases while the budget has room, and asks for a wake-up for what it had no room for', () => {
    const { dispatch } = worker(1);
    const h = new HandOff(dispatch);
    expect(h.lease(1000, 10)).toEqual({ owner: 'wrk_test', expiresAt: 31_000, bytes: 10 });
    expect(h.queuedClaimable).toBe(false);
    // The budget is spent: the delivery takes the queue, which claims have room of their own for.
    expect(h.lease(1000, 10)).toBeNull();
    expect(h.queuedClaimable).toBe(true);
  });

  it('asks for a wake-up for queued deliveries the worker may take at once', () => {
    const batch = new HandOff(worker(10).dispatch);
    batch.queue();
    expect(batch.queuedClaimable).toBe(true);

    const noWorker = new HandOff(null);
    expect(noWorker.lease(1000, 10)).toBeNull();
    expect(noWorker.queuedClaimable).toBe(true);
  });

  it('hands over every webhook of a wide write: the first few hundred rows loaded in it, the rest after the commit', async () => {
    const w = worker(10_000);
    const h = new HandOff(w.dispatch);
    const hooks = Array.from({ length: 1_300 }, (_, i) => `wh_${String(i).padStart(4, '0')}`);
    hooks.push('deleted_wh');
    for (const [i, hook] of hooks.entries()) {
      const lease = h.lease(0, 10);
      if (lease === null) throw new Error('the budget had room');
      h.add(job(`dlv_${i}`, hook), lease);
    }
    const inTransaction: string[][] = [];
    await h.attachWebhooks(async (ids) => {
      inTransaction.push(ids);
      return ids.map((id) => ({ id }) as unknown as Job['webhook'] & { id: string });
    });
    expect(h.queuedClaimable).toBe(false);
    expect(inTransaction).toEqual([hooks.slice(0, 256)]);
    h.committed();
    // The publish answers before any row is loaded after the commit; then the rest come in chunks.
    expect(w.state.loads).toEqual([]);
    for (let i = 0; i < 10 && w.state.accepted.length < hooks.length; i++) await tick();
    expect(w.state.loads.map((l) => l.ids.length)).toEqual([500, 500, 45]);
    expect(w.state.loads.every((l) => l.tenantId === 'ten_a')).toBe(true);
    expect(w.state.accepted.map((a) => a.job.delivery.id)).toEqual(hooks.map((_, i) => `dlv_${i}`));
    // A webhook deleted before its row was read: its delivery is handed over without it, and the worker skips it.
    expect(w.state.accepted.at(-1)?.job.webhook).toBeUndefined();
    expect(w.state.accepted.at(0)?.job.webhook).toEqual({ id: 'wh_0000' });
    expect(w.state.left).toBe(10_000 - hooks.length);
  });

  it('gives back the room of late hand-overs whose rows cannot be read, and says so', async () => {
    const w = worker(1_000);
    w.state.failLoads = true;
    const h = new HandOff(w.dispatch);
    for (let i = 0; i < 300; i++) {
      const lease = h.lease(0, 10);
      if (lease !== null) h.add(job(`dlv_${i}`, `wh_${i}`), lease);
    }
    await h.attachWebhooks(async (ids) => ids.map((id) => ({ id }) as unknown as Job['webhook'] & { id: string }));
    h.committed();
    for (let i = 0; i < 5; i++) await tick();
    expect(w.state.accepted).toHaveLength(256);
    expect(w.state.lateErrors).toHaveLength(1);
    // The 44 left wait out their leases in the queue; their room is back.
    expect(w.state.left).toBe(1_000 - 256);
  });

  it('gives every reservation back when the write fails, and on commit those no delivery was added for', async () => {
    const failing = worker(10);
    const f = new HandOff(failing.dispatch);
    const a = f.lease(0, 10);
    f.lease(0, 20);
    if (a !== null) f.add(job('dlv_1', 'wh_a'), a);
    f.failed();
    expect(failing.state).toMatchObject({ left: 10, reservedBytes: 0 });

    const committing = worker(10);
    const c = new HandOff(committing.dispatch);
    const b = c.lease(0, 10);
    c.lease(0, 20);
    if (b !== null) c.add(job('dlv_2', 'wh_a'), b);
    await c.attachWebhooks(async () => []);
    c.committed();
    await tick();
    expect(committing.state.left).toBe(9);
    expect(committing.state.reservedBytes).toBe(10);
    expect(committing.state.accepted.map((j) => [j.job.delivery.id, j.bytes])).toEqual([['dlv_2', 10]]);
  });
});
