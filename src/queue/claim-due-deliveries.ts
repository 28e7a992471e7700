/**
 * Claims due deliveries for one worker: pending rows whose time has come, oldest first, marked `delivering` with a
 * lease. Steps:
 *   1. read a window of the oldest due candidates (no locks) and choose at most `limit`, no webhook beyond what it may
 *      still hold here (`perWebhookHold` minus `held`) — one slow endpoint never fills the worker;
 *   2. when the window was crowded out by webhooks already holding all they may, look past them: find other webhooks
 *      with due work through the webhooks table (one index probe per webhook, whatever the size of the crowding
 *      backlog) and take their oldest — so a backlog never delays another webhook's deliveries;
 *   3. lease the chosen rows with one UPDATE. On PostgreSQL its inner select takes `FOR UPDATE SKIP LOCKED`, so a
 *      row another worker is claiming at the same moment is passed over instead of waited for; `status = 'pending'`
 *      is re-checked, so no row is ever leased twice. SQLite runs one writer at a time, so the update is exclusive.
 *
 * FIFO webhooks: a delivery is a candidate only when no earlier delivery of its webhook is unfinished (pending or
 * delivering; with "block", failed too), so exactly one is in flight and they go out in publish order.
 * Batches: claiming an open batch closes it; later events start a new batch.
 */
import type { Kysely, Selectable } from 'kysely';
import type { Db, DirectSql } from '../db/connect.js';
import { STATUS_SQL } from '../db/delivery-status-sql.js';
import { RawStatement, withDirect } from '../db/raw-sql.js';
import type { Database, DeliveriesTable } from '../db/schema.js';

/**
 * What running a claimed delivery needs of its row, and all a claim returns: every column of each of a claim's
 * rows cost about 4 µs a row on SQLite, a third of the claim.
 */
export const CLAIMED_COLUMNS = [
  'id',
  'tenant_id',
  'mode',
  'webhook_id',
  'event_id',
  'attempts',
  'next_trigger',
  'last_attempt_id',
] as const;
export type DeliveryRow = Pick<Selectable<DeliveriesTable>, (typeof CLAIMED_COLUMNS)[number]>;

export interface ClaimOptions {
  workerId: string;
  limit: number;
  now: number;
  leaseMs: number;
  /** Deliveries this worker holds (running or prefetched), by webhook. */
  held: ReadonlyMap<string, number>;
  /** The most one webhook may hold in this worker. */
  perWebhookHold: number;
  /** Held webhooks likely to have more due work (they filled their hold): topped up first, by their own index. */
  topUp?: ReadonlySet<string>;
  /**
   * Whether a crowded window may look past the webhooks crowding it (step 2 below). That probe walks the webhooks
   * table, so the caller allows it a few times a second, not on every claim. Default true.
   */
  lookPast?: boolean;
  /**
   * Whether to look for other webhooks' due work at all (steps 2 and 3 below), or only top up `topUp`. A caller that
   * just found none, and has heard of no new work since, skips them for a while. Default true.
   */
  others?: boolean;
}

/** Candidates read per slot in the first window (bounded: a crowded window is what step 2 is for). */
const CANDIDATES_PER_SLOT = 2;
const MAX_CANDIDATES = 400;
/** Other webhooks looked at when the window is crowded out. */
const MAX_OTHER_WEBHOOKS = 100;
/** Held webhooks topped up by their own index per claim. */
export const MAX_TOP_UPS = 20;
/** Held webhooks left out of the window in SQL, at most. */
const MAX_EXCLUDED = 50;

/**
 * FIFO: no earlier unfinished delivery of the same webhook (or, with "block", no earlier failed one). One probe per
 * status, each by that status's partial index.
 */
function earlier(status: 'pending' | 'delivering' | 'failed'): string {
  return (
    'EXISTS (SELECT earlier.id FROM deliveries AS earlier WHERE earlier.webhook_id = deliveries.webhook_id ' +
    `AND earlier.status = '${status}' AND earlier.id < deliveries.id)`
  );
}
const FIFO_HEAD_ONLY =
  `(deliveries.ordering = 0 OR (NOT ${earlier('pending')} AND NOT ${earlier('delivering')} ` +
  `AND (deliveries.ordering <> 2 OR NOT ${earlier('failed')})))`;

/**
 * Due pending deliveries, FIFO heads only, as hand-written SQL. The claim runs several times a second with a text
 * that never changes, and building it with Kysely each time cost more than running it (profile of the throughput
 * bench: a tenth of the main thread). `status = 'pending'` is written as the partial indexes' condition, a literal.
 */
