/** A real Hookline (services + Fastify) on a real database, driven through `app.inject()`. */
import { type Config, loadConfig } from '../../src/config/config.js';
import { createCore, type Core } from '../../src/bootstrap.js';
import { DeliveryEngine } from '../../src/delivery/engine.js';
import { buildApp, type HooklineApp } from '../../src/http/app.js';
import { createTestDatabase, type DialectName, type TestDatabase } from './databases.js';

// biome-ignore lint/suspicious/noExplicitAny: response bodies are read field by field and asserted in the tests.
export type Json = any;

export const ROOT_KEY = 'hl_root_test_key_0123456789abcdef';

export interface TestApp {
  app: HooklineApp;
  core: Core;
  config: Config;
  database: TestDatabase;
  close(): Promise<void>;
  /** Stops the worker (when started with one) as a shutting-down process does, leaving the rest running. */
  stopWorker(): Promise<void>;
  /** JSON request helper: returns status, parsed body and headers. */
  call(
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT',
    url: string,
    opts?: { key?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<{ status: number; body: Json; headers: Record<string, unknown> }>;
  /** A new tenant with an admin key in live mode. */
  tenant(name?: string): Promise<{ tenantId: string; adminKey: string }>;
  key(adminKey: string, body: Record<string, unknown>): Promise<string>;
}

export async function startTestApp(
  dialect: DialectName,
  env: Record<string, string> = {},
  opts: { worker?: boolean } = {},
): Promise<TestApp> {
  const database = await createTestDatabase(dialect);
  const config = loadConfig({
    HOOKLINE_DATA_DIR: database.dataDir,
    HOOKLINE_DATABASE_URL: database.target.kind === 'postgres' ? database.target.url : `sqlite:${database.target.file}`,
    HOOKLINE_ADMIN_KEY: ROOT_KEY,
    HOOKLINE_LOG_LEVEL: 'silent',
    HOOKLINE_ALLOW_PRIVATE_TARGETS: 'false',
    ...env,
  });
  const core = await createCore(config);
  const app = await buildApp({ config, db: core.db, services: core.services });
  await app.ready();
  const engine =
    opts.worker === true
      ? new DeliveryEngine({ db: core.db, config, executor: core.executor, notifier: core.notifier, logger: app.log })
      : null;
  await engine?.start();
  if (engine !== null) core.services.publish.setLocalDispatch(engine.dispatch);

  const call: TestApp['call'] = async (method, url, opts = {}) => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.key !== undefined) headers.authorization = `Bearer ${opts.key}`;
    const res = await app.inject({
      method,
      url,
      headers,
      ...(opts.body !== undefined ? { payload: opts.body as object } : {}),
    });
    let body: unknown = res.body;
    if ((res.headers['content-type'] ?? '').toString().includes('json') && res.body !== '') body = JSON.parse(res.body);
    return { status: res.statusCode, body, headers: res.headers };
  };

  return {
    app,
    core,
    config,
    database,
    call,
    async stopWorker() {
      await engine?.stop();
    },
    async close() {
      await engine?.stop();
      await app.close();
      await core.close();
      await database.drop();
    },
    async tenant(name = 'Acme') {
      const t = await call('POST', '/v1/tenants', { key: ROOT_KEY, body: { name } });
      if (t.status !== 201) throw new Error(`tenant create failed: ${JSON.stringify(t.body)}`);
      const k = await call('POST', '/v1/api-keys', {
        key: ROOT_KEY,
        headers: { 'x-tenant-id': t.body.id },
        body: { name: 'admin', roles: ['admin'] },
      });
      if (k.status !== 201) throw new Error(`key create failed: ${JSON.stringify(k.body)}`);
      return { tenantId: t.body.id as string, adminKey: k.body.key as string };
    },
    async key(adminKey, body) {
      const k = await call('POST', '/v1/api-keys', { key: adminKey, body });
      if (k.status !== 201) throw new Error(`key create failed: ${JSON.stringify(k.body)}`);
      return k.body.key as string;
    },
  };
}
