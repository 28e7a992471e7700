/**
 * Executes claimed deliveries: decides whether a call may be made (webhook enabled, circuit closed or probing), makes
 * it, classifies the outcome (Outpost `messagehandler.go`: classify before acting) and records it.
 *
 * Stages: before the call (webhook gone, disabled, circuit open -> park, no attempt), the call (HttpSender never
 * throws), after the call (classify -> success / retry / final failure / gone -> recordAttempt).
 */
import type { Selectable } from 'kysely';
import type { Config } from '../config/config.js';
import type { Db } from '../db/connect.js';
import { RawStatement, withDirect } from '../db/raw-sql.js';
import { callRowsStatement, type WebhookCallRow } from '../db/repos/webhooks-repo.js';
import type { EventsTable } from '../db/schema.js';
import { beginProbe, type Circuit, circuitAllowsCall, type CircuitPolicy } from '../domain/circuit-breaker.js';
import { type EnvelopeEvent, isPlainEnvelope, PLAIN_ENVELOPE_BODY } from '../domain/envelope.js';
import { newId } from '../domain/ids.js';
import { classifyOutcome } from '../domain/outcome.js';
import { DEFAULT_RETRY_SCHEDULE_SECONDS, nextRetryDelayMs, parseRetryAfter } from '../domain/retry-schedule.js';
import { type DeliveryRow, releaseClaims } from '../queue/claim-due-deliveries.js';
import { DeliveryParker } from '../queue/park-deliveries.js';
import { AttemptRecorder, type AttemptRow, type CallRecord, type HealthPolicy } from '../queue/record-attempt.js';
import { buildBatchBody, buildBody, buildHeaders, redactHeaders } from './build-request.js';
import type { LaunchAhead, RequestSender, SendResult } from './http-sender.js';
import { noExchange } from './no-exchange.js';
import type { OpenedSecrets } from './opened-secrets.js';

export type WebhookRow = WebhookCallRow;
/** What a call needs of an event (its references and bookkeeping stay in the database). */
const CALL_EVENT_COLUMNS = ['id', 'type', 'occurred_at', 'payload', 'included', 'correlation_id'] as const;
export type EventRow = Pick<Selectable<EventsTable>, (typeof CALL_EVENT_COLUMNS)[number]>;

/** `not_sent`: the sender handed the call back unstarted (a worker stopping); the delivery was released. */
export type SkipReason = 'webhook_missing' | 'disabled' | 'circuit_open' | 'not_sent';
export type ExecuteResult = { kind: 'attempt'; attempt: AttemptRow } | { kind: 'skipped'; reason: SkipReason };

export interface Job {
  delivery: DeliveryRow;
  webhook: WebhookRow | undefined;
  /** The delivery's events in order: one, or a batch's members. Empty if they were pruned or never existed. */
  events: EventRow[];
  /** A batch delivery is sent as `{ batchId, events: [...] }`, even with one event. */
  batch: boolean;
}

/** How long deliveries of a disabled webhook wait before looking again (enable wakes them at once anyway). */
const DISABLED_RECHECK_MS = 5 * 60_000;
/** Response bodies kept in the attempt log, and in last-call objects. */
const CALL_RESPONSE_LIMIT = 4096;

export interface ExecutorDeps {
  db: Db;
  sender: RequestSender;
  /** Opens the webhooks' sealed signing secrets for the sender (which only computes the HMAC). */
  secrets: OpenedSecrets;
  config: Config;
  now: () => number;
  random?: () => number;
}

/** Calls of a webhook with a `rateLimitPerSecond` start at least this far apart (0: no limit). */
export function minIntervalMs(webhook: Pick<WebhookRow, 'rate_limit_per_second'> | undefined): number {
  const rate = webhook?.rate_limit_per_second ?? null;
  return rate === null || rate <= 0 ? 0 : 1000 / rate;
}

export class DeliveryExecutor {
  private readonly circuitPolicy: CircuitPolicy;
  private readonly health: HealthPolicy;
  private readonly recorder: AttemptRecorder;
  private readonly parker: DeliveryParker;

  constructor(private readonly deps: ExecutorDeps) {
    const d = deps.config.delivery;
    this.circuitPolicy = { failureThreshold: d.circuitFailureThreshold, cooldownMs: d.circuitCooldownSeconds * 1000 };
    this.health = { circuit: this.circuitPolicy, autoDisableAfterMs: d.autoDisableAfterHours * 3_600_000 };
    this.recorder = new AttemptRecorder(deps.db, this.health);
    this.parker = new DeliveryParker(deps.db, deps.now);
  }

