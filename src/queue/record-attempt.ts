/**
 * Writes the results of HTTP attempts: the attempt rows, each delivery's next state, and each webhook's statistics,
 * last calls, circuit breaker and (when due) automatic disabling — in one transaction, so the statistics can never
 * drift from the attempt log.
 *
 * Group commit: results that arrive together share one transaction. The `AttemptRecorder` queues them for up to
 * `RECORD_WINDOW_MS` (or until `maxBatch` are waiting) and flushes them at once; each caller's promise settles when its
 * result is committed. One transaction per 100 attempts instead of 100 is most of the worker's database cost.
 */
import type { Kysely, Selectable } from 'kysely';
import type { Db } from '../db/connect.js';
import { toJson } from '../db/json.js';
import { directIn, insertRows, RawStatement, type SqlType } from '../db/raw-sql.js';
import type { AttemptsTable, Database } from '../db/schema.js';
import { type Circuit, type CircuitPolicy, recordFailure, recordSuccess } from '../domain/circuit-breaker.js';
import { newId } from '../domain/ids.js';
import { SYSTEM_ACTOR } from '../domain/principal.js';

export type AttemptRow = Selectable<AttemptsTable>;

export interface CallRecord {
  success: boolean;
  callTime: string;
  responseTime: string | null;
  httpStatusCode: number | null;
  reasonPhrase: string | null;
  headers: Record<string, string>;
  error: string | null;
  response: unknown;
}

export interface AttemptResult {
  attempt: AttemptRow;
  workerId: string | null;
  next: { status: 'succeeded' | 'pending' | 'failed'; nextAttemptAt: number };
  success: boolean;
  /** False for answers that say "slow down" rather than "broken" (429): they do not move the circuit breaker. */
  countsAsFailure: boolean;
  /** Set when this outcome disables the webhook at once (410 Gone). */
  disableReason: 'gone' | null;
  /**
   * The call as a webhook's last call shows it. A function: only a webhook's latest result of a recording group is
   * shown (and its latest success and failure), so the others are never built.
   */
  call: () => CallRecord;
  /** When the call finished: the time the webhook's health is judged at. */
  finishedAt: number;
}

export interface HealthPolicy {
  circuit: CircuitPolicy;
  autoDisableAfterMs: number;
}

const INSERT_CHUNK = 200;

/**
 * How long a result may wait for others to share its commit. A call's slot is freed when the call ends, not when it is
 * recorded (`WorkerLoop`), so this delays only the attempt log, never the next call: the receiver sees no difference.
 * A commit costs about as much as writing 20 attempts (its WAL frames, the webhooks' health rows read and written
 * once per group), so at 3 000 results/s a 1 ms window wrote groups of about 17 and a 10 ms one groups of 30-60.
 */
const RECORD_WINDOW_MS = 10;

