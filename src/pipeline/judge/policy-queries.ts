import { sql, type Transaction } from "kysely";

import type { Db } from "../../db/database.js";
import type { Database, JudgePolicyRow } from "../../db/types.js";

/**
 * SQL of the Judge's policy versions (table judge_policies, migrations/0003). Versions are
 * numbered under one transaction-scoped advisory lock, so two operators applying at once get two
 * consecutive versions in commit order and neither overwrites the other.
 */

/** Arbitrary constant naming the advisory lock that serialises version numbering. */
const VERSION_LOCK = 0x6a_75_64_67; // "judg"

export interface NewPolicyVersion {
  policy: unknown;
  origin: "operator" | "config";
  configDigest?: string;
  createdBy: { keyId: string | null; name: string };
  justification: string;
  simulation?: unknown;
}

export async function appendPolicyVersion(
  db: Db,
  entry: NewPolicyVersion,
): Promise<JudgePolicyRow> {
  return db.transaction().execute(async (trx) => {
    await lockVersions(trx);
    return insertNext(trx, entry);
  });
}

/**
 * Stores the configured policy (POLICY_PATH, or the JUDGE_* defaults) as a new version when the
 * table is empty or the configuration changed since it was last stored; otherwise nothing.
 * Several processes starting at once store it once: the check runs under the version lock.
 */
export async function syncConfiguredPolicy(
  db: Db,
  entry: Omit<NewPolicyVersion, "origin" | "createdBy" | "configDigest"> & {
    configDigest: string;
    source: string;
  },
): Promise<JudgePolicyRow | undefined> {
  return db.transaction().execute(async (trx) => {
    await lockVersions(trx);
    const last = await trx
      .selectFrom("judge_policies")
      .select("config_digest")
      .where("origin", "=", "config")
      .orderBy("version", "desc")
      .limit(1)
      .executeTakeFirst();
    if (last?.config_digest === entry.configDigest) return undefined;
    return insertNext(trx, {
      policy: entry.policy,
      origin: "config",
      configDigest: entry.configDigest,
      createdBy: { keyId: null, name: `config:${entry.source}` },
      justification: entry.justification,
      simulation: entry.simulation,
    });
  });
}

export function latestPolicyVersion(db: Db): Promise<JudgePolicyRow | undefined> {
  return db
    .selectFrom("judge_policies")
    .selectAll()
    .orderBy("version", "desc")
    .limit(1)
    .executeTakeFirst();
}

export function policyHistory(db: Db, first: number): Promise<JudgePolicyRow[]> {
  return db
    .selectFrom("judge_policies")
    .selectAll()
    .orderBy("version", "desc")
    .limit(first)
    .execute();
}

async function lockVersions(trx: Transaction<Database>): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(${VERSION_LOCK})`.execute(trx);
}

async function insertNext(
  trx: Transaction<Database>,
  entry: NewPolicyVersion,
): Promise<JudgePolicyRow> {
  const max = await trx
    .selectFrom("judge_policies")
    .select(sql<number>`coalesce(max(version), 0)::int`.as("v"))
    .executeTakeFirstOrThrow();
  return trx
    .insertInto("judge_policies")
    .values({
      version: max.v + 1,
      policy: JSON.stringify(entry.policy),
      origin: entry.origin,
      config_digest: entry.configDigest ?? null,
      created_by_key_id: entry.createdBy.keyId,
      created_by_name: entry.createdBy.name,
      justification: entry.justification,
      simulation: entry.simulation === undefined ? null : JSON.stringify(entry.simulation),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}