  /** The sender gets ready to send (a worker starting). */
  warmUp(): Promise<void> {
    return this.deps.sender.warmUp();
  }

  /** See `RequestSender.launchAhead`. */
  get launchAhead(): LaunchAhead {
    return this.deps.sender.launchAhead;
  }

  /**
   * Loads the webhooks and events of claimed deliveries in three queries (not per delivery), written by hand like the
   * claim (`claim-due-deliveries.ts`): they run after every claim, and building them with Kysely cost more than running
   * them.
   */
  async load(claimed: DeliveryRow[]): Promise<Job[]> {
    if (claimed.length === 0) return [];
    const { db } = this.deps;
    const statement = (text: string) => new RawStatement(db.dialect).text(text);
    const { members, webhooks, events } = await withDirect(db, async (k, direct) => {
      const members = (
        await statement('SELECT delivery_id, event_id FROM delivery_events WHERE ')
          .inList(
            'delivery_id',
            claimed.map((d) => d.id),
          )
          .text(' ORDER BY delivery_id, position')
          .run<{ delivery_id: string; event_id: string }>(k, direct)
      ).rows;
      const webhookIds = [...new Set(claimed.map((d) => d.webhook_id))];
      const eventIds = [...new Set([...claimed.map((d) => d.event_id), ...members.map((m) => m.event_id)])];
      const [webhooks, events] = await Promise.all([
        callRowsStatement(db.dialect, webhookIds).run<WebhookRow>(k, direct),
        statement(`SELECT ${CALL_EVENT_COLUMNS.join(', ')} FROM events WHERE `)
          .inList('id', eventIds)
          .run<EventRow>(k, direct),
      ]);
      return { members, webhooks: webhooks.rows, events: events.rows };
    });
    const membersOf = new Map<string, string[]>();
    for (const m of members) membersOf.set(m.delivery_id, [...(membersOf.get(m.delivery_id) ?? []), m.event_id]);
    const wById = new Map(webhooks.map((w) => [w.id, w]));
    const eById = new Map(events.map((e) => [e.id, e]));
    return claimed.map((d) => {
      const ids = membersOf.get(d.id) ?? [d.event_id];
      return {
        delivery: d,
        webhook: wById.get(d.webhook_id),
        events: ids.map((id) => eById.get(id)).filter((e): e is EventRow => e !== undefined),
        batch: membersOf.has(d.id),
      };
    });
  }