/** Records a group of results in one transaction. */
export async function recordAttempts(db: Db, results: AttemptResult[], policy: HealthPolicy): Promise<void> {
  if (results.length === 0) return;
  await db.kysely.transaction().execute(async (trx) => {
    await insertRows(
      trx,
      db,
      'attempts',
      ATTEMPT_COLUMNS,
      results.map((r) => r.attempt),
      INSERT_CHUNK,
    );
    // One UPDATE per worker (lease owner) and chunk, with per-row values chosen by CASE: a statement per delivery
    // cost more than everything else the group commit does. CAST keeps PostgreSQL's parameter typing happy and is a
    // no-op on SQLite.
    for (const [owner, rs] of groupBy(results, (r) => r.workerId)) {
      for (let i = 0; i < rs.length; i += 100) await updateDeliveries(trx, db, owner, rs.slice(i, i + 100));
    }
    const byWebhook = groupBy(results, (r) => r.attempt.webhook_id);
    // One read for every webhook of the group, locking their rows in id order on PostgreSQL so two workers' groups
    // cannot deadlock on each other; then one write each. On SQLite (one writer at a time, no row locks to order) a
    // webhook whose results all succeeded is not read: its new health does not depend on the old (a success closes
    // the circuit and ends a failing streak), and its write matches no row if it was deleted meanwhile.
    const ids = [...byWebhook.keys()].sort();
    const mustRead = (rs: AttemptResult[]) => db.capabilities.skipLocked || rs.some((r) => !r.success);
    const toRead = ids.filter((id) => mustRead(byWebhook.get(id) ?? []));
    const health = new Map<string, WebhookHealthRow>();
    for (let i = 0; i < toRead.length; i += 500) {
      let q = trx
        .selectFrom('webhooks')
        .select([
          'id',
          'tenant_id',
          'circuit_state',
          'circuit_failure_count',
          'circuit_opened_at',
          'failing_since',
          'status',
          'audit',
          'version',
        ])
        .where('id', 'in', toRead.slice(i, i + 500))
        .orderBy('id');
      if (db.capabilities.skipLocked) q = q.forUpdate();
      for (const w of await q.execute()) health.set(w.id, w);
    }
    for (const id of ids) {
      const rs = byWebhook.get(id) ?? [];
      const w = mustRead(rs) ? health.get(id) : unreadHealth(id, rs);
      // A webhook deleted meanwhile, or (never expected) another tenant's: nothing to update.
      if (w === undefined || w.tenant_id !== rs[0]?.attempt.tenant_id) continue;
      await updateWebhookHealth(trx, db, w, rs, policy);
    }
  });
}

/** Every column of an attempt row: a record, so the compiler notices a column added to the table but not here. */
const ATTEMPT_COLUMNS: Record<keyof AttemptRow, SqlType> = {
  id: 'text',
  tenant_id: 'text',
  mode: 'text',
  delivery_id: 'text',
  webhook_id: 'text',
  event_id: 'text',
  url: 'text',
  trigger: 'text',
  parent_attempt_id: 'text',
  attempt_number: 'integer',
  status: 'text',
  requested_at: 'bigint',
  request_headers: 'text',
  request_body: 'text',
  response_status: 'integer',
  reason_phrase: 'text',
  response_headers: 'text',
  response_body: 'text',
  elapsed_ms: 'integer',
  error: 'text',
};
async function updateDeliveries(trx: Kysely<Database>, db: Db, owner: string | null, rs: AttemptResult[]) {
  const direct = directIn(trx, db);
  if (direct !== null) {
    // In-process: a statement per delivery, one text for all (see raw-sql.ts).
    const text =
      'UPDATE deliveries SET status = ?, next_attempt_at = ?, last_attempt_id = ?, last_attempt_at = ?, ' +
      "last_attempt_status = ?, updated_at = ?, attempts = attempts + 1, next_trigger = 'retry', lease_owner = NULL, " +
      `lease_expires_at = NULL WHERE id = ?${owner === null ? '' : ' AND lease_owner = ?'}`;
    for (const r of rs) {
      const params: unknown[] = [
        r.next.status,
        r.next.nextAttemptAt,
        r.attempt.id,
        r.attempt.requested_at,
        r.attempt.response_status,
        r.finishedAt,
        r.attempt.delivery_id,
      ];
      if (owner !== null) params.push(owner);
      direct.run(text, params);
    }
    return;
  }
  // PostgreSQL: one statement of fixed text for the whole group, the rows' values passed as arrays and joined by id.
  // (A CASE per column, choosing each row's value by id, had a text per group size and 13 parameters a row for the
  // server to parse and plan.)
  const columns: Array<[string, SqlType, (r: AttemptResult) => unknown]> = [
    ['id', 'text', (r) => r.attempt.delivery_id],
    ['status', 'text', (r) => r.next.status],
    ['next_attempt_at', 'bigint', (r) => r.next.nextAttemptAt],
    ['last_attempt_id', 'text', (r) => r.attempt.id],
    ['last_attempt_at', 'bigint', (r) => r.attempt.requested_at],
    ['last_attempt_status', 'integer', (r) => r.attempt.response_status],
    ['updated_at', 'bigint', (r) => r.finishedAt],
  ];
  const set = columns.slice(1).map(([name]) => `${name} = v.${name}`);
  const q = new RawStatement(db.dialect)
    .text(`UPDATE deliveries AS d SET ${set.join(', ')}, attempts = d.attempts + 1, next_trigger = 'retry', `)
    .text('lease_owner = NULL, lease_expires_at = NULL FROM ')
    .unnest(columns.map(([, type, value]) => ({ type, values: rs.map(value) })))
    .text(` AS v(${columns.map(([name]) => name).join(', ')}) WHERE d.id = v.id`);
  // A worker that lost its lease (it stalled past expiry) must not overwrite the new owner's state.
  if (owner !== null) q.text(' AND d.lease_owner = ').param(owner);
  await q.run(trx);
}

