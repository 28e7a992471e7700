/**
 * Webhook use cases. Each write runs in one transaction and records what changed in the version history, so
 * `GET /v1/webhooks/{id}/versions` can say who changed what and when (the commerce seed's `versions`).
 */
import { AppError, invalidField, notFound } from '../domain/errors.js';
import type { Notifier } from '../queue/notifier.js';
import { newId } from '../domain/ids.js';
import type { Actor, Principal, TenantScope } from '../domain/principal.js';
import { generateWebhookSecret } from '../domain/signing.js';
import { toJson } from '../db/json.js';
import type { WebhookListFilter, WebhookRow, WebhookWithAccount } from '../db/repos/webhooks-repo.js';
import { type PageRequest, toPage } from '../db/paging.js';
import { inTransaction, type Repos, type ServiceDeps } from './deps.js';
import {
  checkCriteria,
  checkEventTypes,
  checkFilter,
  checkRetrySchedule,
  checkSecret,
  checkUrl,
  type HeadersInput,
  normaliseHeaders,
} from './webhook-input.js';
import { type Audit, webhookView, type WebhookView } from './webhook-view.js';

export interface WebhookFields {
  name?: string | null;
  description?: string | null;
  url?: string;
  status?: 'enabled' | 'disabled';
  kind?: 'notification' | 'validation';
  eventTypes?: string[];
  objectType?: string | null;
  criteria?: Record<string, unknown>;
  filter?: Record<string, unknown> | null;
  includeResources?: string[];
  headers?: HeadersInput;
  maxBatchSize?: number;
  maxBatchTimeDelay?: number;
  timeoutMs?: number;
  retrySchedule?: number[] | null;
  ordering?: 'none' | 'fifo';
  orderingOnFailure?: 'skip' | 'block';
  rateLimitPerSecond?: number | null;
  metadata?: Record<string, unknown>;
  reference?: string | null;
  referenceOrigin?: string | null;
  accountId?: string | null;
}

export interface CreateWebhookInput extends WebhookFields {
  url: string;
  eventTypes: string[];
  secret?: string;
}

export function requireScope(principal: Principal): TenantScope {
  if (principal.scope === null) {
    throw new AppError('tenant_required', 'The root key must name a tenant with the x-tenant-id header for this route');
  }
  return principal.scope;
}

function auditEntry(actor: Actor, now: number) {
  return { at: new Date(now).toISOString(), by: { type: actor.type, id: actor.id, name: actor.name } };
}

/** The fields whose changes the version history records, in their client-facing names. */
const TRACKED: Array<keyof WebhookView> = [
  'name',
  'description',
  'url',
  'status',
  'disabledReason',
  'kind',
  'eventTypes',
  'objectType',
  'criteria',
  'filter',
  'includeResources',
  'headers',
  'maxBatchSize',
  'maxBatchTimeDelay',
  'timeoutMs',
  'retrySchedule',
  'ordering',
  'orderingOnFailure',
  'rateLimitPerSecond',
  'metadata',
  'reference',
  'referenceOrigin',
  'accountId',
  'circuit',
];

function diff(before: WebhookView | null, after: WebhookView): Record<string, { from: unknown; to: unknown }> {
  const changes: Record<string, { from: unknown; to: unknown }> = {};
  for (const key of TRACKED) {
    const from = before === null ? null : before[key];
    const to = after[key];
    if (JSON.stringify(from) !== JSON.stringify(to)) changes[key] = { from, to };
  }
  return changes;
}

async function recordVersion(
  repos: Repos,
  scope: TenantScope,
  row: WebhookWithAccount,
  action: string,
  actor: Actor,
  changes: Record<string, unknown>,
  now: number,
) {
  await repos.webhooks.insertVersion({
    id: newId('webhookVersion', now),
    tenant_id: scope.tenantId,
    webhook_id: row.id,
    version: row.version,
    action,
    changed_at: now,
    changed_by: toJson({ type: actor.type, id: actor.id, name: actor.name }),
    changes: toJson(changes),
  });
}

async function resolveAccountId(
  repos: Repos,
  scope: TenantScope,
  requested: string | null | undefined,
): Promise<string | null | undefined> {
  if (scope.accountId !== null) {
    if (requested !== undefined && requested !== scope.accountId) {
      throw new AppError('forbidden', 'body.accountId: this API key is restricted to another account');
    }
    return scope.accountId;
  }
  if (requested === undefined || requested === null) return requested;
  const account = await repos.accounts.get(scope.tenantId, requested);
  if (account === undefined) throw invalidField('body.accountId', `account ${requested} does not exist`);
  return requested;
}