  /**
   * Runs one job end to end. `workerId` is the lease owner the delivery row must still carry.
   * `once`: a synchronous one-shot call (validation webhooks): no parking and no retries — a webhook that may not be
   * called ends the delivery as skipped, and a failed call is final.
   */
  async execute(
    job: Job,
    workerId: string | null,
    opts: { once?: boolean; onCallDone?: () => void } = {},
  ): Promise<ExecuteResult> {
    const { delivery, webhook, events } = job;
    const now = this.deps.now();
    const first = events[0];
    const skip = async (reason: SkipReason, until: number): Promise<ExecuteResult> => {
      // No call is made: the slot is free for the next delivery at once (and every held delivery of an open circuit
      // reaches the parker together).
      opts.onCallDone?.();
      if (opts.once === true || reason === 'webhook_missing')
        await this.finishWithoutCall(delivery, workerId, 'failed', now);
      else await this.parker.park(delivery.id, workerId, until);
      return { kind: 'skipped', reason };
    };
    if (webhook === undefined || first === undefined || webhook.tenant_id !== delivery.tenant_id) {
      // The webhook was deleted after the claim: nothing to deliver to.
      return skip('webhook_missing', now);
    }
    if (webhook.status !== 'enabled') return skip('disabled', now + DISABLED_RECHECK_MS);
    const circuit: Circuit = {
      state: webhook.circuit_state as Circuit['state'],
      failureCount: webhook.circuit_failure_count,
      openedAt: webhook.circuit_opened_at,
    };
    const decision = circuitAllowsCall(circuit, this.circuitPolicy, now);
    if (!decision.allowed) return skip('circuit_open', decision.retryAt ?? now + this.circuitPolicy.cooldownMs);
    if (decision.probe) {
      // Claim the probe: only the worker that moves the circuit to half-open sends; the others park.
      const probe = beginProbe(circuit, now);
      const res = await this.deps.db.kysely
        .updateTable('webhooks')
        .set({ circuit_state: probe.state, circuit_opened_at: probe.openedAt })
        .where('id', '=', webhook.id)
        .where('circuit_state', '=', circuit.state)
        .where((eb) =>
          circuit.openedAt === null
            ? eb('circuit_opened_at', 'is', null)
            : eb('circuit_opened_at', '=', circuit.openedAt),
        )
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) === 0) return skip('circuit_open', now + this.circuitPolicy.cooldownMs);
    }
    const attempt = await this.call(job, webhook, first, workerId, opts);
    return attempt === null ? { kind: 'skipped', reason: 'not_sent' } : { kind: 'attempt', attempt };
  }

  /** See `RequestSender.withdraw`: a stopping worker's calls not yet started come back as `not_sent`. */
  withdraw(): void {
    this.deps.sender.withdraw();
  }

  /** A webhook row's JSON columns, parsed once for all the calls that share the row (a claim loads it once). */
  private readonly parsed = new WeakMap<WebhookRow, { include: string[]; customHeaders: Record<string, string> }>();

  private parsedColumns(webhook: WebhookRow) {
    let p = this.parsed.get(webhook);
    if (p === undefined) {
      p = {
        include: JSON.parse(webhook.include_resources) as string[],
        customHeaders: JSON.parse(webhook.headers) as Record<string, string>,
      };
      this.parsed.set(webhook, p);
    }
    return p;
  }

  /**
   * The plain envelope of an event, built once for every webhook that gets it: a publish hands over one event row for
   * all the webhooks it fans out to, so a fan-out to 10 000 webhooks builds one body, not 10 000 copies of it.
   */
  private readonly plainBodies = new WeakMap<EventRow, string>();

  private plainBody(event: EventRow): string {
    let body = this.plainBodies.get(event);
    if (body === undefined) {
      body = buildBody(envelopeOf(event), []);
      this.plainBodies.set(event, body);
    }
    return body;
  }

  /** The secrets to sign with, as stored (sealed): the current one, then one still in its grace period. */
  private sealedSecretsOf(webhook: WebhookRow, now: number): string[] {
    const secrets = [webhook.secret_enc];
    if (
      webhook.previous_secret_enc !== null &&
      webhook.previous_secret_expires_at !== null &&
      webhook.previous_secret_expires_at > now
    ) {
      secrets.push(webhook.previous_secret_enc);
    }
    return secrets;
  }

  private async call(
    job: Job,
    webhook: WebhookRow,
    event: EventRow,
    workerId: string | null,
    opts: { once?: boolean; onCallDone?: () => void },
  ) {
    const once = opts.once === true;
    const { delivery } = job;
    const cfg = this.deps.config.delivery;
    const startedAt = this.deps.now();
    const attemptId = newId('attempt', startedAt);
    const { include, customHeaders } = this.parsedColumns(webhook);
    const single = job.batch || job.events.length !== 1 ? undefined : envelopeOf(event);
    const plainBody = single !== undefined && isPlainEnvelope(single, include);
    const body = plainBody
      ? this.plainBody(event)
      : single !== undefined
        ? buildBody(single, include)
        : buildBatchBody(delivery.id, job.events.map(envelopeOf), include);
    const timestampSec = Math.floor(startedAt / 1000);
    const headers = buildHeaders(
      {
        deliveryId: delivery.id,
        attemptId,
        webhookId: webhook.id,
        eventType: job.events.length === 1 ? event.type : [...new Set(job.events.map((e) => e.type))].join(','),
        correlationId: event.correlation_id,
      },
      customHeaders,
      timestampSec,
    );
    let secrets: string[] | null = null;
    let unsigned: string | null = null;
    try {
      secrets = this.deps.secrets.open(this.sealedSecretsOf(webhook, startedAt));
    } catch (err) {
      unsigned = `request not signed: ${err instanceof Error ? err.message : String(err)}`;
    }
    // A secret that cannot be opened (the at-rest key changed, or the row is damaged): nothing is sent. It fails like a
    // connection, so the delivery is retried on its schedule while an operator puts the key right.
    const result =
      secrets === null
        ? noExchange('connection_error', unsigned)
        : await this.deps.sender.send({
            url: webhook.url,
            headers,
            body,
            timeoutMs: webhook.timeout_ms,
            maxResponseBytes: cfg.responseBodyLimitBytes,
            lane: webhook.id,
            ...(once ? {} : { minIntervalMs: minIntervalMs(webhook) }),
            sign: { msgId: delivery.id, timestampSec, secrets },
          });
    opts.onCallDone?.();
    if (result.outcome === 'not_sent') {
      // No request left: no attempt to record. The delivery goes back to the queue, due now, for the next worker (a
      // synchronous one-shot call has no later: it fails).
      if (once) await this.finishWithoutCall(delivery, workerId, 'failed', this.deps.now());
      else if (workerId !== null) await releaseClaims(this.deps.db, workerId, [delivery.id], this.deps.now());
      return null;
    }
    const finishedAt = this.deps.now();
    const retryAfterMs = parseRetryAfter(result.headers['retry-after'], finishedAt);
    const verdict = classifyOutcome({
      kind: result.outcome,
      status: result.outcome === 'response' ? result.status : null,
      retryAfterMs,
    });
    const success = verdict.result === 'success';

    let next: { status: 'succeeded' | 'pending' | 'failed'; nextAttemptAt: number };
    if (success) next = { status: 'succeeded', nextAttemptAt: finishedAt };
    else if (once) next = { status: 'failed', nextAttemptAt: finishedAt };
    else if (verdict.result === 'gone') {
      // The webhook is being disabled: the delivery waits for it to be re-enabled rather than failing.
      next = { status: 'pending', nextAttemptAt: finishedAt + DISABLED_RECHECK_MS };
    } else if (verdict.result === 'final_failure') next = { status: 'failed', nextAttemptAt: finishedAt };
    else {
      const schedule =
        webhook.retry_schedule === null
          ? DEFAULT_RETRY_SCHEDULE_SECONDS
          : (JSON.parse(webhook.retry_schedule) as number[]);
      const delay = nextRetryDelayMs({
        schedule,
        attemptsMade: delivery.attempts + 1,
        retryAfterMs: verdict.retryAfterMs,
        maxRetryAfterMs: cfg.maxRetryAfterSeconds * 1000,
        ...(this.deps.random !== undefined ? { random: this.deps.random } : {}),
      });
      next =
        delay === null
          ? { status: 'failed', nextAttemptAt: finishedAt }
          : { status: 'pending', nextAttemptAt: finishedAt + delay };
    }

    const error = result.error ?? (success ? null : verdict.reason);
    const attempt: AttemptRow = {
      id: attemptId,
      tenant_id: delivery.tenant_id,
      mode: delivery.mode,
      delivery_id: delivery.id,
      webhook_id: webhook.id,
      event_id: event.id,
      url: webhook.url,
      trigger: delivery.next_trigger,
      parent_attempt_id: delivery.last_attempt_id,
      attempt_number: delivery.attempts + 1,
      status: success ? 'succeeded' : 'failed',
      requested_at: result.startedAt,
      // As sent: with the signature the sender added (none when it could not sign, and sent nothing).
      request_headers: JSON.stringify(
        redactHeaders(headers, result.signature === undefined ? undefined : ['webhook-signature', result.signature]),
      ),
      // The plain envelope of the attempt's own event is rebuilt from the event when read, not stored again.
      request_body: plainBody ? PLAIN_ENVELOPE_BODY : body,
      response_status: result.status,
      reason_phrase: result.reasonPhrase,
      response_headers: result.headersJson ?? JSON.stringify(result.headers),
      response_body: result.body,
      elapsed_ms: Math.round(result.elapsedMs),
      error,
    };
    await this.recorder.record({
      attempt,
      workerId,
      next,
      success,
      countsAsFailure: verdict.countsAsFailure,
      disableReason: verdict.result === 'gone' ? 'gone' : null,
      call: () => callRecord(result, success, error),
      finishedAt,
    });
    // The caller (a test call, a validation) shows the attempt as sent.
    return plainBody ? { ...attempt, request_body: body } : attempt;
  }

  private async finishWithoutCall(delivery: DeliveryRow, workerId: string | null, status: 'failed', now: number) {
    let q = this.deps.db.kysely
      .updateTable('deliveries')
      .set({ status, lease_owner: null, lease_expires_at: null, updated_at: now })
      .where('id', '=', delivery.id);
    if (workerId !== null) q = q.where('lease_owner', '=', workerId);
    await q.execute();
  }
}

function envelopeOf(e: EventRow): EnvelopeEvent {
  return { id: e.id, type: e.type, occurredAt: e.occurred_at, payloadJson: e.payload, includedJson: e.included };
}

function callRecord(result: SendResult, success: boolean, error: string | null): CallRecord {
  let response: unknown = result.body;
  if (result.body !== null) {
    const text = result.body.length > CALL_RESPONSE_LIMIT ? result.body.slice(0, CALL_RESPONSE_LIMIT) : result.body;
    response = text;
    if ((result.headers['content-type'] ?? '').includes('json')) {
      try {
        response = JSON.parse(text) as unknown;
      } catch {
        // Truncated or invalid JSON: keep the text.
      }
    }
  }
  return {
    success,
    callTime: new Date(result.startedAt).toISOString(),
    responseTime: result.status === null ? null : new Date(result.finishedAt).toISOString(),
    httpStatusCode: result.status,
    reasonPhrase: result.reasonPhrase,
    headers: result.headers,
    error,
    response,
  };
}
