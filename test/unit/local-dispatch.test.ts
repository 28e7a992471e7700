import { describe, expect, it } from 'vitest';
import { HandOff, type LocalDispatch } from '../../src/delivery/local-dispatch.js';

/** A local worker with room for `room` more jobs in all. */
function worker(room: number): LocalDispatch {
  let left = room;
  return {
    workerId: 'wrk_test',
    leaseMs: () => 30_000,
    reserve: () => {
      if (left === 0) return false;
      left--;
      return true;
    },
    unreserve: () => {
      left++;
    },
    accept: () => {},
  };
}

describe('HandOff', () => {
  it('leases while the local worker has room, and asks for no wake-up for what it had no room for', () => {
    const h = new HandOff(worker(1));
    expect(h.lease('wh_a', 1000)).toEqual({ owner: 'wrk_test', expiresAt: 31_000 });
    // The worker is full: the delivery takes the queue, and the worker claims it when its calls free room.
    expect(h.lease('wh_a', 1000)).toBeNull();
    expect(h.queuedClaimable).toBe(false);
  });

  it('asks for a wake-up for queued deliveries the worker may take at once', () => {
    const batch = new HandOff(worker(10));
    batch.queue();
    expect(batch.queuedClaimable).toBe(true);

    const noWorker = new HandOff(null);
    expect(noWorker.lease('wh_a', 1000)).toBeNull();
    expect(noWorker.queuedClaimable).toBe(true);

    // Past the most handed over per transaction, the rest go to the queue with room to spare in the worker.
    const wide = new HandOff(worker(10_000));
    let leased = 0;
    for (let i = 0; i < 300; i++) if (wide.lease(`wh_${i}`, 1000) !== null) leased++;
    expect(leased).toBeLessThan(300);
    expect(wide.queuedClaimable).toBe(true);
  });
});
