/** Tenants (root key only), their API keys and their accounts. */
import { AppError, invalidField, notFound } from '../domain/errors.js';
import { apiKeyPrefix, generateApiKey, hashApiKey } from '../domain/api-key-secret.js';
import { newId } from '../domain/ids.js';
import type { Mode, Principal, Role } from '../domain/principal.js';
import { fromJson, toJson } from '../db/json.js';
import type { AccountRow } from '../db/repos/accounts-repo.js';
import type { ApiKeyRow } from '../db/repos/api-keys-repo.js';
import type { TenantRow } from '../db/repos/tenants-repo.js';
import { type PageRequest, toPage } from '../db/paging.js';
import type { ServiceDeps } from './deps.js';
import { requireScope } from './webhooks.js';

export function tenantView(t: TenantRow) {
  return {
    id: t.id,
    name: t.name,
    metadata: fromJson(t.metadata, {}),
    createdAt: new Date(t.created_at).toISOString(),
  };
}

export function apiKeyView(k: ApiKeyRow) {
  return {
    id: k.id,
    name: k.name,
    prefix: k.key_prefix,
    roles: JSON.parse(k.roles) as Role[],
    accountId: k.account_id,
    mode: k.mode as Mode,
    createdAt: new Date(k.created_at).toISOString(),
  };
}

export function accountView(a: AccountRow) {
  return {
    id: a.id,
    href: `/v1/accounts/${a.id}`,
    name: a.name,
    reference: a.reference,
    metadata: fromJson(a.metadata, {}),
    createdAt: new Date(a.created_at).toISOString(),
    updatedAt: new Date(a.updated_at).toISOString(),
  };
}

export class TenancyService {
  constructor(private readonly deps: ServiceDeps) {}

  async createTenant(input: { name: string; metadata?: Record<string, unknown> }) {
    return tenantView(
      await this.deps.repos.tenants.create({ name: input.name, metadata: input.metadata ?? {} }, this.deps.now()),
    );
  }

  async getTenant(id: string) {
    const t = await this.deps.repos.tenants.get(id);
    if (t === undefined) throw notFound('tenant', id);
    return tenantView(t);
  }

  async listTenants(page: PageRequest) {
    return toPage(await this.deps.repos.tenants.list(page), page.limit, tenantView);
  }

  async createApiKey(
    principal: Principal,
    input: { name: string; roles: Role[]; accountId?: string | null; mode?: Mode },
  ) {
    const scope = requireScope(principal);
    const mode = input.mode ?? scope.mode;
    // A key cannot mint a key with more reach than itself: a test-mode key makes only test keys (a live admin may make
    // test keys for its developers), and no key reaches wider than its own account.
    if (!principal.isRoot && scope.mode === 'test' && mode !== 'test') {
      throw new AppError('forbidden', `body.mode: a ${scope.mode}-mode key cannot create ${mode}-mode keys`);
    }
    let accountId = input.accountId ?? null;
    if (principal.keyAccountId !== null) {
      if (accountId !== null && accountId !== principal.keyAccountId) {
        throw new AppError('forbidden', 'body.accountId: this API key is restricted to another account');
      }
      accountId = principal.keyAccountId;
    }
    if (accountId !== null && (await this.deps.repos.accounts.get(scope.tenantId, accountId)) === undefined) {
      throw invalidField('body.accountId', `account ${accountId} does not exist`);
    }
    const now = this.deps.now();
    const key = generateApiKey(mode);
    const row: ApiKeyRow = {
      id: newId('apiKey', now),
      tenant_id: scope.tenantId,
      name: input.name,
      key_hash: hashApiKey(key),
      key_prefix: apiKeyPrefix(key),
      roles: toJson([...new Set(input.roles)]),
      account_id: accountId,
      mode,
      created_at: now,
      created_by: principal.actor.id ?? principal.actor.type,
      last_used_at: null,
      revoked_at: null,
    };
    await this.deps.repos.apiKeys.insert(row);
    return { ...apiKeyView(row), key };
  }

  async listApiKeys(principal: Principal, page: PageRequest) {
    const scope = requireScope(principal);
    const rows = await this.deps.repos.apiKeys.list(scope.tenantId, page, principal.keyAccountId);
    return toPage(rows, page.limit, apiKeyView);
  }

  async revokeApiKey(principal: Principal, id: string) {
    const scope = requireScope(principal);
    const key = await this.deps.repos.apiKeys.get(scope.tenantId, id);
    if (key === undefined || (principal.keyAccountId !== null && key.account_id !== principal.keyAccountId)) {
      throw notFound('API key', id);
    }
    await this.deps.repos.apiKeys.revoke(scope.tenantId, id, this.deps.now());
    this.deps.caches.apiKeys.clear();
  }

  async createAccount(
    principal: Principal,
    input: { name: string; reference?: string | null; metadata?: Record<string, unknown> },
  ) {
    const scope = requireScope(principal);
    if (scope.accountId !== null) throw new AppError('forbidden', 'An account-restricted key cannot create accounts');
    if (input.reference != null && (await this.deps.repos.accounts.findByReference(scope.tenantId, input.reference))) {
      throw new AppError('conflict', `body.reference: an account with reference "${input.reference}" already exists`, {
        errors: [{ field: 'body.reference', message: 'is already taken' }],
      });
    }
    const now = this.deps.now();
    const row: AccountRow = {
      id: newId('account', now),
      tenant_id: scope.tenantId,
      name: input.name,
      reference: input.reference ?? null,
      metadata: toJson(input.metadata ?? {}),
      created_at: now,
      updated_at: now,
    };
    await this.deps.repos.accounts.insert(row);
    return accountView(row);
  }

  async getAccount(principal: Principal, id: string) {
    const scope = requireScope(principal);
    const row = await this.deps.repos.accounts.get(scope.tenantId, id);
    if (row === undefined || (scope.accountId !== null && scope.accountId !== id)) throw notFound('account', id);
    return accountView(row);
  }

  async listAccounts(principal: Principal, page: PageRequest) {
    const scope = requireScope(principal);
    return toPage(await this.deps.repos.accounts.list(scope.tenantId, page, scope.accountId), page.limit, accountView);
  }
}