/**
 * Applies one webhook's results, in order, to its statistics, last calls and circuit: one read (none on SQLite when
 * all succeeded: `unreadHealth`), one write.
 */
interface WebhookHealthRow {
  id: string;
  tenant_id: string;
  circuit_state: string;
  circuit_failure_count: number;
  circuit_opened_at: number | null;
  failing_since: number | null;
  status: string;
  audit: string;
  version: number;
}

/**
 * The health row of a webhook that was not read because all its results succeeded: none of its fields but the id and
 * tenant (the write's WHERE) affect the outcome, and the write is conditional on them.
 */
function unreadHealth(id: string, rs: AttemptResult[]): WebhookHealthRow | undefined {
  const first = rs[0];
  if (first === undefined) return undefined;
  return {
    id,
    tenant_id: first.attempt.tenant_id,
    circuit_state: 'closed',
    circuit_failure_count: 0,
    circuit_opened_at: null,
    failing_since: null,
    status: 'enabled',
    audit: '{}',
    version: 0,
  };
}

function groupBy<K>(results: AttemptResult[], keyOf: (r: AttemptResult) => K): Map<K, AttemptResult[]> {
  const out = new Map<K, AttemptResult[]>();
  for (const r of results) {
    const k = keyOf(r);
    const list = out.get(k);
    if (list === undefined) out.set(k, [r]);
    else list.push(r);
  }
  return out;
}

