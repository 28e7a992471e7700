/**
 * Writes the result of one HTTP attempt in one transaction: the attempt row, the delivery's next state, and the
 * webhook's statistics, last calls, circuit breaker and (when due) automatic disabling. Either all of it is recorded
 * or none of it — the statistics can never drift from the attempt log.
 */
import type { Kysely, Selectable } from 'kysely';
import { type Circuit, type CircuitPolicy, recordFailure, recordSuccess } from '../domain/circuit-breaker.js';
import type { AttemptsTable, Database } from '../db/schema.js';
import { toJson } from '../db/json.js';
import { newId } from '../domain/ids.js';
import { SYSTEM_ACTOR } from '../domain/principal.js';
import type { Db } from '../db/connect.js';

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
  call: CallRecord;
}

export interface HealthPolicy {
  circuit: CircuitPolicy;
  autoDisableAfterMs: number;
}

export async function recordAttempt(db: Db, r: AttemptResult, policy: HealthPolicy, now: number): Promise<void> {
  await db.kysely.transaction().execute(async (trx) => {
    await trx.insertInto('attempts').values(r.attempt).execute();
    let upd = trx
      .updateTable('deliveries')
      .set({
        status: r.next.status,
        attempts: (eb) => eb('attempts', '+', 1),
        next_attempt_at: r.next.nextAttemptAt,
        next_trigger: 'retry',
        last_attempt_id: r.attempt.id,
        last_attempt_at: r.attempt.requested_at,
        last_attempt_status: r.attempt.response_status,
        lease_owner: null,
        lease_expires_at: null,
        updated_at: now,
      })
      .where('id', '=', r.attempt.delivery_id);
    // A worker that lost its lease (it stalled past expiry) must not overwrite the new owner's state.
    if (r.workerId !== null) upd = upd.where('lease_owner', '=', r.workerId);
    await upd.execute();
    await updateWebhookHealth(trx, db, r, policy, now);
  });
}

async function updateWebhookHealth(trx: Kysely<Database>, db: Db, r: AttemptResult, policy: HealthPolicy, now: number) {
  let q = trx
    .selectFrom('webhooks')
    .select([
      'circuit_state',
      'circuit_failure_count',
      'circuit_opened_at',
      'failing_since',
      'status',
      'audit',
      'version',
    ])
    .where('id', '=', r.attempt.webhook_id)
    .where('tenant_id', '=', r.attempt.tenant_id);
  if (db.capabilities.skipLocked) q = q.forUpdate();
  const w = await q.executeTakeFirst();
  if (w === undefined) return;

  const before: Circuit = {
    state: w.circuit_state as Circuit['state'],
    failureCount: w.circuit_failure_count,
    openedAt: w.circuit_opened_at,
  };
  const circuit = r.success
    ? recordSuccess(before)
    : r.countsAsFailure
      ? recordFailure(before, policy.circuit, now)
      : before;
  const failingSince = r.success ? null : (w.failing_since ?? now);
  let disable: string | null = r.disableReason;
  if (disable === null && !r.success && failingSince !== null && now - failingSince >= policy.autoDisableAfterMs) {
    disable = 'failing';
  }
  const call = toJson(r.call);
  const disabling = disable !== null && w.status === 'enabled';
  await trx
    .updateTable('webhooks')
    .set((eb) => ({
      stat_total: eb('stat_total', '+', 1),
      stat_successes: eb('stat_successes', '+', r.success ? 1 : 0),
      stat_failures: eb('stat_failures', '+', r.success ? 0 : 1),
      stat_failures_since_success: r.success ? 0 : eb('stat_failures_since_success', '+', 1),
      last_call: call,
      ...(r.success ? { last_success: call, last_success_at: now } : { last_failure: call }),
      circuit_state: circuit.state,
      circuit_failure_count: circuit.failureCount,
      circuit_opened_at: circuit.openedAt,
      failing_since: failingSince,
      ...(disabling
        ? {
            version: w.version + 1,
            status: 'disabled',
            disabled_at: now,
            disabled_reason: disable,
            audit: toJson({
              ...(JSON.parse(w.audit) as object),
              disabled: { at: new Date(now).toISOString(), by: { type: 'system', id: null, name: 'hookline' } },
            }),
          }
        : {}),
    }))
    .where('id', '=', r.attempt.webhook_id)
    .where('tenant_id', '=', r.attempt.tenant_id)
    .execute();
  if (disabling) {
    await trx
      .insertInto('webhook_versions')
      .values({
        id: newId('webhookVersion', now),
        tenant_id: r.attempt.tenant_id,
        webhook_id: r.attempt.webhook_id,
        version: w.version + 1,
        action: 'disabled',
        changed_at: now,
        changed_by: toJson(SYSTEM_ACTOR),
        changes: toJson({ status: { from: 'enabled', to: 'disabled' }, disabledReason: { from: null, to: disable } }),
      })
      .execute();
  }
}
