import { createHash, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { sql } from "kysely";
import { ConfigError } from "../config.js";
import type { Db } from "../db/database.js";
import { ROLES, type Role } from "../db/types.js";
import { badInput } from "../domain/domain-error.js";

export interface Principal {
  keyId: string;
  name: string;
  role: Role;
}

/** Keys are 32 random bytes, so a fast hash is enough: there is nothing to brute-force. */
export function hashKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

/** `role:key` pairs from TRENDGATE_API_KEYS; throws naming the bad pair. */
export function parseConfiguredKeys(value: string): { role: Role; key: string }[] {
  return value
    .split(",")
    .map((pair) => pair.trim())
    .filter(Boolean)
    .map((pair) => {
      const index = pair.indexOf(":");
      const role = pair.slice(0, index) as Role;
      const key = pair.slice(index + 1);
      if (index < 1 || !ROLES.includes(role) || key.length < 8) {
        // Only the role part is echoed: the message must not leak a key.
        throw new ConfigError([
          {
            variable: "TRENDGATE_API_KEYS",
            message: `"${pair.slice(0, Math.max(index, 0)) || "(no role)"}:…" must be role:key with role one of ${ROLES.join(", ")} and a key of at least 8 characters`,
          },
        ]);
      }
      return { role, key };
    });
}

/**
 * API keys: created with `trendgate keys create --role`, stored as hashes, plus the ones from
 * configuration (docker-compose). Lookups are cached briefly so each request is not a query.
 */
export class AuthService {
  private readonly configured: { role: Role; hash: Buffer; name: string }[];
  private readonly cache = new Map<string, { principal: Principal | undefined; at: number }>();

  constructor(
    private readonly db: Db,
    configuredKeys: string,
  ) {
    this.configured = parseConfiguredKeys(configuredKeys).map((k, i) => ({
      role: k.role,
      hash: Buffer.from(hashKey(k.key), "hex"),
      name: `config-${k.role}-${i + 1}`,
    }));
  }

  /** The principal for a bearer key, or undefined when the key is unknown or revoked. */
  async authenticate(key: string | undefined | null): Promise<Principal | undefined> {
    if (!key) return undefined;
    const hash = hashKey(key);
    const hashBuffer = Buffer.from(hash, "hex");
    const fromConfig = this.configured.find((c) => timingSafeEqual(c.hash, hashBuffer));
    if (fromConfig) return { keyId: fromConfig.name, name: fromConfig.name, role: fromConfig.role };
    const cached = this.cache.get(hash);
    if (cached && Date.now() - cached.at < 5000) return cached.principal;
    const row = await this.db
      .selectFrom("api_keys")
      .select(["id", "name", "role"])
      .where("key_hash", "=", hash)
      .where("revoked_at", "is", null)
      .executeTakeFirst();
    const principal = row ? { keyId: row.id, name: row.name, role: row.role } : undefined;
    this.cache.set(hash, { principal, at: Date.now() });
    if (this.cache.size > 10_000) this.cache.clear();
    return principal;
  }

  /** Creates a key; the plaintext is returned once and never stored. */
  async createKey(role: string, name?: string): Promise<{ id: string; name: string; role: Role; key: string }> {
    if (!ROLES.includes(role as Role)) throw badInput("role", `must be one of ${ROLES.join(", ")}`);
    const key = `tg_${role}_${randomBytes(24).toString("base64url")}`;
    const id = randomUUID();
    const keyName = name?.trim() || `${role}-${id.slice(0, 8)}`;
    await this.db
      .insertInto("api_keys")
      .values({ id, name: keyName, role: role as Role, key_hash: hashKey(key) })
      .execute();
    return { id, name: keyName, role: role as Role, key };
  }

  async revokeKey(id: string): Promise<boolean> {
    const result = await this.db
      .updateTable("api_keys")
      .set({ revoked_at: new Date() })
      .where("id", "=", id)
      .where("revoked_at", "is", null)
      .executeTakeFirst();
    this.cache.clear();
    return Number(result.numUpdatedRows) > 0;
  }

  async listKeys() {
    return this.db.selectFrom("api_keys").select(["id", "name", "role", "created_at", "revoked_at"]).orderBy("created_at").execute();
  }

  /**
   * On a fresh database (no keys at all), creates one key per role so a newcomer can try
   * everything; returns them for printing once. Later starts return nothing. A transaction-level
   * advisory lock keeps two processes starting together from both creating a set.
   */
  async bootstrapKeys(): Promise<{ role: Role; key: string; name: string }[]> {
    return this.db.transaction().execute(async (trx) => {
      await sql`SELECT pg_advisory_xact_lock(4242001)`.execute(trx);
      const existing = await trx.selectFrom("api_keys").select("id").limit(1).executeTakeFirst();
      if (existing) return [];
      const created: { role: Role; key: string; name: string }[] = [];
      for (const role of ROLES) {
        const key = `tg_${role}_${randomBytes(24).toString("base64url")}`;
        const name = `bootstrap-${role}`;
        await trx.insertInto("api_keys").values({ id: randomUUID(), name, role, key_hash: hashKey(key) }).execute();
        created.push({ role, key, name });
      }
      return created;
    });
  }
}
