import { sql } from "kysely";

import type { Db } from "./database.js";

/** What the metrics, health route and health views read at request time, so every process reports the same. */

/** Escalations still waiting for a human (not RESOLVED), per issue type present. */
export function openEscalationsByType(db: Db): Promise<{ issue_type: string; n: number }[]> {
  return db
    .selectFrom("escalations")
    .select(["issue_type", sql<number>`count(*)::int`.as("n")])
    .where("status", "<>", "RESOLVED")
    .groupBy("issue_type")
    .execute();
}

/** Budget overruns raised so far (budget_overrun escalations, resolved or not). */
export async function budgetOverrunCount(db: Db): Promise<number> {
  const row = await db
    .selectFrom("escalations")
    .select(sql<number>`count(*)::int`.as("n"))
    .where("issue_type", "=", "budget_overrun")
    .executeTakeFirst();
  return row?.n ?? 0;
}

/** Publications recorded, per approval path present. */
export function publicationsByPath(db: Db): Promise<{ approval_path: string; n: number }[]> {
  return db
    .selectFrom("publications")
    .select(["approval_path", sql<number>`count(*)::int`.as("n")])
    .groupBy("approval_path")
    .execute();
}

/** Outbox rows not yet relayed to their stream. */
export async function outboxBacklog(db: Db): Promise<number> {
  const row = await db
    .selectFrom("outbox")
    .select(sql<number>`count(*)::int`.as("n"))
    .executeTakeFirst();
  return row?.n ?? 0;
}

/** One round trip that proves the database answers (health checks). */
export async function pingDatabase(db: Db): Promise<void> {
  await sql`SELECT 1`.execute(db);
}
