import { randomUUID } from "node:crypto";

import type { Db } from "../../src/db/database.js";
import type { IssueType, TrendStatus } from "../../src/db/types.js";

/** One item as the Judge left it, with a moderator's decision when one resolved its escalation. */
export interface JudgedSeed {
  toxicity: number;
  confidence: number;
  outcome: "READY" | "ESCALATED" | "REJECTED";
  rule?: string;
  policyVersion?: number;
  auditSample?: boolean;
  issueType?: IssueType;
  decision?: "APPROVE" | "REJECT";
  body?: string;
  source?: string;
  at?: Date;
}

/**
 * Writes judged items straight into the tables (trend, the Judge's provenance entry in the shape
 * the worker writes, and a resolved escalation), in multi-row inserts, so tests and benchmarks
 * get a history of thousands of decided items in moments.
 */
export async function seedJudged(db: Db, seeds: readonly JudgedSeed[]): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < seeds.length; start += 500) {
    const chunk = seeds
      .slice(start, start + 500)
      .map((s) => ({ ...s, id: randomUUID(), traceId: randomUUID().replace(/-/g, "") }));
    ids.push(...chunk.map((c) => c.id));
    await db
      .insertInto("enriched_trends")
      .values(
        chunk.map((c) => ({
          id: c.id,
          trace_id: c.traceId,
          source: c.source ?? "seed",
          body: c.body ?? "An ordinary seeded post about the weather.",
          normalized_body: c.body ?? "An ordinary seeded post about the weather.",
          metadata: "{}",
          toxicity_score: c.toxicity,
          confidence: c.confidence,
          status: statusOf(c),
          embedding_status: "SUCCEEDED" as const,
        })),
      )
      .execute();
    await db
      .insertInto("provenance_log")
      .values(
        chunk.map((c) => ({
          trace_id: c.traceId,
          trend_id: c.id,
          step: "judge",
          actor: `judge:policy-v${c.policyVersion ?? 1}`,
          input: JSON.stringify({ toxicityScore: c.toxicity, confidence: c.confidence }),
          output: JSON.stringify({
            outcome: c.outcome,
            rule: c.rule ?? (c.auditSample ? "audit_sample" : "seeded"),
            reason: "seeded",
            policyVersion: c.policyVersion ?? 1,
            ...(c.auditSample ? { auditSample: true, judgeOutcome: "READY" } : {}),
          }),
          parent_id: null,
          ...(c.at ? { created_at: c.at } : {}),
        })),
      )
      .execute();
    const escalated = chunk.filter((c) => c.outcome === "ESCALATED");
    if (escalated.length) {
      await db
        .insertInto("escalations")
        .values(
          escalated.map((c) => ({
            id: randomUUID(),
            trend_id: c.id,
            issue_type:
              c.issueType ??
              (c.auditSample ? "audit_sample" : c.toxicity > 0.5 ? "toxicity" : "low_confidence"),
            reason: "seeded",
            rule: c.rule ?? null,
            scores: "{}",
            status: c.decision ? ("RESOLVED" as const) : ("OPEN" as const),
            decision: c.decision ?? null,
            resolved_by: c.decision ? "seed-moderator" : null,
            resolved_at: c.decision ? (c.at ?? new Date()) : null,
          })),
        )
        .execute();
    }
  }
  return ids;
}

function statusOf(seed: JudgedSeed): TrendStatus {
  if (seed.outcome !== "ESCALATED") return seed.outcome;
  if (!seed.decision) return "ESCALATED";
  return seed.decision === "APPROVE" ? "APPROVED" : "REJECTED";
}
