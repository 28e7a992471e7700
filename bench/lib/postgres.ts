/**
 * A fresh PostgreSQL database per run, created next to the one `--database-url` names and dropped afterwards, so runs
 * never see each other's queue. When the user may not create databases, the given one is used as it is.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Ctx } from './context.js';

export interface TempDatabase {
  url: string;
  drop(): Promise<void>;
}

export async function createTempDatabase(ctx: Ctx, adminUrl: string): Promise<TempDatabase> {
  const name = `hookline_bench_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
  try {
    await admin.connect();
    await admin.query(`create database ${name}`);
  } catch (err) {
    ctx.log(`  could not create a scratch database (${String(err)}); using ${redact(adminUrl)} as it is`);
    return { url: adminUrl, drop: async () => {} };
  } finally {
    await admin.end().catch(() => {});
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const drop = ctx.res.defer(`database ${name}`, async () => {
    const c = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
    await c.connect();
    try {
      await c
        .query(`drop database if exists ${name} with (force)`)
        .catch(() => c.query(`drop database if exists ${name}`));
    } finally {
      await c.end();
    }
  });
  return { url: url.toString(), drop };
}

export function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):([^@/]*)@/, '//$1:****@');
}
