/** The worker loop's scheduling with in-memory ports: caps, exclusion of saturated webhooks, wake-ups, stop. */
import { describe, expect, it } from 'vitest';
import type { Job } from '../../src/delivery/executor.js';
import { HandOff, type LocalDispatch } from '../../src/delivery/local-dispatch.js';
import { type LoopJob, WorkerLoop, type WorkerPorts } from '../../src/delivery/worker-loop.js';

interface FakeJob extends LoopJob {
  id: number;
}

/** A fake queue honouring the claim contract: at most `limit`, and per webhook no more than its free slots. */
function harness(
  jobs: FakeJob[],
  opts: {
    concurrency: number;
    perWebhook: number;
    launchAhead?: { perWebhook: number; total: number };
    prefetch?: number;
  },
) {
  const queue = [...jobs];
  const running = new Map<number, () => void>();
  const claims: Array<{ limit: number; inFlight: Map<string, number> }> = [];
  const released: FakeJob[] = [];
  let wake: (() => void) | null = null;
  let maxInFlight = 0;
  const perWebhookMax = new Map<string, number>();
  const inFlightPerWebhook = new Map<string, number>();
  const ports: WorkerPorts<FakeJob> = {
    async claim(limit, inFlight, perWebhookHold) {
      claims.push({ limit, inFlight: new Map(inFlight) });
      const taken = new Map(inFlight);
      const picked: FakeJob[] = [];
      for (let i = 0; i < queue.length && picked.length < limit; ) {
        const job = queue[i] as FakeJob;
        const n = taken.get(job.webhookId) ?? 0;
        if (n >= perWebhookHold) i++;
        else {
          taken.set(job.webhookId, n + 1);
          picked.push(...queue.splice(i, 1));
        }
      }
      return picked;
    },
    run(job) {
      const n = (inFlightPerWebhook.get(job.webhookId) ?? 0) + 1;
      inFlightPerWebhook.set(job.webhookId, n);
      perWebhookMax.set(job.webhookId, Math.max(perWebhookMax.get(job.webhookId) ?? 0, n));
      maxInFlight = Math.max(maxInFlight, running.size + 1);
      return new Promise<void>((resolve) =>
        running.set(job.id, () => {
          running.delete(job.id);
          inFlightPerWebhook.set(job.webhookId, (inFlightPerWebhook.get(job.webhookId) ?? 1) - 1);
          resolve();
        }),
      );
    },
    async release(jobs) {
      released.push(...jobs);
    },
    async nextDueAt() {
      return queue.length > 0 ? Date.now() : null;
    },
    onWake(listener) {
      wake = listener;
      return () => {
        wake = null;
      };
    },
    onError(err) {
      throw err;
    },
    now: () => Date.now(),
  };
  const loop = new WorkerLoop(ports, {
    concurrency: opts.concurrency,
    perWebhookConcurrency: opts.perWebhook,
    pollIntervalMs: 20,
    ...(opts.launchAhead !== undefined ? { launchAhead: opts.launchAhead } : {}),
    ...(opts.prefetch !== undefined ? { prefetch: opts.prefetch } : {}),
  });
  return {
    loop,
    queue,
    running,
    claims,
    wake: () => wake?.(),
    released,
    stats: () => ({ maxInFlight, perWebhookMax }),
  };
}

const tick = (ms = 30) => new Promise((r) => setTimeout(r, ms));

/** The ports a loop built inline needs besides claim, run and release: nothing due, no wake-ups, errors thrown. */
const idlePorts: Pick<WorkerPorts<FakeJob>, 'nextDueAt' | 'onWake' | 'onError' | 'now'> = {
  nextDueAt: async () => null,
  onWake: () => () => {},
  onError: (err) => {
    throw err;
  },
  now: () => Date.now(),
};

/**
 * A loop whose calls and recordings each wait until the test lets them end (`calls` / `records`, by job id; with
 * `callsEnd: 'at once'` a call ends as it starts). `started` lists the jobs run, in order.
 */
function gatedLoop(
  claim: WorkerPorts<FakeJob>['claim'],
  options: ConstructorParameters<typeof WorkerLoop<FakeJob>>[1],
  callsEnd: 'when told' | 'at once' = 'when told',
) {
  const calls = new Map<number, () => void>();
  const records = new Map<number, () => void>();
  const started: number[] = [];
  const loop = new WorkerLoop<FakeJob>(
    {
      claim,
      run: async (job, callDone) => {
        started.push(job.id);
        if (callsEnd === 'when told') await new Promise<void>((resolve) => calls.set(job.id, resolve));
        callDone();
        await new Promise<void>((resolve) => records.set(job.id, resolve));
      },
      release: async () => {},
      ...idlePorts,
    },
    options,
  );
  return { loop, calls, records, started };
}

