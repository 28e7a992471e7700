import type { LookupCaches } from './lookup-cache.js';
import type { Kysely } from 'kysely';
import type { Config } from '../config/config.js';
import type { Db } from '../db/connect.js';
import { AccountsRepo } from '../db/repos/accounts-repo.js';
import { ApiKeysRepo } from '../db/repos/api-keys-repo.js';
import { AttemptsRepo } from '../db/repos/attempts-repo.js';
import { DeliveriesRepo } from '../db/repos/deliveries-repo.js';
import { EventsRepo } from '../db/repos/events-repo.js';
import { EventTypesRepo } from '../db/repos/event-types-repo.js';
import { SettingsRepo } from '../db/repos/settings-repo.js';
import { TenantsRepo } from '../db/repos/tenants-repo.js';
import { WebhooksRepo } from '../db/repos/webhooks-repo.js';
import type { Database } from '../db/schema.js';
import type { SecretBox } from '../domain/secret-box.js';

export interface Repos {
  settings: SettingsRepo;
  tenants: TenantsRepo;
  apiKeys: ApiKeysRepo;
  accounts: AccountsRepo;
  eventTypes: EventTypesRepo;
  webhooks: WebhooksRepo;
  events: EventsRepo;
  deliveries: DeliveriesRepo;
  attempts: AttemptsRepo;
}

export function createRepos(kysely: Kysely<Database>, db: Db): Repos {
  return {
    settings: new SettingsRepo(kysely),
    tenants: new TenantsRepo(kysely),
    apiKeys: new ApiKeysRepo(kysely),
    accounts: new AccountsRepo(kysely),
    eventTypes: new EventTypesRepo(kysely),
    webhooks: new WebhooksRepo(kysely, db),
    events: new EventsRepo(kysely, db),
    deliveries: new DeliveriesRepo(kysely, db),
    attempts: new AttemptsRepo(kysely),
  };
}

/** What every use case needs: the database, its repositories, the secret box, the config and a clock. */
export interface ServiceDeps {
  db: Db;
  repos: Repos;
  secretBox: SecretBox;
  config: Config;
  now: () => number;
  /** Per-request lookups (API keys, catalogue entries), up to a second stale; changes here clear them. */
  caches: LookupCaches;
}

/** Runs `fn` in one transaction with repositories bound to it: the unit of work of every use case that writes. */
export async function inTransaction<T>(deps: ServiceDeps, fn: (repos: Repos, trx: Kysely<Database>) => Promise<T>) {
  return deps.db.kysely.transaction().execute((trx) => fn(createRepos(trx, deps.db), trx));
}