async function updateWebhookHealth(
  trx: Kysely<Database>,
  db: Db,
  w: WebhookHealthRow,
  rs: AttemptResult[],
  policy: HealthPolicy,
) {
  const first = rs[0];
  const last = rs[rs.length - 1];
  if (first === undefined || last === undefined) return;

  let circuit: Circuit = {
    state: w.circuit_state as Circuit['state'],
    failureCount: w.circuit_failure_count,
    openedAt: w.circuit_opened_at,
  };
  let failingSince = w.failing_since;
  let disable: { reason: string; at: number } | null = null;
  let successes = 0;
  let failures = 0;
  let sinceSuccessReset = false;
  let failuresAfterLastSuccess = 0;
  let lastSuccess: AttemptResult | null = null;
  let lastFailure: AttemptResult | null = null;
  for (const r of rs) {
    if (r.success) {
      successes++;
      sinceSuccessReset = true;
      failuresAfterLastSuccess = 0;
      lastSuccess = r;
      circuit = recordSuccess(circuit);
      failingSince = null;
    } else {
      failures++;
      failuresAfterLastSuccess++;
      lastFailure = r;
      if (r.countsAsFailure) circuit = recordFailure(circuit, policy.circuit, r.finishedAt);
      failingSince ??= r.finishedAt;
      if (disable === null && r.disableReason !== null) disable = { reason: r.disableReason, at: r.finishedAt };
      if (disable === null && r.finishedAt - failingSince >= policy.autoDisableAfterMs) {
        disable = { reason: 'failing', at: r.finishedAt };
      }
    }
  }
  const disabling = disable !== null && w.status === 'enabled';
  // Hand-built (`raw-sql.ts`): one per webhook per group, so in a wide fan-out one per delivery.
  const q = new RawStatement(db.dialect)
    .text('UPDATE webhooks SET stat_total = stat_total + ')
    .param(rs.length)
    .text(', stat_successes = stat_successes + ')
    .param(successes)
    .text(', stat_failures = stat_failures + ')
    .param(failures);
  if (sinceSuccessReset) q.text(', stat_failures_since_success = ').param(failuresAfterLastSuccess);
  else q.text(', stat_failures_since_success = stat_failures_since_success + ').param(failures);
  // The last call is also the last success or failure: serialised once.
  const lastCall = toJson(last.call());
  q.text(', last_call = ').param(lastCall);
  if (lastSuccess !== null) {
    q.text(', last_success = ').param(lastSuccess === last ? lastCall : toJson(lastSuccess.call()));
    q.text(', last_success_at = ').param(lastSuccess.finishedAt);
  }
  if (lastFailure !== null)
    q.text(', last_failure = ').param(lastFailure === last ? lastCall : toJson(lastFailure.call()));
  q.text(', circuit_state = ').param(circuit.state);
  q.text(', circuit_failure_count = ').param(circuit.failureCount);
  q.text(', circuit_opened_at = ').param(circuit.openedAt);
  q.text(', failing_since = ').param(failingSince);
  if (disabling && disable !== null) {
    q.text(', version = ').param(w.version + 1);
    q.text(", status = 'disabled', disabled_at = ").param(disable.at);
    q.text(', disabled_reason = ').param(disable.reason);
    const audit = {
      ...(JSON.parse(w.audit) as object),
      disabled: { at: new Date(disable.at).toISOString(), by: SYSTEM_ACTOR },
    };
    q.text(', audit = ').param(toJson(audit));
  }
  q.text(' WHERE id = ').param(w.id).text(' AND tenant_id = ').param(w.tenant_id);
  await q.run(trx, directIn(trx, db));
  if (disabling && disable !== null) {
    await trx
      .insertInto('webhook_versions')
      .values({
        id: newId('webhookVersion', disable.at),
        tenant_id: first.attempt.tenant_id,
        webhook_id: first.attempt.webhook_id,
        version: w.version + 1,
        action: 'disabled',
        changed_at: disable.at,
        changed_by: toJson(SYSTEM_ACTOR),
        changes: toJson({
          status: { from: 'enabled', to: 'disabled' },
          disabledReason: { from: null, to: disable.reason },
        }),
      })
      .execute();
  }
}

/**
 * Queues results and commits them in groups. A flush starts on the next turn of the event loop (so results that
 * complete together share it) or at once when `maxBatch` are waiting; one flush runs at a time.
 */
export class AttemptRecorder {
  private pending: Array<{ result: AttemptResult; resolve: () => void; reject: (e: unknown) => void }> = [];
  private flushing: Promise<void> | null = null;
  private scheduled = false;

  constructor(
    private readonly db: Db,
    private readonly policy: HealthPolicy,
    private readonly maxBatch = 200,
  ) {}

  record(result: AttemptResult): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ result, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.flushing !== null) return;
    if (this.pending.length >= this.maxBatch) {
      void this.flush();
      return;
    }
    if (this.scheduled) return;
    this.scheduled = true;
    setTimeout(() => {
      this.scheduled = false;
      void this.flush();
    }, RECORD_WINDOW_MS);
  }

  private async flush(): Promise<void> {
    if (this.flushing !== null) return;
    const group = this.pending.splice(0, this.maxBatch);
    if (group.length === 0) return;
    this.flushing = recordAttempts(
      this.db,
      group.map((g) => g.result),
      this.policy,
    ).then(
      () => {
        for (const g of group) g.resolve();
      },
      (err: unknown) => {
        for (const g of group) g.reject(err);
      },
    );
    await this.flushing;
    this.flushing = null;
    if (this.pending.length > 0) this.schedule();
  }
}
