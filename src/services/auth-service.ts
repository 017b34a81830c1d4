import { createHash, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { LRUCache } from "lru-cache";
import { activeKeyByHash, insertApiKey, insertIfNoKeys, listApiKeys, revokeApiKey } from "../db/api-key-queries.js";
import type { Db } from "../db/database.js";
import { ROLES, type Role } from "../db/types.js";
import { badInput, notFound } from "../domain/domain-error.js";
import { ANY_REVIEWER, type ReviewerProfile, reviewerProfile } from "../domain/reviewer-profile.js";
import { DEFAULT_TENANT, isTenantName, type TenantScope } from "../domain/tenant-scope.js";
import { type ConfiguredKey, parseConfiguredKeys } from "./configured-key-entry.js";

export { type ConfiguredKey, parseConfiguredKeys } from "./configured-key-entry.js";

export interface Principal {
  keyId: string;
  name: string;
  role: Role;
  /** Tenants the key sees; null = all. An integrator's single tenant is where its posts go. */
  tenants: TenantScope;
  /** Languages, skills and capacity: how routing sees the key as a reviewer. */
  profile: ReviewerProfile;
}

/** How long a key's state is trusted before it is looked up again (issue 12: at most 1 s). */
export const KEY_CACHE_MS = 1000;

/** Keys are 32 random bytes, so a fast hash is enough: there is nothing to brute-force. */
export function hashKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

/** The tenants a new key gets: integrators exactly one (default `default`), others the list or all. */
export function tenantsForNewKey(role: Role, tenants: readonly string[] | undefined): TenantScope {
  const list = tenants?.map((t) => t.trim()).filter(Boolean);
  if (list?.some((t) => !isTenantName(t))) throw badInput("tenants", "tenant names hold a-z, 0-9, _ and - (at most 63)");
  if (role === "integrator") {
    if (list && list.length !== 1) throw badInput("tenant", "an integrator key belongs to exactly one tenant");
    return list ?? [DEFAULT_TENANT];
  }
  return list?.length ? list : null;
}

interface ConfiguredEntry {
  principal: Principal;
  hash: Buffer;
}

/**
 * API keys: created with `trendgate keys create`, stored as hashes, plus the ones from
 * configuration (TRENDGATE_API_KEYS, and TRENDGATE_API_KEYS_FILE which SIGHUP re-reads). A key's
 * state is trusted for at most {@link KEY_CACHE_MS}, and `forget` drops it at once when a
 * revocation is announced, so a revoked key stops working within a second everywhere.
 */
export class AuthService {
  private configured: ConfiguredEntry[] = [];
  /** Key hash → its principal (wrapped: an unknown key is cached too, and LRUCache holds no undefined). */
  private readonly cache: LRUCache<string, { principal: Principal | undefined }>;

  constructor(
    private readonly db: Db,
    configuredKeys: string,
    private readonly options: { now?: () => number; onRevoked?: (keyId: string) => Promise<void> | void } = {},
  ) {
    const now = options.now ?? (() => Date.now());
    // ttlResolution 0: the cache reads the (injectable) clock at every lookup instead of
    // reusing a reading for a millisecond of real time.
    this.cache = new LRUCache({ max: 10_000, ttl: KEY_CACHE_MS, ttlResolution: 0, perf: { now } });
    this.setConfiguredKeys(parseConfiguredKeys(configuredKeys));
  }

  /** Replaces the keys from configuration (SIGHUP); a removed key stops authenticating at once. */
  setConfiguredKeys(keys: ConfiguredKey[]): void {
    this.configured = keys.map((k) => {
      const hash = hashKey(k.key);
      const principal: Principal = {
        keyId: `config-${hash.slice(0, 12)}`,
        name: k.name ?? `config-${k.role}-${hash.slice(0, 6)}`,
        role: k.role,
        tenants: k.tenants,
        profile: k.profile ?? ANY_REVIEWER,
      };
      return { principal, hash: Buffer.from(hash, "hex") };
    });
    this.cache.clear();
  }

  get hasConfiguredKeys(): boolean {
    return this.configured.length > 0;
  }

  /** The principal for a bearer key, or undefined when the key is unknown or revoked. */
  async authenticate(key: string | undefined | null): Promise<Principal | undefined> {
    if (!key) return undefined;
    const hash = hashKey(key);
    const hashBuffer = Buffer.from(hash, "hex");
    const fromConfig = this.configured.find((c) => timingSafeEqual(c.hash, hashBuffer));
    if (fromConfig) return fromConfig.principal;
    const cached = this.cache.get(hash);
    if (cached) return cached.principal;
    const row = await activeKeyByHash(this.db, hash);
    const principal = row
      ? {
          keyId: row.id,
          name: row.name,
          role: row.role,
          tenants: row.tenants,
          profile: { languages: row.languages, skills: row.skills, capacity: row.capacity },
        }
      : undefined;
    this.cache.set(hash, { principal });
    return principal;
  }

  /** Drops cached state of a key (a revocation announced by another process). */
  forget(keyId: string): void {
    const hashes = [...this.cache.entries()].filter(([, entry]) => entry.principal?.keyId === keyId).map(([hash]) => hash);
    for (const hash of hashes) this.cache.delete(hash);
  }

  /** Creates a key; the plaintext is returned once and never stored. */
  async createKey(
    role: string,
    name?: string,
    tenants?: readonly string[],
    profileInput: Parameters<typeof reviewerProfile>[0] = {},
  ): Promise<{ id: string; name: string; role: Role; key: string; tenants: TenantScope; profile: ReviewerProfile }> {
    if (!ROLES.includes(role as Role)) throw badInput("role", `must be one of ${ROLES.join(", ")}`);
    const scope = tenantsForNewKey(role as Role, tenants);
    const profile = reviewerProfile(profileInput);
    const key = `tg_${role}_${randomBytes(24).toString("base64url")}`;
    const id = randomUUID();
    const keyName = name?.trim() || `${role}-${id.slice(0, 8)}`;
    await insertApiKey(this.db, {
      id,
      name: keyName,
      role: role as Role,
      keyHash: hashKey(key),
      tenants: scope,
      languages: profile.languages,
      skills: profile.skills,
      capacity: profile.capacity,
    });
    return { id, name: keyName, role: role as Role, key, tenants: scope, profile };
  }

  /**
   * Revokes a stored key and announces it (every gateway closes the key's sockets). Keys from
   * configuration are disabled by removing them and sending SIGHUP, so they are NOT_FOUND here.
   */
  async revokeKey(id: string): Promise<boolean> {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) return false;
    const revoked = await revokeApiKey(this.db, id);
    if (revoked) {
      this.forget(id);
      await this.options.onRevoked?.(id);
    }
    return revoked;
  }

  /** Like {@link revokeKey}, NOT_FOUND when there is no active stored key with this id. */
  async revokeKeyOrThrow(id: string): Promise<void> {
    if (!(await this.revokeKey(id))) throw notFound("active API key", id);
  }

  async listKeys() {
    return listApiKeys(this.db);
  }

  /**
   * On a fresh database (no keys at all), creates one key per role so a newcomer can try
   * everything; returns them for writing once. Later starts return nothing. A transaction-level
   * advisory lock keeps two processes starting together from both creating a set.
   */
  async bootstrapKeys(): Promise<{ role: Role; key: string; name: string }[]> {
    const created = ROLES.map((role) => ({ role, key: `tg_${role}_${randomBytes(24).toString("base64url")}`, name: `bootstrap-${role}` }));
    const stored = await insertIfNoKeys(
      this.db,
      created.map((c) => ({ id: randomUUID(), name: c.name, role: c.role, keyHash: hashKey(c.key), tenants: tenantsForNewKey(c.role, undefined) })),
    );
    return stored ? created : [];
  }
}
