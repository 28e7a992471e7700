/**
 * Turns an `Authorization: Bearer` value (plus the optional `x-tenant-id`, `x-account-id` and `x-hookline-mode`
 * headers) into a Principal. The root key is held as a hash; tenant keys are looked up by hash, through a one-second
 * cache (`lookup-cache.ts`): a revoked key stops working at once in the process that revoked it, and within a second
 * in every other.
 */
import type { Selectable } from 'kysely';
import type { ApiKeysTable } from '../db/schema.js';
import { AppError } from '../domain/errors.js';
import { generateApiKey, hashApiKey, hashesEqual } from '../domain/api-key-secret.js';
import { type Mode, MODES, type Principal, type Role, ROLES } from '../domain/principal.js';
import type { Repos } from './deps.js';
import type { LookupCache } from './lookup-cache.js';

export const ROOT_KEY_SETTING = 'root_key_hash';

export interface AuthHeaders {
  authorization: string | undefined;
  tenantId: string | undefined;
  accountId: string | undefined;
  mode: string | undefined;
}

/**
 * Decides the root key at start: the configured one, or the stored hash, or — on the very first start — a new key that
 * the caller prints once. Only the hash is ever stored.
 */
export async function initRootKey(
  repos: Repos,
  configured: string | null,
): Promise<{ hash: string; generatedKey: string | null }> {
  if (configured !== null) return { hash: hashApiKey(configured), generatedKey: null };
  const stored = await repos.settings.get(ROOT_KEY_SETTING);
  if (stored !== null) return { hash: stored, generatedKey: null };
  const key = generateApiKey('root');
  const kept = await repos.settings.putIfAbsent(ROOT_KEY_SETTING, hashApiKey(key));
  // Another process may have won the race; then its key is the root key and ours is discarded.
  return { hash: kept, generatedKey: kept === hashApiKey(key) ? key : null };
}

export class Authenticator {
  constructor(
    private readonly repos: Repos,
    private readonly rootKeyHash: string,
    private readonly keys: LookupCache<Selectable<ApiKeysTable>>,
  ) {}

  async authenticate(h: AuthHeaders): Promise<Principal> {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(h.authorization ?? '');
    if (match?.[1] === undefined) {
      throw new AppError('unauthorized', 'Send an API key as "Authorization: Bearer <key>"', {
        headers: { 'www-authenticate': 'Bearer' },
      });
    }
    const token = match[1];
    // A key checked within the last second needs no hashing and no lookup; the root key is never cached.
    let key = this.keys.get(token);
    if (key === undefined) {
      const hash = hashApiKey(token);
      if (hashesEqual(hash, this.rootKeyHash)) return this.rootPrincipal(h);
      key = await this.repos.apiKeys.findActiveByHash(hash);
      if (key !== undefined) this.keys.set(token, key);
    }
    if (key === undefined) {
      throw new AppError('unauthorized', 'The API key is not valid or has been revoked', {
        headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
      });
    }
    if (h.tenantId !== undefined && h.tenantId !== key.tenant_id) {
      throw new AppError('forbidden', 'x-tenant-id: this API key belongs to another tenant');
    }
    if (h.mode !== undefined && h.mode !== key.mode) {
      throw new AppError('forbidden', `x-hookline-mode: this is a ${key.mode}-mode key`);
    }
    let accountId = key.account_id;
    if (h.accountId !== undefined) {
      if (accountId !== null && accountId !== h.accountId) {
        throw new AppError('forbidden', 'x-account-id: this API key is restricted to another account');
      }
      accountId = h.accountId;
    }
    const roles = (JSON.parse(key.roles) as string[]).filter((r): r is Role =>
      (ROLES as readonly string[]).includes(r),
    );
    return {
      actor: { type: 'api_key', id: key.id, name: key.name },
      isRoot: false,
      roles: new Set(roles),
      keyAccountId: key.account_id,
      scope: { tenantId: key.tenant_id, mode: key.mode as Mode, accountId },
    };
  }

  private async rootPrincipal(h: AuthHeaders): Promise<Principal> {
    const base = {
      actor: { type: 'root' as const, id: null, name: 'root' },
      isRoot: true,
      roles: new Set<Role>(ROLES),
      keyAccountId: null,
    };
    if (h.tenantId === undefined) return { ...base, scope: null };
    const tenant = await this.repos.tenants.get(h.tenantId);
    if (tenant === undefined) throw new AppError('not_found', `x-tenant-id: tenant ${h.tenantId} was not found`);
    let mode: Mode = 'live';
    if (h.mode !== undefined) {
      if (!(MODES as readonly string[]).includes(h.mode)) {
        throw new AppError('validation_failed', 'x-hookline-mode: must be live or test', {
          errors: [{ field: 'headers.x-hookline-mode', message: 'must be live or test' }],
        });
      }
      mode = h.mode as Mode;
    }
    return { ...base, scope: { tenantId: tenant.id, mode, accountId: h.accountId ?? null } };
  }
}
