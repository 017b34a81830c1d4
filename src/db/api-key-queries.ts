import { type Kysely, sql } from "kysely";
import type { Database, Role } from "./types.js";

/** Stored API keys: hashes only, the plaintext is never stored. */

type Db = Kysely<Database>;

export interface NewApiKey {
  id: string;
  name: string;
  role: Role;
  keyHash: string;
  /** null = every tenant. */
  tenants: readonly string[] | null;
  languages?: readonly string[];
  skills?: readonly string[];
  capacity?: number;
}

/** The active (not revoked) key with this hash, with its reviewer profile, or undefined. */
export function activeKeyByHash(db: Db, hash: string) {
  return db
    .selectFrom("api_keys")
    .select(["id", "name", "role", "tenants", "languages", "skills", "capacity"])
    .where("key_hash", "=", hash)
    .where("revoked_at", "is", null)
    .executeTakeFirst();
}

export async function insertApiKey(db: Db, key: NewApiKey): Promise<void> {
  await db
    .insertInto("api_keys")
    .values({
      id: key.id,
      name: key.name,
      role: key.role,
      key_hash: key.keyHash,
      tenants: key.tenants ? [...key.tenants] : null,
      ...(key.languages ? { languages: [...key.languages] } : {}),
      ...(key.skills ? { skills: [...key.skills] } : {}),
      ...(key.capacity !== undefined ? { capacity: key.capacity } : {}),
    })
    .execute();
}

/** Revokes an active key; false when there is no active key with this id. */
export async function revokeApiKey(db: Db, id: string): Promise<boolean> {
  const result = await db
    .updateTable("api_keys")
    .set({ revoked_at: sql<Date>`now()` })
    .where("id", "=", id)
    .where("revoked_at", "is", null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Every stored key, revoked ones too, oldest first. */
export function listApiKeys(db: Db) {
  return db
    .selectFrom("api_keys")
    .select([
      "id",
      "name",
      "role",
      "tenants",
      "languages",
      "skills",
      "capacity",
      "created_at",
      "revoked_at",
    ])
    .orderBy("created_at")
    .execute();
}

/**
 * Stores `keys` only when no key is stored yet, under a transaction-level advisory lock, so two
 * processes starting together do not both create a set; false when keys existed.
 */
export function insertIfNoKeys(db: Db, keys: readonly NewApiKey[]): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    await sql`SELECT pg_advisory_xact_lock(4242001)`.execute(trx);
    const existing = await trx.selectFrom("api_keys").select("id").limit(1).executeTakeFirst();
    if (existing) return false;
    for (const key of keys) await insertApiKey(trx, key);
    return true;
  });
}
