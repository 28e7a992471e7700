/**
 * Durability and scale-out with real processes: a Hookline killed with SIGKILL mid-delivery loses nothing after a
 * restart; two worker processes on one PostgreSQL deliver everything with no delivery claimed twice.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, postgresAvailable, type TestDatabase } from '../helpers/databases.js';
import { api, type HooklineProcess, startHookline } from '../helpers/process.js';
import { type Receiver, startReceiver } from '../helpers/receiver.js';

const ROOT = 'hl_root_process_test_key_0123456789';
const pgOk = await postgresAvailable();
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

async function setup(base: string, receiverUrl: string) {
  const tenant = await api(base, ROOT, 'POST', '/v1/tenants', { name: 'proc' });
  const key = await api(
    base,
    ROOT,
    'POST',
    '/v1/api-keys',
    { name: 'k', roles: ['admin'] },
    { 'x-tenant-id': String(tenant.body?.id) },
  );
  const k = String(key.body?.key);
  const hook = await api(base, k, 'POST', '/v1/webhooks', { url: receiverUrl, eventTypes: ['*'] });
  expect(hook.status).toBe(201);
  return k;
}

async function publishMany(base: string, key: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, n - i) }, (_, j) =>
        api(base, key, 'POST', '/v1/events', { type: 'load.test', data: { i: i + j } }),
      ),
    );
    for (const r of batch) {
      expect(r.status).toBe(201);
      ids.push(String(r.body?.id));
    }
  }
  return ids;
}

function eventIdsReceived(r: Receiver): Set<string> {
  return new Set(r.received.map((q) => (JSON.parse(q.body) as { id: string }).id));
}

async function waitUntil(cond: () => boolean, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('a process killed with SIGKILL while delivering', () => {
  it('delivers every accepted event after a restart (at-least-once, same webhook-id)', {
    timeout: 90_000,
  }, async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hookline-crash-'));
    cleanups.push(async () => fs.rmSync(dataDir, { recursive: true, force: true }));
    // A slow receiver keeps many deliveries in flight when the kill comes.
    const receiver = await startReceiver();
    receiver.respond(() => ({ status: 200 }));
    cleanups.push(() => receiver.close());
    const env = {
      HOOKLINE_DATA_DIR: dataDir,
      HOOKLINE_ADMIN_KEY: ROOT,
      HOOKLINE_ALLOW_PRIVATE_TARGETS: 'true',
      HOOKLINE_LEASE_SECONDS: '5',
      HOOKLINE_POLL_INTERVAL_MS: '100',
    };
    let proc: HooklineProcess = await startHookline(env);
    cleanups.push(() => proc.kill('SIGKILL'));
    const key = await setup(proc.base ?? '', receiver.url);
    // Hold every answer open so the kill lands mid-delivery, with calls in flight and leases held.
    receiver.respond(() => 'hang');
    const ids = await publishMany(proc.base ?? '', key, 300);
    await proc.kill('SIGKILL');
    const seenBeforeCrash = receiver.received.length;

    receiver.respond(() => ({ status: 200 }));
    proc = await startHookline(env);
    await waitUntil(() => ids.every((id) => eventIdsReceived(receiver).has(id)), 60_000, 'all events after restart');
    expect(seenBeforeCrash).toBeGreaterThan(0);
    // Redeliveries of a delivery carry the same webhook-id, so a receiver can de-duplicate.
    const byEvent = new Map<string, Set<string>>();
    for (const q of receiver.received) {
      const id = (JSON.parse(q.body) as { id: string }).id;
      byEvent.set(id, (byEvent.get(id) ?? new Set()).add(String(q.headers['webhook-id'])));
    }
    for (const set of byEvent.values()) expect(set.size).toBe(1);
  });
});

describe('a half-filled batch across a SIGKILL', () => {
  it('is sent once, whole, after the restart', { timeout: 60_000 }, async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hookline-batch-crash-'));
    cleanups.push(async () => fs.rmSync(dataDir, { recursive: true, force: true }));
    const receiver = await startReceiver();
    cleanups.push(() => receiver.close());
    const env = {
      HOOKLINE_DATA_DIR: dataDir,
      HOOKLINE_ADMIN_KEY: ROOT,
      HOOKLINE_ALLOW_PRIVATE_TARGETS: 'true',
      HOOKLINE_POLL_INTERVAL_MS: '100',
    };
    let proc: HooklineProcess = await startHookline(env);
    cleanups.push(() => proc.kill('SIGKILL'));
    const tenant = await api(proc.base ?? '', ROOT, 'POST', '/v1/tenants', { name: 'batch' });
    const key = String(
      (
        await api(
          proc.base ?? '',
          ROOT,
          'POST',
          '/v1/api-keys',
          { name: 'k', roles: ['admin'] },
          { 'x-tenant-id': String(tenant.body?.id) },
        )
      ).body?.key,
    );
    const hook = await api(proc.base ?? '', key, 'POST', '/v1/webhooks', {
      url: receiver.url,
      eventTypes: ['*'],
      maxBatchSize: 50,
      maxBatchTimeDelay: 3000,
    });
    expect(hook.status).toBe(201);
    const ids = await publishMany(proc.base ?? '', key, 10);
    await proc.kill('SIGKILL');
    expect(receiver.received).toHaveLength(0);
    proc = await startHookline(env);
    await waitUntil(() => receiver.received.length >= 1, 20_000, 'the batch after restart');
    await new Promise((r) => setTimeout(r, 500));
    expect(receiver.received).toHaveLength(1);
    const batch = JSON.parse(receiver.received[0]?.body ?? '{}') as { events: Array<{ id: string }> };
    expect(batch.events.map((e) => e.id).sort()).toEqual([...ids].sort());
  });
});

describe.skipIf(!pgOk)('two worker processes on one PostgreSQL', () => {
  it('deliver a batch with no event missing and no delivery sent twice', { timeout: 90_000 }, async () => {
    const db: TestDatabase = await createTestDatabase('postgres');
    cleanups.push(() => db.drop());
    if (db.target.kind !== 'postgres') throw new Error('expected postgres');
    const receiver = await startReceiver();
    cleanups.push(() => receiver.close());
    const env = {
      HOOKLINE_DATABASE_URL: db.target.url,
      HOOKLINE_DATA_DIR: db.dataDir,
      HOOKLINE_ADMIN_KEY: ROOT,
      HOOKLINE_ALLOW_PRIVATE_TARGETS: 'true',
      HOOKLINE_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
    };
    const apiProc = await startHookline(env, 'api');
    cleanups.push(() => apiProc.kill('SIGTERM'));
    const w1 = await startHookline(env, 'worker');
    cleanups.push(() => w1.kill('SIGTERM'));
    const w2 = await startHookline(env, 'worker');
    cleanups.push(() => w2.kill('SIGTERM'));
    const key = await setup(apiProc.base ?? '', receiver.url);
    const ids = await publishMany(apiProc.base ?? '', key, 400);
    await waitUntil(() => ids.every((id) => eventIdsReceived(receiver).has(id)), 60_000, 'all events');
    await new Promise((r) => setTimeout(r, 300));
    const perDelivery = new Map<string, number>();
    for (const q of receiver.received) {
      const id = String(q.headers['webhook-id']);
      perDelivery.set(id, (perDelivery.get(id) ?? 0) + 1);
    }
    expect(perDelivery.size).toBe(400);
    expect([...perDelivery.values()].every((n) => n === 1)).toBe(true);
  });
});
