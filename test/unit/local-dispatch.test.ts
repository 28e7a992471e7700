import { describe, expect, it } from 'vitest';
import type { Job } from '../../src/delivery/executor.js';
import { HandOff, type LocalDispatch } from '../../src/delivery/local-dispatch.js';

/** A local worker with a hand-over budget of `room` jobs; `reserved` is what it has handed out and not got back. */
function worker(room: number) {
  const state = { left: room, reservedBytes: 0, accepted: [] as Array<{ job: Job; bytes: number }> };
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
  };
  return { dispatch, state };
}

const job = (id: string, webhookId: string) => ({ delivery: { id, webhook_id: webhookId } }) as unknown as Job;
const tick = () => new Promise((r) => setImmediate(r));

describe('HandOff', () => {
  it('leases while the budget has room, and asks for a wake-up for what it had no room for', () => {
    const { dispatch } = worker(1);
    const h = new HandOff(dispatch);
    expect(h.lease('wh_a', 1000, 10)).toEqual({ owner: 'wrk_test', expiresAt: 31_000, bytes: 10 });
    expect(h.queuedClaimable).toBe(false);
    // The budget is spent: the delivery takes the queue, which claims have room of their own for.
    expect(h.lease('wh_a', 1000, 10)).toBeNull();
    expect(h.queuedClaimable).toBe(true);
  });

  it('asks for a wake-up for queued deliveries the worker may take at once', () => {
    const batch = new HandOff(worker(10).dispatch);
    batch.queue();
    expect(batch.queuedClaimable).toBe(true);

    const noWorker = new HandOff(null);
    expect(noWorker.lease('wh_a', 1000, 10)).toBeNull();
    expect(noWorker.queuedClaimable).toBe(true);
  });

  it("hands over any number of one webhook's deliveries, but only the first few hundred webhooks of a write", () => {
    const one = new HandOff(worker(10_000).dispatch);
    let leased = 0;
    for (let i = 0; i < 2_000; i++) if (one.lease('wh_a', 1000, 10) !== null) leased++;
    expect(leased).toBe(2_000);

    const wide = new HandOff(worker(10_000).dispatch);
    leased = 0;
    for (let i = 0; i < 300; i++) if (wide.lease(`wh_${i}`, 1000, 10) !== null) leased++;
    expect(leased).toBeGreaterThan(0);
    expect(leased).toBeLessThan(300);
    expect(wide.queuedClaimable).toBe(true);
    // A webhook already handed over in this write still is.
    expect(wide.lease('wh_0', 1000, 10)).not.toBeNull();
  });

  it('gives every reservation back when the write fails, and on commit those no delivery was added for', async () => {
    const failing = worker(10);
    const f = new HandOff(failing.dispatch);
    const a = f.lease('wh_a', 0, 10);
    f.lease('wh_a', 0, 20);
    if (a !== null) f.add(job('dlv_1', 'wh_a'), a);
    f.failed();
    expect(failing.state).toMatchObject({ left: 10, reservedBytes: 0 });

    const committing = worker(10);
    const c = new HandOff(committing.dispatch);
    const b = c.lease('wh_a', 0, 10);
    c.lease('wh_a', 0, 20);
    if (b !== null) c.add(job('dlv_2', 'wh_a'), b);
    await c.attachWebhooks(async () => []);
    c.committed();
    await tick();
    expect(committing.state.left).toBe(9);
    expect(committing.state.reservedBytes).toBe(10);
    expect(committing.state.accepted.map((j) => [j.job.delivery.id, j.bytes])).toEqual([['dlv_2', 10]]);
  });
});
