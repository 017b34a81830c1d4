import { sql } from "kysely";

import type { Db } from "./database.js";
import type { TrendRow } from "./types.js";

/** Everything of one trend a stage may write, read at one moment (for the dead-letter dry run). */
export interface TrendFootprint {
  trend: TrendRow | undefined;
  /** Provenance entries by id → step. */
  provenance: Map<string, string>;
  publications: number;
  incidents: number;
  escalations: number;
  /** Outbox rows announcing this trend, by id → stream. */
  outbox: Map<string, string>;
}

export async function readTrendFootprint(db: Db, trendId: string): Promise<TrendFootprint> {
  const [trend, provenance, publications, incidents, escalations, outbox] = await Promise.all([
    db.selectFrom("enriched_trends").selectAll().where("id", "=", trendId).executeTakeFirst(),
    db
      .selectFrom("provenance_log")
      .select(["id", "step"])
      .where("trend_id", "=", trendId)
      .execute(),
    countOf(db, "publications", trendId),
    countOf(db, "incidents", trendId),
    countOf(db, "escalations", trendId),
    db
      .selectFrom("outbox")
      .select(["id", "stream"])
      .where(sql<string>`payload->>'trendId'`, "=", trendId)
      .execute(),
  ]);
  return {
    trend,
    provenance: new Map(provenance.map((p) => [String(p.id), p.step])),
    publications,
    incidents,
    escalations,
    outbox: new Map(outbox.map((o) => [String(o.id), o.stream])),
  };
}

async function countOf(
  db: Db,
  table: "publications" | "incidents" | "escalations",
  trendId: string,
): Promise<number> {
  const row = await db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("trend_id", "=", trendId)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}
