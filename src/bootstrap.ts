/**
 * Composition of the parts every role needs: the database (migrated), the secret box, the repositories and the
 * services. `main.ts` adds the HTTP server and/or the worker on top; tests call this directly.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Config } from './config/config.js';
import { openDatabase, type Db } from './db/connect.js';
import { migrateToLatest } from './db/migrate.js';
import { SecretBox } from './domain/secret-box.js';
import { Authenticator, initRootKey } from './services/auth.js';
import { createLookupCaches } from './services/lookup-cache.js';
import { createRepos, type ServiceDeps } from './services/deps.js';
import { EventTypeService } from './services/event-types.js';
import { TenancyService } from './services/tenancy.js';
import { WebhookService } from './services/webhooks.js';
import type { AppServices } from './http/types.js';
import { DeliveryExecutor } from './delivery/executor.js';
import type { RequestSender } from './delivery/http-sender.js';
import { OpenedSecrets } from './delivery/opened-secrets.js';
import { ThreadedSender } from './delivery/threaded-sender.js';
import { Notifier } from './queue/notifier.js';
import { BatchService } from './services/batches.js';
import { DeliveryService } from './services/deliveries.js';
import { PublishService } from './services/publish.js';
import { ValidationService } from './services/validations.js';
import { HOOKLINE_VERSION } from './version.js';

export interface Core {
  config: Config;
  db: Db;
  deps: ServiceDeps;
  notifier: Notifier;
  sender: RequestSender;
  executor: DeliveryExecutor;
  services: AppServices;
  /** Set only on the very first start without HOOKLINE_ADMIN_KEY: the generated root key, to print once. */
  generatedRootKey: string | null;
  close(): Promise<void>;
}

/**
 * The key that encrypts webhook secrets: HOOKLINE_ENCRYPTION_KEY, or a key file created on first start in the data
 * directory (mode 0600). Processes sharing one PostgreSQL must share the key: set the variable there.
 */
export function loadEncryptionKey(config: Config): Buffer {
  if (config.encryptionKey !== null) return config.encryptionKey;
  const file = path.join(config.dataDir, 'encryption.key');
  fs.mkdirSync(config.dataDir, { recursive: true });
  try {
    fs.writeFileSync(file, randomBytes(32).toString('base64'), { flag: 'wx', mode: 0o600 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  const key = Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64');
  if (key.length !== 32) throw new Error(`${file} does not hold a 32-byte base64 key`);
  return key;
}

export async function createCore(config: Config, opts: { now?: () => number } = {}): Promise<Core> {
  const db = openDatabase(
    config.database.kind === 'postgres' ? { kind: 'postgres', url: config.database.url } : config.database,
  );
  try {
    await migrateToLatest(db.kysely);
    const repos = createRepos(db.kysely, db);
    const encryptionKey = loadEncryptionKey(config);
    const deps: ServiceDeps = {
      db,
      repos,
      secretBox: new SecretBox(encryptionKey),
      config,
      now: opts.now ?? Date.now,
      caches: createLookupCaches(opts.now ?? Date.now),
    };
    const root = await initRootKey(repos, config.adminKey);
    const notifier = new Notifier(db.pgPool);
    const senderOptions = {
      allowPrivate: config.allowPrivateTargets,
      userAgent: `Hookline/${HOOKLINE_VERSION}`,
      // Webhooks on one host share its connections: enough that several hung endpoints there (each holding at most
      // its per-webhook slots) leave room for the healthy ones.
      maxConnectionsPerOrigin: Math.max(config.delivery.connectionsPerOrigin, config.delivery.perWebhookConcurrency),
    };
    const sender = config.delivery.senderThread
      ? new ThreadedSender({
          ...senderOptions,
          lanes: { perLane: config.delivery.perWebhookConcurrency, total: config.delivery.concurrency },
        })
      : // Loaded only here: with the sender thread, undici lives on that thread alone.
        new (await import('./delivery/http-sender.js')).HttpSender(senderOptions);
    const secrets = new OpenedSecrets(deps.secretBox);
    const executor = new DeliveryExecutor({ db, sender, secrets, config, now: deps.now });
    const deliveries = new DeliveryService(deps, notifier, executor);
    const services: AppServices = {
      auth: new Authenticator(repos, root.hash, deps.caches.apiKeys),
      tenancy: new TenancyService(deps),
      webhooks: new WebhookService(deps, notifier),
      eventTypes: new EventTypeService(deps),
      publish: new PublishService(deps, notifier),
      deliveries,
      batches: new BatchService(deps, deliveries),
      validations: new ValidationService(deps, executor),
    };
    return {
      config,
      db,
      deps,
      notifier,
      sender,
      executor,
      services,
      generatedRootKey: root.generatedKey,
      async close() {
        await notifier.close();
        await sender.close();
        await db.close();
      },
    };
  } catch (e) {
    await db.close();
    throw e;
  }
}