async function assertNameFree(repos: Repos, scope: TenantScope, name: string | null | undefined, selfId?: string) {
  if (name === null || name === undefined) return;
  const other = await repos.webhooks.findByName(scope, name);
  if (other !== undefined && other.id !== selfId) {
    throw new AppError('conflict', `body.name: a webhook named "${name}" already exists`, {
      errors: [{ field: 'body.name', message: 'is already taken' }],
    });
  }
}

export class WebhookService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly notifier: Notifier,
  ) {}

  /** Deliveries parked while the webhook was disabled or its circuit open become due now. */
  private async resumeParked(scope: TenantScope, id: string) {
    if ((await this.deps.repos.deliveries.resumeParked(scope.tenantId, id, this.deps.now())) > 0) {
      await this.notifier.wakeAll();
    }
  }

  private defaultTimeout(kind: string): number {
    // Validation hooks are called while a user waits: a shorter default than notifications.
    return kind === 'validation'
      ? Math.min(5000, this.deps.config.delivery.maxTimeoutMs)
      : this.deps.config.delivery.defaultTimeoutMs;
  }

  private checkTimeout(timeoutMs: number | undefined) {
    if (timeoutMs !== undefined && timeoutMs > this.deps.config.delivery.maxTimeoutMs) {
      throw invalidField('body.timeoutMs', `must be at most ${this.deps.config.delivery.maxTimeoutMs}`);
    }
  }

  async create(principal: Principal, input: CreateWebhookInput): Promise<{ webhook: WebhookView; secret: string }> {
    const scope = requireScope(principal);
    const now = this.deps.now();
    const url = checkUrl(input.url, this.deps.config.allowPrivateTargets);
    const eventTypes = checkEventTypes(input.eventTypes);
    const headers = input.headers === undefined ? {} : normaliseHeaders(input.headers);
    const secret = input.secret === undefined ? generateWebhookSecret() : checkSecret(input.secret);
    checkRetrySchedule(input.retrySchedule);
    checkCriteria(input.criteria ?? {});
    this.checkTimeout(input.timeoutMs);
    const kind = input.kind ?? 'notification';
    const status = input.status ?? 'enabled';
    const actorEntry = auditEntry(principal.actor, now);
    const audit: Audit = { created: actorEntry, ...(status === 'disabled' ? { disabled: actorEntry } : {}) };

    return inTransaction(this.deps, async (repos) => {
      const accountId = (await resolveAccountId(repos, scope, input.accountId)) ?? null;
      await assertNameFree(repos, scope, input.name);
      const row: WebhookRow = {
        id: newId('webhook', now),
        tenant_id: scope.tenantId,
        mode: scope.mode,
        account_id: accountId,
        name: input.name ?? null,
        description: input.description ?? null,
        url,
        status,
        disabled_at: status === 'disabled' ? now : null,
        disabled_reason: status === 'disabled' ? 'manual' : null,
        kind,
        event_types: toJson(eventTypes),
        object_type: input.objectType ?? null,
        criteria: toJson(input.criteria ?? {}),
        filter: input.filter == null ? null : toJson(checkFilter(input.filter)),
        include_resources: toJson(input.includeResources ?? []),
        headers: toJson(headers),
        secret_enc: this.deps.secretBox.seal(secret),
        previous_secret_enc: null,
        previous_secret_expires_at: null,
        max_batch_size: input.maxBatchSize ?? 1,
        max_batch_time_delay: input.maxBatchTimeDelay ?? 0,
        timeout_ms: input.timeoutMs ?? this.defaultTimeout(kind),
        retry_schedule: input.retrySchedule == null ? null : toJson(input.retrySchedule),
        ordering: input.ordering ?? 'none',
        ordering_on_failure: input.orderingOnFailure ?? 'skip',
        rate_limit_per_second: input.rateLimitPerSecond ?? null,
        circuit_state: 'closed',
        circuit_failure_count: 0,
        circuit_opened_at: null,
        stat_total: 0,
        stat_successes: 0,
        stat_failures: 0,
        stat_failures_since_success: 0,
        last_success: null,
        last_failure: null,
        last_call: null,
        last_success_at: null,
        failing_since: null,
        metadata: toJson(input.metadata ?? {}),
        reference: input.reference ?? null,
        reference_origin: input.referenceOrigin ?? null,
        audit: toJson(audit),
        version: 1,
        created_at: now,
        updated_at: now,
      };
      await repos.webhooks.insert(row);
      const saved = await this.mustGet(repos, scope, row.id);
      const view = webhookView(saved);
      await recordVersion(repos, scope, saved, 'created', principal.actor, diff(null, view), now);
      return { webhook: view, secret };
    });
  }

  async get(principal: Principal, id: string): Promise<WebhookView> {
    const scope = requireScope(principal);
    return webhookView(await this.mustGet(this.deps.repos, scope, id));
  }

  async list(principal: Principal, filter: WebhookListFilter, page: PageRequest) {
    const scope = requireScope(principal);
    const rows = await this.deps.repos.webhooks.list(scope, filter, page);
    return toPage(rows, page.limit, webhookView);
  }

  async update(principal: Principal, id: string, patch: WebhookFields): Promise<WebhookView> {
    const scope = requireScope(principal);
    const cfg = this.deps.config;
    const set: Partial<WebhookRow> = {};
    if (patch.url !== undefined) set.url = checkUrl(patch.url, cfg.allowPrivateTargets);
    if (patch.eventTypes !== undefined) set.event_types = toJson(checkEventTypes(patch.eventTypes));
    if (patch.headers !== undefined) set.headers = toJson(normaliseHeaders(patch.headers));
    if (patch.criteria !== undefined) {
      checkCriteria(patch.criteria);
      set.criteria = toJson(patch.criteria);
    }
    if (patch.filter !== undefined) set.filter = patch.filter === null ? null : toJson(checkFilter(patch.filter));
    if (patch.retrySchedule !== undefined) {
      checkRetrySchedule(patch.retrySchedule);
      set.retry_schedule = patch.retrySchedule === null ? null : toJson(patch.retrySchedule);
    }
    this.checkTimeout(patch.timeoutMs);
    if (patch.name !== undefined) set.name = patch.name;
    if (patch.description !== undefined) set.description = patch.description;
    if (patch.kind !== undefined) set.kind = patch.kind;
    if (patch.objectType !== undefined) set.object_type = patch.objectType;
    if (patch.includeResources !== undefined) set.include_resources = toJson(patch.includeResources);
    if (patch.maxBatchSize !== undefined) set.max_batch_size = patch.maxBatchSize;
    if (patch.maxBatchTimeDelay !== undefined) set.max_batch_time_delay = patch.maxBatchTimeDelay;
    if (patch.timeoutMs !== undefined) set.timeout_ms = patch.timeoutMs;
    if (patch.ordering !== undefined) set.ordering = patch.ordering;
    if (patch.orderingOnFailure !== undefined) set.ordering_on_failure = patch.orderingOnFailure;
    if (patch.rateLimitPerSecond !== undefined) set.rate_limit_per_second = patch.rateLimitPerSecond;
    if (patch.metadata !== undefined) set.metadata = toJson(patch.metadata);
    if (patch.reference !== undefined) set.reference = patch.reference;
    if (patch.referenceOrigin !== undefined) set.reference_origin = patch.referenceOrigin;

    return this.mutate(principal, scope, id, 'updated', async (repos, row, now) => {
      if (patch.accountId !== undefined)
        set.account_id = (await resolveAccountId(repos, scope, patch.accountId)) ?? null;
      if (patch.name !== undefined) await assertNameFree(repos, scope, patch.name, id);
      const audit = JSON.parse(row.audit) as Audit;
      audit.updated = auditEntry(principal.actor, now);
      if (patch.status !== undefined && patch.status !== row.status) {
        Object.assign(set, statusChange(patch.status, 'manual', now));
        audit[patch.status] = auditEntry(principal.actor, now);
      }
      return { ...set, audit: toJson(audit) };
    });
  }

  async setStatus(principal: Principal, id: string, status: 'enabled' | 'disabled', reason: string | undefined) {
    const scope = requireScope(principal);
    const view = await this.mutate(principal, scope, id, status, async (_repos, row, now) => {
      const audit = JSON.parse(row.audit) as Audit;
      audit[status] = auditEntry(principal.actor, now);
      return { ...statusChange(status, reason ?? 'manual', now), audit: toJson(audit) };
    });
    if (status === 'enabled') await this.resumeParked(scope, id);
    return view;
  }

  async resetCircuit(principal: Principal, id: string): Promise<WebhookView> {
    const scope = requireScope(principal);
    const view = await this.mutate(principal, scope, id, 'circuit_reset', async () => ({
      circuit_state: 'closed',
      circuit_failure_count: 0,
      circuit_opened_at: null,
    }));
    await this.resumeParked(scope, id);
    return view;
  }

  /**
   * A new secret signs from now on; the old one keeps signing beside it until the grace period ends, so receivers can
   * switch without dropping a request (each request then carries two signatures).
   */
  async rotateSecret(
    principal: Principal,
    id: string,
    input: { secret?: string; graceSeconds?: number },
  ): Promise<{ webhook: WebhookView; secret: string }> {
    const scope = requireScope(principal);
    const secret = input.secret === undefined ? generateWebhookSecret() : checkSecret(input.secret);
    const grace = input.graceSeconds ?? this.deps.config.secretRotationGraceSeconds;
    const webhook = await this.mutate(principal, scope, id, 'secret_rotated', async (_repos, row, now) => ({
      secret_enc: this.deps.secretBox.seal(secret),
      previous_secret_enc: grace > 0 ? row.secret_enc : null,
      previous_secret_expires_at: grace > 0 ? now + grace * 1000 : null,
    }));
    return { webhook, secret };
  }

  async delete(principal: Principal, id: string): Promise<void> {
    const scope = requireScope(principal);
    await inTransaction(this.deps, async (repos) => {
      if (!(await repos.webhooks.delete(scope, id))) throw notFound('webhook', id);
      // Its queue goes with it; the attempt log stays until retention prunes it.
      await repos.deliveries.deleteForWebhook(scope.tenantId, id);
    });
  }

  async versions(principal: Principal, id: string, query: { limit: number; before: number | null }) {
    const scope = requireScope(principal);
    await this.mustGet(this.deps.repos, scope, id);
    const rows = await this.deps.repos.webhooks.listVersions(scope.tenantId, id, query);
    const more = rows.length > query.limit;
    const kept = more ? rows.slice(0, query.limit) : rows;
    return {
      data: kept.map((v) => ({
        id: v.id,
        webhookId: v.webhook_id,
        version: v.version,
        action: v.action,
        changedAt: new Date(v.changed_at).toISOString(),
        changedBy: JSON.parse(v.changed_by) as Actor,
        changes: JSON.parse(v.changes) as Record<string, { from: unknown; to: unknown }>,
      })),
      nextCursor: more ? String(kept[kept.length - 1]?.version) : null,
    };
  }

  private async mustGet(repos: Repos, scope: TenantScope, id: string): Promise<WebhookWithAccount> {
    const row = await repos.webhooks.get(scope, id);
    if (row === undefined) throw notFound('webhook', id);
    return row;
  }

  /** Read, change, bump the version and record the difference, all in one transaction. */
  private async mutate(
    principal: Principal,
    scope: TenantScope,
    id: string,
    action: string,
    change: (repos: Repos, row: WebhookWithAccount, now: number) => Promise<Partial<WebhookRow>>,
  ): Promise<WebhookView> {
    return inTransaction(this.deps, async (repos) => {
      const now = this.deps.now();
      const before = await repos.webhooks.getForUpdate(scope, id, this.deps.db.capabilities.skipLocked);
      if (before === undefined) throw notFound('webhook', id);
      const set = await change(repos, before, now);
      await repos.webhooks.update(scope, id, { ...set, version: before.version + 1, updated_at: now });
      const after = await this.mustGet(repos, scope, id);
      const changes: Record<string, unknown> = diff(webhookView(before), webhookView(after));
      if (action === 'secret_rotated') changes.secret = { from: '(redacted)', to: '(redacted)' };
      await recordVersion(repos, scope, after, action, principal.actor, changes, now);
      return webhookView(after);
    });
  }
}

function statusChange(status: 'enabled' | 'disabled', reason: string, now: number): Partial<WebhookRow> {
  return status === 'enabled'
    ? { status, disabled_at: null, disabled_reason: null }
    : { status, disabled_at: now, disabled_reason: reason };
}
