/**
 * Wakes idle workers when new work is committed, so the fast path has no polling delay.
 * In-process listeners always; on PostgreSQL also LISTEN/NOTIFY, so a publish in an API process wakes workers in
 * other processes. `pg_notify` is called inside the publishing transaction: PostgreSQL delivers it only on commit,
 * so a worker is never woken for rows it cannot see yet.
 */
import { type Kysely, sql } from 'kysely';
import type pg from 'pg';
import type { Database } from '../db/schema.js';

export const NOTIFY_CHANNEL = 'hookline_deliveries';

export class Notifier {
  private readonly listeners = new Set<() => void>();
  private client: pg.PoolClient | null = null;

  constructor(private readonly pool: pg.Pool | null) {}

  /** Tells in-process listeners at once. Cross-process notification is the publishing transaction's `pg_notify`. */
  notifyLocal(): void {
    for (const l of this.listeners) l();
  }

  /**
   * Inside a transaction: PostgreSQL delivers the NOTIFY only on commit, so workers never wake for rows they cannot
   * see yet. Call `notifyLocal()` after the commit for this process.
   */
  async notifyOnCommit(trx: Kysely<Database>): Promise<void> {
    if (this.pool !== null) await sql`select pg_notify(${NOTIFY_CHANNEL}, '')`.execute(trx);
  }

  /**
   * Wakes workers everywhere after a change committed outside a publish (manual attempt, recover, enable): a
   * `pg_notify` for other processes on PostgreSQL, and this process's listeners.
   */
  async wakeAll(): Promise<void> {
    if (this.pool !== null) await this.pool.query(`select pg_notify('${NOTIFY_CHANNEL}', '')`);
    this.notifyLocal();
  }

  onWake(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Opens the LISTEN connection (PostgreSQL only). */
  async listen(onError: (err: unknown) => void): Promise<void> {
    if (this.pool === null || this.client !== null) return;
    const client = await this.pool.connect();
    client.on('notification', () => this.notifyLocal());
    client.on('error', onError);
    await client.query(`LISTEN ${NOTIFY_CHANNEL}`);
    this.client = client;
  }

  async close(): Promise<void> {
    const c = this.client;
    this.client = null;
    if (c !== null) {
      await c.query(`UNLISTEN ${NOTIFY_CHANNEL}`).catch(() => {});
      c.release();
    }
    this.listeners.clear();
  }
}
