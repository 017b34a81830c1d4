import { randomUUID } from "node:crypto";

import type { Db } from "../../../src/db/database.js";
import type { IssueType } from "../../../src/db/types.js";
import { reviewerProfile } from "../../../src/domain/reviewer-profile.js";
import { parsePolicy, type ReviewPolicy } from "../../../src/pipeline/judge/judge-policy.js";
import type { Actor } from "../../../src/pipeline/review/escalation-service.js";

/** An ESCALATED trend in `language` with one open escalation; returns the escalation's id. */
export async function seedEscalation(
  db: Db,
  options: { language?: string | null; issueType?: IssueType; ageMinutes?: number } = {},
): Promise<string> {
  const trendId = randomUUID();
  await db
    .insertInto("enriched_trends")
    .values({
      id: trendId,
      trace_id: randomUUID().replace(/-/g, ""),
      source: "wire",
      body: "An item for review.",
      metadata: "{}",
      language: options.language === undefined ? "en" : options.language,
      status: "ESCALATED",
    })
    .execute();
  const id = randomUUID();
  await db
    .insertInto("escalations")
    .values({
      id,
      trend_id: trendId,
      issue_type: options.issueType ?? "toxicity",
      reason: "seeded",
      scores: "{}",
      created_at: new Date(Date.now() - (options.ageMinutes ?? 0) * 60_000),
    })
    .execute();
  return id;
}

/** A moderator actor with a profile, as the gateway builds it from a key. */
export function reviewer(
  name: string,
  profile: { languages?: string; skills?: string; capacity?: number } = {},
): Actor {
  return {
    name,
    role: "moderator",
    keyId: `key-${name}-${randomUUID().slice(0, 8)}`,
    profile: reviewerProfile(profile),
  };
}

export function reviewPolicy(review: Record<string, unknown>): ReviewPolicy {
  return parsePolicy({ review }).review;
}
