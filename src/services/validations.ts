/**
 * Synchronous validation webhooks (the marketplace seed's `validatePurchaseOrderDraft` and friends): every enabled
 * webhook of kind `validation` that matches is called in parallel, signed like any delivery, once, within its own
 * timeout (default 5 s); the caller gets each answer and an overall verdict.
 *
 * Verdict rule: `approved` when every webhook that was called answered 2xx (including when none matched);
 * `rejected` otherwise. Webhooks skipped because their circuit is open are reported but do not decide the verdict.
 * Each call is recorded as an attempt and counted in the webhook's statistics and last calls.
 */
import { AppError, invalidField } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import type { Principal } from '../domain/principal.js';
import type { DeliveryExecutor } from '../delivery/executor.js';
import { newDeliveryRow } from '../queue/new-delivery.js';
import { inTransaction, type ServiceDeps } from './deps.js';
import { eventMatches, rulesOf } from './event-matching.js';
import { newEventRow } from './publish.js';
import { requireScope } from './webhooks.js';

export interface ValidationRequest {
  type: string;
  objectType?: string;
  accountId?: string | null;
  payload: unknown;
}

export type HookVerdict = 'approved' | 'rejected' | 'error' | 'skipped';

export const VERDICT_RULE = 'approved when every called validation webhook answered 2xx; skipped webhooks do not count';

function parseResponse(body: string | null, headers: Record<string, string>): unknown {
  if (body === null) return null;
  if ((headers['content-type'] ?? '').includes('json')) {
    try {
      return JSON.parse(body) as unknown;
    } catch {
      // Not valid JSON after all (or truncated): answer the text.
    }
  }
  return body;
}

export class ValidationService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly executor: DeliveryExecutor,
  ) {}

  async validate(principal: Principal, req: ValidationRequest) {
    const scope = requireScope(principal);
    let accountId = req.accountId ?? null;
    if (scope.accountId !== null) {
      if (accountId !== null && accountId !== scope.accountId) {
        throw new AppError('forbidden', 'body.accountId: this API key is restricted to another account');
      }
      accountId = scope.accountId;
    } else if (accountId !== null && (await this.deps.repos.accounts.get(scope.tenantId, accountId)) === undefined) {
      throw invalidField('body.accountId', `account ${accountId} does not exist`);
    }

    const now = this.deps.now();
    const eventId = newId('event', now);
    const subject = { id: eventId, type: req.type, data: req.payload, occurredAt: now, accountId, references: {} };
    const hooks = (await this.deps.repos.webhooks.listValidationHooks(scope, accountId)).filter(
      (w) =>
        (req.objectType === undefined || w.object_type === null || w.object_type === req.objectType) &&
        eventMatches(rulesOf(w), subject),
    );
    const event = newEventRow({
      id: eventId,
      scope,
      accountId,
      input: { type: req.type, data: req.payload },
      occurredAt: now,
      now,
      correlationId: null,
      deliveryCount: hooks.length,
    });
    const leaseMs = this.deps.config.delivery.leaseSeconds * 1000;
    const deliveries = hooks.map((w) => ({
      ...newDeliveryRow({
        tenantId: scope.tenantId,
        mode: scope.mode,
        webhookId: w.id,
        eventId: event.id,
        eventType: req.type,
        now,
        trigger: 'manual',
      }),
      status: 'delivering',
      // Leased to this request: no worker picks these up; the calls happen here and now.
      lease_owner: `validation_${event.id}`,
      lease_expires_at: now + leaseMs,
    }));
    if (hooks.length > 0) {
      await inTransaction(this.deps, async (repos) => {
        await repos.events.insert(event, {});
        await repos.deliveries.insertMany(deliveries);
      });
    }
    const started = Date.now();
    const claimed = await this.deps.db.kysely
      .selectFrom('deliveries')
      .selectAll()
      .where('event_id', '=', event.id)
      .execute();
    const jobs = await this.executor.load(claimed);
    const results = await Promise.all(
      jobs.map(async (job) => {
        const w = job.webhook;
        const base = { webhookId: job.delivery.webhook_id, name: w?.name ?? null, url: w?.url ?? null };
        const outcome = await this.executor.execute(job, `validation_${event.id}`, { once: true });
        if (outcome.kind === 'skipped') {
          return {
            ...base,
            verdict: 'skipped' as HookVerdict,
            skippedReason: outcome.reason,
            httpStatus: null,
            reasonPhrase: null,
            response: null,
            elapsedMs: 0,
            error: null,
            attemptId: null,
          };
        }
        const a = outcome.attempt;
        const headers = a.response_headers === null ? {} : (JSON.parse(a.response_headers) as Record<string, string>);
        const ok = a.status === 'succeeded';
        return {
          ...base,
          verdict: (ok ? 'approved' : a.response_status === null ? 'error' : 'rejected') as HookVerdict,
          skippedReason: null,
          httpStatus: a.response_status,
          reasonPhrase: a.reason_phrase,
          response: parseResponse(a.response_body, headers),
          elapsedMs: a.elapsed_ms,
          error: a.error,
          attemptId: a.id,
        };
      }),
    );
    const called = results.filter((r) => r.verdict !== 'skipped');
    return {
      eventId: event.id,
      type: req.type,
      verdict: called.every((r) => r.verdict === 'approved') ? ('approved' as const) : ('rejected' as const),
      rule: VERDICT_RULE,
      elapsedMs: Date.now() - started,
      results,
    };
  }
}