function dueCandidates(
  db: Db,
  now: number,
  columns = 'id, webhook_id',
  q = new RawStatement(db.dialect),
): RawStatement {
  return q
    .text(`SELECT ${columns} FROM deliveries WHERE status = 'pending' AND next_attempt_at <= `)
    .param(now)
    .text(` AND ${FIFO_HEAD_ONLY}`);
}

type Candidate = { id: string; webhook_id: string };

export async function claimDueDeliveries(db: Db, o: ClaimOptions): Promise<DeliveryRow[]> {
  if (o.limit <= 0) return [];
  // On SQLite every statement below runs synchronously, holding the connection for the whole claim.
  return withDirect(db, (k, direct) => claimWith(db, k, direct, o));
}

async function claimWith(
  db: Db,
  k: Kysely<Database>,
  direct: DirectSql | null,
  o: ClaimOptions,
): Promise<DeliveryRow[]> {
  const read = async (q: RawStatement) => (await q.run<Candidate>(k, direct)).rows;
  const taken = new Map(o.held);
  const chosen: string[] = [];
  let crowded = false;
  const picked = new Set<string>();
  const choose = (rows: Candidate[]) => {
    for (const c of rows) {
      if (chosen.length >= o.limit) return;
      if (picked.has(c.id)) continue;
      const n = taken.get(c.webhook_id) ?? 0;
      if (n >= o.perWebhookHold) {
        crowded = true;
        continue;
      }
      taken.set(c.webhook_id, n + 1);
      chosen.push(c.id);
      picked.add(c.id);
    }
  };

  // 1. Webhooks this worker already holds and that have room (their prefetch ran low): their own oldest due rows, by
  //    the per-webhook index — exactly what they may take, without reading past their backlog.
  const topUp = [...(o.topUp ?? [])]
    .filter((id) => (o.held.get(id) ?? 0) <= o.perWebhookHold / 2)
    .slice(0, MAX_TOP_UPS);
  for (const webhookId of topUp) {
    const room = Math.min(o.perWebhookHold - (taken.get(webhookId) ?? 0), o.limit - chosen.length);
    if (room <= 0) continue;
    choose(
      await read(
        dueCandidates(db, o.now)
          .text(' AND webhook_id = ')
          .param(webhookId)
          .text(' ORDER BY next_attempt_at LIMIT ')
          .param(room),
      ),
    );
  }

  // 2. The oldest due rows of other webhooks. The window is cut in SQL, then webhooks that may take no more are left
  //    out of it there too: a full webhook's backlog never comes back to this process just to be skipped.
  const window = Math.min(MAX_CANDIDATES, o.limit * CANDIDATES_PER_SLOT);
  // Left out: webhooks that may take no more, and those just topped up (what they may still take was read above).
  // Only when few: a long NOT IN list costs more than it saves.
  const excluded = [...taken].filter(([id, n]) => n >= o.perWebhookHold || topUp.includes(id)).map(([id]) => id);
  const heldIds = excluded.length <= MAX_EXCLUDED ? excluded : [];
  const oldest = (q?: RawStatement) =>
    dueCandidates(db, o.now, 'id, webhook_id, next_attempt_at', q)
      .text(' ORDER BY next_attempt_at LIMIT ')
      .param(window);
  if (chosen.length < o.limit && o.others !== false) {
    choose(
      await read(
        heldIds.length === 0
          ? oldest()
          : oldest(new RawStatement(db.dialect).text('SELECT w.id, w.webhook_id FROM ('))
              .text(') AS w WHERE ')
              .inList('w.webhook_id', heldIds, true)
              .text(' ORDER BY w.next_attempt_at'),
      ),
    );
  }
  // Webhooks were left out of the window: others may wait behind their backlog.
  if (heldIds.length > 0) crowded = true;

  if (chosen.length < o.limit && crowded && o.lookPast !== false && o.others !== false) {
    const full = [...taken].filter(([, n]) => n >= o.perWebhookHold).map(([id]) => id);
    const others = new RawStatement(db.dialect)
      .text('SELECT webhooks.id FROM webhooks WHERE EXISTS (SELECT deliveries.id FROM deliveries ')
      .text(
        "WHERE deliveries.webhook_id = webhooks.id AND deliveries.status = 'pending' AND deliveries.next_attempt_at <= ",
      )
      .param(o.now)
      .text(')');
    if (full.length > 0) others.text(' AND ').inList('webhooks.id', full, true);
    others.text(' LIMIT ').param(MAX_OTHER_WEBHOOKS);
    const ids = (await others.run<{ id: string }>(k, direct)).rows.map((w) => w.id);
    if (ids.length > 0) {
      choose(
        await read(
          dueCandidates(db, o.now)
            .text(' AND ')
            .inList('webhook_id', ids)
            .text(' ORDER BY next_attempt_at LIMIT ')
            .param(window),
        ),
      );
    }
  }
  if (chosen.length === 0) return [];

  // Only `id IN (…)` on the outer UPDATE: a `status` condition there lets SQLite's planner scan every pending row by
  // the status index instead of probing the chosen ids. The inner select re-checks `pending` (after the lock, on
  // PostgreSQL) — as `status || ''`, not `status`: given a plain status condition SQLite's planner walks every
  // pending row of the status indexes instead of probing the chosen ids (measured: 2 ms instead of 0.1 ms per claim
  // with a 20 000-row backlog). The expression hides the column from the planner; PostgreSQL probes the ids either way.
  const update = new RawStatement(db.dialect)
    .text("UPDATE deliveries SET status = 'delivering', lease_owner = ")
    .param(o.workerId)
    .text(', lease_expires_at = ')
    .param(o.now + o.leaseMs)
    .text(', updated_at = ')
    .param(o.now)
    .text(', batch_open = 0 WHERE id IN (SELECT id FROM deliveries WHERE ')
    .inList('id', chosen)
    .text(" AND status || '' = 'pending'")
    .text(db.capabilities.skipLocked ? ' FOR UPDATE SKIP LOCKED' : '')
    .text(`) RETURNING ${CLAIMED_COLUMNS.join(', ')}`);
  return (await update.run<DeliveryRow>(k, direct)).rows;
}

