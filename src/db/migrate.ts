import { type Kysely, type Migration, type MigrationProvider, Migrator } from 'kysely';
import * as m001 from './migrations/001-foundation.js';
import * as m002 from './migrations/002-delivery.js';
import * as m003 from './migrations/003-batches-ordering.js';
import * as m004 from './migrations/004-claim-index.js';
import * as m005 from './migrations/005-covering-due-index.js';
import * as m006 from './migrations/006-live-queue-indexes.js';
import * as m007 from './migrations/007-attempts-by-id.js';
import type { Database } from './schema.js';

/** Migrations are listed here, not discovered on disk, so they work the same from source and from a bundle. */
const MIGRATIONS: Record<string, Migration> = {
  '001-foundation': m001,
  '002-delivery': m002,
  '003-batches-ordering': m003,
  '004-claim-index': m004,
  '005-covering-due-index': m005,
  '006-live-queue-indexes': m006,
  '007-attempts-by-id': m007,
};

class StaticProvider implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    return MIGRATIONS;
  }
}

export interface MigrationReport {
  applied: string[];
}

/** Applies every pending migration; safe to run from several processes at once (Kysely takes a lock). */
export async function migrateToLatest(db: Kysely<Database>): Promise<MigrationReport> {
  const migrator = new Migrator({ db, provider: new StaticProvider() });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error');
    const msg = error instanceof Error ? error.message : String(error);
    throw new Error(`Migration ${failed?.migrationName ?? '(unknown)'} failed: ${msg}`, { cause: error });
  }
  return { applied: (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName) };
}
