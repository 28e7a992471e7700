/** Hookline's HTTP API as the bench uses it: tenant setup, webhooks, publishing. */
import { Pool } from 'undici';
import { EVENT_TYPE_PATTERN, type BenchEvent } from './payload.js';
import type { Resources } from './processes.js';

export interface ApiAnswer {
  status: number;
  body: unknown;
}

export class ApiError extends Error {
  constructor(
    readonly what: string,
    readonly answer: ApiAnswer,
  ) {
    super(`${what}: HTTP ${answer.status} ${JSON.stringify(answer.body)?.slice(0, 500)}`);
    this.name = 'ApiError';
  }
}

export function field(body: unknown, name: string): unknown {
  return typeof body === 'object' && body !== null && name in body
    ? (body as Record<string, unknown>)[name]
    : undefined;
}

function str(body: unknown, name: string, what: string): string {
  const v = field(body, name);
  if (typeof v !== 'string') throw new Error(`${what}: answer has no string "${name}": ${JSON.stringify(body)}`);
  return v;
}

/** An HTTP client of one Hookline API process, authenticated with one key. */
export class HooklineApi {
  constructor(
    readonly pool: Pool,
    readonly key: string,
  ) {}

  /** A pool of `connections` keep-alive connections to `base`, closed with the run. */
  static pool(res: Resources, base: string, connections: number): Pool {
    const pool = new Pool(base, { connections, pipelining: 1, keepAliveTimeout: 30_000 });
    res.defer(`http pool ${base}`, () => pool.destroy());
    return pool;
  }

  withKey(key: string): HooklineApi {
    return new HooklineApi(this.pool, key);
  }

  async call(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown, headers: Record<string, string> = {}) {
    const res = await this.pool.request({
      method,
      path,
      headers: {
        authorization: `Bearer ${this.key}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.body.text();
    let parsed: unknown = text;
    try {
      parsed = text === '' ? null : (JSON.parse(text) as unknown);
    } catch {
      // Not JSON: keep the text for the error message.
    }
    return { status: res.statusCode, body: parsed } satisfies ApiAnswer;
  }

  async expect(
    status: number,
    what: string,
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    body?: unknown,
    headers = {},
  ) {
    const a = await this.call(method, path, body, headers);
    if (a.status !== status) throw new ApiError(what, a);
    return a.body;
  }
}

/** A fresh tenant with an admin key; returns the tenant-scoped client. */
export async function setupTenant(root: HooklineApi, name: string): Promise<HooklineApi> {
  const tenant = await root.expect(201, 'create tenant', 'POST', '/v1/tenants', { name });
  const tenantId = str(tenant, 'id', 'create tenant');
  const key = await root.expect(
    201,
    'create api key',
    'POST',
    '/v1/api-keys',
    { name: 'bench', roles: ['admin'] },
    { 'x-tenant-id': tenantId },
  );
  return root.withKey(str(key, 'key', 'create api key'));
}

export interface WebhookSpec {
  url: string;
  timeoutMs?: number;
  retrySchedule?: number[];
}

/** Creates the webhooks with at most `parallel` requests at a time; returns their ids in order. */
export async function createWebhooks(api: HooklineApi, specs: WebhookSpec[], parallel = 8): Promise<string[]> {
  const ids = new Array<string>(specs.length);
  let next = 0;
  const lane = async () => {
    for (;;) {
      const i = next++;
      const spec = specs[i];
      if (spec === undefined) return;
      const body = await api.expect(201, 'create webhook', 'POST', '/v1/webhooks', {
        ...spec,
        eventTypes: [EVENT_TYPE_PATTERN],
      });
      ids[i] = str(body, 'id', 'create webhook');
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, specs.length) }, lane));
  return ids;
}

/** Deletes the webhooks (so later events no longer fan out to them). */
export async function deleteWebhooks(api: HooklineApi, ids: string[]): Promise<void> {
  for (const id of ids) await api.expect(204, 'delete webhook', 'DELETE', `/v1/webhooks/${id}`);
}

/** One event through `POST /v1/events`; returns the number of deliveries Hookline created for it. */
export async function publishOne(api: HooklineApi, event: BenchEvent): Promise<number> {
  const body = await api.expect(201, 'publish', 'POST', '/v1/events', event);
  const n = field(body, 'deliveries');
  if (typeof n !== 'number') throw new Error(`publish: answer has no deliveries count: ${JSON.stringify(body)}`);
  return n;
}

/** Up to 1 000 events through `POST /v1/events/batch`; returns each event's delivery count, in order. */
export async function publishBatch(api: HooklineApi, events: BenchEvent[]): Promise<number[]> {
  const body = await api.expect(201, 'publish batch', 'POST', '/v1/events/batch', { events });
  const data = field(body, 'data');
  if (!Array.isArray(data) || data.length !== events.length)
    throw new Error(`publish batch: expected ${events.length} results, got ${JSON.stringify(body)?.slice(0, 300)}`);
  return data.map((d: unknown) => {
    const n = field(d, 'deliveries');
    if (typeof n !== 'number') throw new Error(`publish batch: a result has no deliveries count: ${JSON.stringify(d)}`);
    return n;
  });
}

/**
 * Failed attempts Hookline recorded for some of the webhooks (at most `maxWebhooks` looked at, 5 attempts each): what
 * explains a redelivery (a retry follows a failed attempt) or a loss. One line per attempt.
 */
export async function failedAttempts(api: HooklineApi, webhookIds: string[], maxWebhooks = 5): Promise<string[]> {
  const lines: string[] = [];
  for (const id of webhookIds.slice(0, maxWebhooks)) {
    const a = await api.call('GET', `/v1/webhooks/${id}/attempts?onlyFailed=true&limit=5`);
    const data = field(a.body, 'data');
    if (a.status !== 200 || !Array.isArray(data)) {
      lines.push(`${id}: could not list attempts (HTTP ${a.status})`);
      continue;
    }
    for (const at of data as unknown[])
      lines.push(
        `${id} ${String(field(at, 'deliveryId'))} attempt #${String(field(at, 'attemptNumber'))}: ${String(field(at, 'responseStatus') ?? 'no response')}, ${String(field(at, 'error'))} (${String(field(at, 'elapsedMs'))} ms)`,
      );
  }
  return lines;
}
