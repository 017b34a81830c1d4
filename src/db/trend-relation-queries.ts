import type { Db } from "./database.js";
import type {
  EmbeddingRecordRow,
  EscalationRow,
  PlannerIntentRow,
  PublicationRow,
} from "./types.js";

/**
 * What hangs off a set of trends, one query per relation, for the GraphQL DataLoaders: each
 * returns the rows of every trend id given, in no particular order unless said.
 */

/** Escalations of the trends, oldest first. */
export function escalationsOfTrends(db: Db, trendIds: readonly string[]): Promise<EscalationRow[]> {
  return db
    .selectFrom("escalations")
    .selectAll()
    .where("trend_id", "in", trendIds)
    .orderBy("created_at")
    .execute();
}

export function plansOfTrends(db: Db, trendIds: readonly string[]): Promise<PlannerIntentRow[]> {
  return db.selectFrom("planner_intents").selectAll().where("trend_id", "in", trendIds).execute();
}

export function embeddingRecordsOfTrends(
  db: Db,
  trendIds: readonly string[],
): Promise<EmbeddingRecordRow[]> {
  return db.selectFrom("embedding_records").selectAll().where("trend_id", "in", trendIds).execute();
}

export function publicationsOfTrends(
  db: Db,
  trendIds: readonly string[],
): Promise<PublicationRow[]> {
  return db.selectFrom("publications").selectAll().where("trend_id", "in", trendIds).execute();
}

/** One escalation by id, or undefined. */
export function escalationById(db: Db, id: string): Promise<EscalationRow | undefined> {
  return db.selectFrom("escalations").selectAll().where("id", "=", id).executeTakeFirst();
}
