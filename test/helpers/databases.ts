/**
 * The databases a suite runs on: a fresh SQLite file, and a fresh PostgreSQL database (created for the suite and dropped
 * after). On a laptop without PostgreSQL the PostgreSQL half is skipped with a plain message; in CI, or when
 * HOOKLINE_TEST_DATABASE_URL is set, an unreachable PostgreSQL is a failure.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export type DialectName = 'sqlite' | 'postgres';
export type DatabaseTarget = { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string };

export interface TestDatabase {
  target: DatabaseTarget;
  dataDir: string;
  drop(): Promise<void>;
}

const explicitUrl = process.env.HOOKLINE_TEST_DATABASE_URL;
const PG_ADMIN_URL = explicitUrl ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const pgRequired = explicitUrl !== undefined || process.env.CI === 'true' || process.env.CI === '1';

let pgAvailable: Promise<boolean> | undefined;

export function postgresAvailable(): Promise<boolean> {
  pgAvailable ??= (async () => {
    const client = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 2000 });
    try {
      await client.connect();
      await client.query('select 1');
      return true;
    } catch (e) {
      if (pgRequired) {
        throw new Error(
          `PostgreSQL is required here (CI or HOOKLINE_TEST_DATABASE_URL) but unreachable at ${PG_ADMIN_URL}: ${String(e)}`,
        );
      }
      process.stderr.write(
        `\n[hookline tests] PostgreSQL not reachable at ${PG_ADMIN_URL}: the PostgreSQL half of the suite is SKIPPED.\n`,
      );
      return false;
    } finally {
      await client.end().catch(() => {});
    }
  })();
  return pgAvailable;
}

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'hookline-test-'));
}

export async function createTestDatabase(dialect: DialectName): Promise<TestDatabase> {
  const dataDir = tempDir();
  if (dialect === 'sqlite') {
    return {
      target: { kind: 'sqlite', file: path.join(dataDir, 'hookline.db') },
      dataDir,
      async drop() {
        fs.rmSync(dataDir, { recursive: true, force: true });
      },
    };
  }
  const name = `hookline_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    target: { kind: 'postgres', url: url.toString() },
    dataDir,
    async drop() {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export const DIALECTS: DialectName[] = ['sqlite', 'postgres'];