describe('WorkerLoop', () => {
  it('hands back prefetched jobs at stop instead of running a backlog', async () => {
    const h = harness(
      Array.from({ length: 20 }, (_, i) => ({ id: i, webhookId: 'one' })),
      { concurrency: 8, perWebhook: 2 },
    );
    // Prefetch is off in `harness` (1 round); this loop holds 4 rounds of 2.
    const loop = new WorkerLoop(
      {
        claim: async (limit, held, hold) => {
          const n = Math.min(limit, hold - (held.get('one') ?? 0));
          return h.queue.splice(0, Math.max(0, n));
        },
        run: (job) => new Promise<void>((resolve) => h.running.set(job.id, resolve)),
        release: async (jobs) => {
          h.released.push(...jobs);
        },
        withdraw: () => {
          withdrawals.push(h.running.size);
        },
        ...idlePorts,
      },
      { concurrency: 8, perWebhookConcurrency: 2, prefetch: 4, pollIntervalMs: 20 },
    );
    const withdrawals: number[] = [];
    loop.start();
    await tick();
    expect(h.running.size).toBe(2);
    const stopping = loop.stop();
    await tick();
    // The sender is asked once, at stop, to hand back what it holds unstarted; the running calls go on.
    expect(withdrawals).toEqual([2]);
    for (const done of [...h.running.values()]) done();
    await stopping;
    expect(h.released.map((j) => j.id)).toEqual([2, 3, 4, 5, 6, 7]);
  });

  it('starts the next call when a call ends, while the ended one is still being recorded', async () => {
    const queue: FakeJob[] = Array.from({ length: 6 }, (_, i) => ({ id: i, webhookId: 'one' }));
    const { loop, calls, records, started } = gatedLoop(
      async (limit, held, hold) => queue.splice(0, Math.max(0, Math.min(limit, hold - (held.get('one') ?? 0)))),
      { concurrency: 8, perWebhookConcurrency: 2, prefetch: 4, pollIntervalMs: 20 },
    );
    loop.start();
    await tick();
    expect(started).toEqual([0, 1]);
    // Call 0 ends; its attempt is not recorded yet, and the webhook's next call starts anyway.
    calls.get(0)?.();
    await tick(5);
    expect(started).toEqual([0, 1, 2]);
    // Never more than two calls in progress at once: 1 and 2 are.
    expect(loop.inFlightCount).toBe(2);
    for (const id of [1, 2]) calls.get(id)?.();
    await tick(5);
    expect(started).toEqual([0, 1, 2, 3, 4]);
    const stopping = loop.stop();
    for (const id of [3, 4]) calls.get(id)?.();
    await tick(5);
    for (const done of records.values()) done();
    await stopping;
  });

  it("frees a webhook's hold when its call ends, so the next claim does not wait for attempts being recorded", async () => {
    const queue: FakeJob[] = Array.from({ length: 20 }, (_, i) => ({ id: i, webhookId: 'one' }));
    const claimedIds: number[][] = [];
    const { loop, calls, records } = gatedLoop(
      async (limit, held, hold) => {
        const taken = queue.splice(0, Math.max(0, Math.min(limit, hold - (held.get('one') ?? 0))));
        if (taken.length > 0) claimedIds.push(taken.map((j) => j.id));
        return taken;
      },
      // A hold of 4 per webhook (2 slots × 2 rounds); the worker's total is 8 × 2.
      { concurrency: 8, perWebhookConcurrency: 2, prefetch: 2, pollIntervalMs: 20 },
    );
    loop.start();
    await tick();
    expect(claimedIds).toEqual([[0, 1, 2, 3]]);
    // Calls 0 and 1 end; neither attempt is recorded yet. The webhook holds 2 of 4 again, and the loop claims 2 more.
    calls.get(0)?.();
    calls.get(1)?.();
    await tick(10);
    expect(claimedIds).toEqual([
      [0, 1, 2, 3],
      [4, 5],
    ]);
    const stopping = loop.stop();
    for (const done of calls.values()) done();
    await tick(5);
    for (const done of records.values()) done();
    await stopping;
  });

  it('claims again when an attempt is recorded, for work that only then becomes claimable (FIFO)', async () => {
    const queue: FakeJob[] = Array.from({ length: 3 }, (_, i) => ({ id: i, webhookId: 'fifo' }));
    let outstanding = false;
    const { loop, records, started } = gatedLoop(
      // As a FIFO webhook's claim: nothing while an earlier delivery is still being delivered (not yet recorded).
      async () => {
        if (outstanding || queue.length === 0) return [];
        outstanding = true;
        return queue.splice(0, 1);
      },
      // No due work announced and a long poll: only the loop's own wake-ups can bring the next delivery soon.
      { concurrency: 8, perWebhookConcurrency: 1, prefetch: 4, pollIntervalMs: 10_000 },
      'at once',
    );
    const record = (id: number) => {
      outstanding = false;
      records.get(id)?.();
    };
    loop.start();
    await tick();
    expect(started).toEqual([0]);
    record(0);
    await tick();
    expect(started).toEqual([0, 1]);
    record(1);
    await tick();
    expect(started).toEqual([0, 1, 2]);
    const stopping = loop.stop();
    record(2);
    await stopping;
  });

  it('counts calls still being recorded against the worker total, and claims again once they are recorded', async () => {
    const queue: FakeJob[] = Array.from({ length: 20 }, (_, i) => ({ id: i, webhookId: `w${i}` }));
    const claimedIds: number[][] = [];
    const { loop, records } = gatedLoop(
      async (limit) => {
        const taken = queue.splice(0, limit);
        if (taken.length > 0) claimedIds.push(taken.map((j) => j.id));
        return taken;
      },
      // A total of 4 (4 slots × 1 round): 4 calls end at once and all wait to be recorded.
      { concurrency: 4, perWebhookConcurrency: 1, pollIntervalMs: 20 },
      'at once',
    );
    loop.start();
    await tick();
    expect(claimedIds).toEqual([[0, 1, 2, 3]]);
    expect(records.size).toBe(4);
    // Nothing more is claimed while the four are being recorded.
    await tick();
    expect(claimedIds).toHaveLength(1);
    records.get(0)?.();
    await tick(10);
    expect(claimedIds).toEqual([[0, 1, 2, 3], [4]]);
    const stopping = loop.stop();
    for (const done of records.values()) done();
    await tick(5);
    for (const done of records.values()) done();
    await stopping;
  });

  it('takes hand-overs within their own budget, not the hold, gets room back from a failed write, and hands back after stop', async () => {
    const started: number[] = [];
    const released: FakeJob[] = [];
    const calls = new Map<number, () => void>();
    const claims: Array<{ limit: number; held: Map<string, number> }> = [];
    const loop = new WorkerLoop<FakeJob>(
      {
        claim: async (limit, held) => {
          claims.push({ limit, held: new Map(held) });
          return [];
        },
        run: (job) => {
          started.push(job.id);
          return new Promise<void>((resolve) => calls.set(job.id, resolve));
        },
        release: async (jobs) => {
          released.push(...jobs);
        },
        ...idlePorts,
      },
      {
        concurrency: 8,
        perWebhookConcurrency: 1,
        prefetch: 2,
        pollIntervalMs: 20,
        handOver: { maxJobs: 3, maxBytes: 100 },
      },
    );
    loop.start();
    const handOff = (d: LocalDispatch) => new HandOff(d);
    const dispatch: LocalDispatch = {
      workerId: 'w',
      leaseMs: () => 1000,
      reserve: (bytes) => loop.reserve(bytes),
      unreserve: (bytes) => loop.unreserve(bytes),
      accept: (jobs) => {
        for (const { job, bytes } of jobs) loop.acceptReserved(job as unknown as FakeJob, bytes);
      },
      loadCallRows: async () => [],
      lateFailed: () => {},
    };
    // The budget is 3 jobs: more than the webhook's hold of 2 (1 slot × prefetch 2), which is for claims only.
    const failed = handOff(dispatch);
    for (let i = 0; i < 3; i++) expect(failed.lease(0, 10)).not.toBeNull();
    expect(failed.lease(0, 10)).toBeNull();
    // Refused for want of budget: the delivery is queued, and the worker should claim it now.
    expect(failed.queuedClaimable).toBe(true);
    failed.failed();
    // The failed transaction gave its room back; the budget of bytes holds too.
    const ok = handOff(dispatch);
    expect(ok.lease(0, 101)).toBeNull();
    const leases = [ok.lease(0, 50), ok.lease(0, 40)];
    expect(leases[0]?.expiresAt).toBe(1000);
    expect(ok.lease(0, 1)).not.toBeNull(); // reserved, but no delivery added: given back on commit
    leases.forEach((lease, i) => {
      if (lease !== null) ok.add({ id: i + 1, webhookId: 'a', delivery: { webhook_id: 'a' } } as unknown as Job, lease);
    });
    await ok.attachWebhooks(async () => []);
    ok.committed();
    await tick(5);
    // One slot: the first runs, the second waits its turn.
    expect(started).toEqual([1]);
    // Meanwhile claims go on with all their room: the hand-overs hold none of it.
    await tick(30);
    expect(claims.at(-1)).toEqual({ limit: 16, held: new Map() });
    calls.get(1)?.();
    await tick(5);
    expect(started).toEqual([1, 2]);
    // Job 2 holds 40 bytes (job 1's and the unused reservation's came back): 60 more fit, 61 do not.
    expect(handOff(dispatch).lease(0, 61)).toBeNull();
    // Reserved before the stop, committed after it: handed back to the queue, never started.
    const late = handOff(dispatch);
    const lateLease = late.lease(0, 50);
    expect(lateLease).not.toBeNull();
    const stopping = loop.stop();
    if (lateLease !== null)
      late.add({ id: 3, webhookId: 'b', delivery: { webhook_id: 'b' } } as unknown as Job, lateLease);
    await late.attachWebhooks(async () => []);
    late.committed();
    calls.get(2)?.();
    await stopping;
    await tick(5);
    expect(released.map((j) => j.id)).toEqual([3]);
    expect(started).toEqual([1, 2]);
    expect(handOff(dispatch).lease(0, 1)).toBeNull();
  });

  it('keeps a slow webhook to its cap and goes on claiming other webhooks', async () => {
    const jobs: FakeJob[] = [
      ...Array.from({ length: 10 }, (_, i) => ({ id: i, webhookId: 'slow' })),
      ...Array.from({ length: 5 }, (_, i) => ({ id: 100 + i, webhookId: 'fast' })),
    ];
    const h = harness(jobs, { concurrency: 8, perWebhook: 2 });
    h.loop.start();
    await tick();
    // Two slow ones hang; all fast ones are running without waiting for them.
    const runningIds = [...h.running.keys()];
    expect(runningIds.filter((id) => id < 100)).toHaveLength(2);
    expect(runningIds.filter((id) => id >= 100)).toHaveLength(2);
    expect(h.claims.some((c) => c.inFlight.get('slow') === 2)).toBe(true);
    for (const id of runningIds.filter((x) => x >= 100)) h.running.get(id)?.();
    await tick();
    for (const id of [...h.running.keys()].filter((x) => x >= 100)) h.running.get(id)?.();
    await tick();
    for (const id of [...h.running.keys()].filter((x) => x >= 100)) h.running.get(id)?.();
    await tick();
    expect(h.queue.filter((j) => j.webhookId === 'fast')).toHaveLength(0);
    expect(h.stats().perWebhookMax.get('slow')).toBe(2);
    for (const done of [...h.running.values()]) done();
    const stopping = h.loop.stop();
    for (const done of [...h.running.values()]) done();
    await stopping;
  });

  it('hands a sender that applies the caps itself launchAhead rounds of them, and no more', async () => {
    const h = harness(
      [
        ...Array.from({ length: 20 }, (_, i) => ({ id: i, webhookId: 'a' })),
        ...Array.from({ length: 20 }, (_, i) => ({ id: 100 + i, webhookId: `w${i}` })),
      ],
      { concurrency: 5, perWebhook: 2, launchAhead: { perWebhook: 4, total: 3 }, prefetch: 5 },
    );
    h.loop.start();
    await tick();
    // 2 × 4 of webhook a, and the global 5 × 3 in all.
    expect([...h.running.keys()].filter((id) => id < 100)).toHaveLength(8);
    expect(h.running.size).toBe(15);
    for (const done of [...h.running.values()]) done();
    await tick();
    expect(h.stats().perWebhookMax.get('a')).toBe(8);
    expect(h.stats().maxInFlight).toBe(15);
    const stopping = h.loop.stop();
    for (const done of [...h.running.values()]) done();
    await stopping;
  });

  it('never runs more than its global concurrency', async () => {
    const h = harness(
      Array.from({ length: 30 }, (_, i) => ({ id: i, webhookId: `w${i}` })),
      { concurrency: 4, perWebhook: 10 },
    );
    h.loop.start();
    for (let i = 0; i < 12; i++) {
      await tick(10);
      for (const done of [...h.running.values()]) done();
    }
    await tick();
    expect(h.stats().maxInFlight).toBeLessThanOrEqual(4);
    expect(h.queue).toHaveLength(0);
    await h.loop.stop();
  });

  it('claims new work at once when woken, and stops only after jobs in flight finish', async () => {
    const h = harness([], { concurrency: 4, perWebhook: 2 });
    h.loop.start();
    await tick();
    h.queue.push({ id: 1, webhookId: 'a' });
    h.wake();
    await tick(5);
    expect(h.running.has(1)).toBe(true);
    let stopped = false;
    const stopping = h.loop.stop().then(() => {
      stopped = true;
    });
    await tick();
    expect(stopped).toBe(false);
    h.running.get(1)?.();
    await stopping;
    expect(stopped).toBe(true);
  });
});
