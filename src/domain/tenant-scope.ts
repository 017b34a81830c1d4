/**
 * Which tenants a caller may see (issue 12, "Tenants"). `null` means every tenant: keys created
 * without `--tenants` for moderators, operators and viewers. An integrator key always has
 * exactly one tenant, the one its trends are written under.
 */
export type TenantScope = readonly string[] | null;

export const DEFAULT_TENANT = "default";

const TENANT_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export function isTenantName(value: string): boolean {
  return TENANT_NAME.test(value);
}

export function inScope(scope: TenantScope, tenant: string): boolean {
  return scope === null || scope.includes(tenant);
}
