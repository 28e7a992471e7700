/**
 * Puts deliveries back to wait without a call (their webhook's circuit is open, or it is disabled), in groups: when a
 * circuit opens, every delivery the worker holds for that webhook comes here in the same moment, and one UPDATE per
 * group replaces one per delivery — which, run back to back, held up every other webhook's calls.
 */
import type { Db } from '../db/connect.js';

interface Waiting {
  id: string;
  workerId: string | null;
  until: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

const CHUNK = 500;

export class DeliveryParker {
  private pending: Waiting[] = [];
  private scheduled = false;

  constructor(
    private readonly db: Db,
    private readonly now: () => number,
  ) {}

  /** Pending again, due at `until`; with `workerId`, only while that worker still holds the lease. */
  park(id: string, workerId: string | null, until: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ id, workerId, until, resolve, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => void this.flush());
    });
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    const batch = this.pending.splice(0);
    const groups = new Map<string, Waiting[]>();
    for (const w of batch) {
      const key = `${w.workerId ?? ''}\u0000${w.until}`;
      const list = groups.get(key);
      if (list === undefined) groups.set(key, [w]);
      else list.push(w);
    }
    const now = this.now();
    for (const group of groups.values()) {
      const first = group[0];
      if (first === undefined) continue;
      try {
        for (let i = 0; i < group.length; i += CHUNK) {
          let q = this.db.kysely
            .updateTable('deliveries')
            .set({
              status: 'pending',
              next_attempt_at: first.until,
              lease_owner: null,
              lease_expires_at: null,
              updated_at: now,
            })
            .where(
              'id',
              'in',
              group.slice(i, i + CHUNK).map((w) => w.id),
            );
          if (first.workerId !== null) q = q.where('lease_owner', '=', first.workerId);
          await q.execute();
        }
        for (const w of group) w.resolve();
      } catch (err) {
        for (const w of group) w.reject(err);
      }
    }
  }
}
