/**
 * Who is calling, and in which tenant scope. Every repository method takes a `TenantScope`, so no query can be written
 * without naming the tenant (Svix `core/permissions.rs`, Outpost `tenantstore`).
 */
export const ROLES = ['webhooks:read', 'webhooks:write', 'events:publish', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const MODES = ['live', 'test'] as const;
export type Mode = (typeof MODES)[number];

export interface TenantScope {
  readonly tenantId: string;
  /** Resources carry the mode of the key that made them; a key sees only its own mode. */
  readonly mode: Mode;
  /** Set when the key (or the `x-account-id` header) narrows the scope to one account. */
  readonly accountId: string | null;
}

export interface Actor {
  /** `api_key` for tenant keys, `root` for the admin key, `system` for Hookline's own changes (auto-disable). */
  type: 'api_key' | 'root' | 'system';
  id: string | null;
  name: string | null;
}

export interface Principal {
  actor: Actor;
  isRoot: boolean;
  roles: ReadonlySet<Role>;
  /** The key's own account restriction (not the header's), used to bound what the key may create. */
  keyAccountId: string | null;
  /** Null only for a root key that named no tenant (it may then manage tenants and nothing else). */
  scope: TenantScope | null;
}

export function hasRole(principal: Principal, role: Role): boolean {
  return principal.isRoot || principal.roles.has('admin') || principal.roles.has(role);
}

export const SYSTEM_ACTOR: Actor = { type: 'system', id: null, name: 'hookline' };