/** When the next pending delivery falls due, so an idle worker sleeps exactly that long (bounded by its poll). */
export async function nextDueAt(db: Db): Promise<number | null> {
  const q = new RawStatement(db.dialect).text(
    "SELECT MIN(next_attempt_at) AS due FROM deliveries WHERE status = 'pending'",
  );
  const row = (await withDirect(db, (k, direct) => q.run<{ due: number | string | null }>(k, direct))).rows[0];
  return row?.due == null ? null : Number(row.due);
}

/**
 * A live worker keeps its claims: its leases are pushed out while it runs (or holds) them, so a prefetched delivery
 * waiting behind a slow endpoint is not taken for abandoned. A worker that dies stops renewing, and its leases expire.
 * In chunks, with a turn of the event loop between them: a worker may hold tens of thousands (hand-overs, `WorkerLoop`),
 * and one statement for all of them would hold the database, and this process, for a noticeable time.
 */
export async function renewLeases(db: Db, workerId: string, until: number): Promise<number> {
  let renewed = 0;
  for (;;) {
    const res = await db.kysely
      .updateTable('deliveries')
      .set({ lease_expires_at: until })
      .where('id', 'in', (eb) =>
        eb
          .selectFrom('deliveries')
          .select('id')
          .where('status', '=', STATUS_SQL.delivering)
          .where('lease_owner', '=', workerId)
          // Not yet renewed by this round (nor leased after it began).
          .where('lease_expires_at', '<', until)
          .limit(RENEW_CHUNK),
      )
      .executeTakeFirst();
    const n = Number(res.numUpdatedRows);
    renewed += n;
    if (n < RENEW_CHUNK) return renewed;
    await new Promise((resolve) => setImmediate(resolve));
  }
}
const RENEW_CHUNK = 1_000;

/** Gives claimed, never-started deliveries back to the queue, due now (a worker stopping cleanly). */
export async function releaseClaims(db: Db, workerId: string, ids: string[], now: number): Promise<void> {
  for (let i = 0; i < ids.length; i += 500) {
    await db.kysely
      .updateTable('deliveries')
      .set({ status: 'pending', lease_owner: null, lease_expires_at: null, updated_at: now })
      .where('id', 'in', ids.slice(i, i + 500))
      .where('lease_owner', '=', workerId)
      .where('status', '=', 'delivering')
      .execute();
  }
}

/**
 * Hands back deliveries whose worker died: a `delivering` row past its lease goes back to `pending`, due now.
 * Run by every worker from time to time; the update is idempotent, so several running it at once is harmless.
 */
export async function reclaimExpiredLeases(db: Db, now: number): Promise<number> {
  const res = await db.kysely
    .updateTable('deliveries')
    .set({ status: 'pending', lease_owner: null, lease_expires_at: null, next_attempt_at: now, updated_at: now })
    .where('status', '=', STATUS_SQL.delivering)
    .where('lease_expires_at', '<', now)
    .executeTakeFirst();
  return Number(res.numUpdatedRows);
}
