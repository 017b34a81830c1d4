import { type SqlBool, sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ISSUE_TYPES } from "../../../src/db/types.js";
import { seededRandom } from "../../../src/domain/seeded-random.js";
import { eligibleFor } from "../../../src/pipeline/review/eligibility.js";
import type { Actor } from "../../../src/pipeline/review/escalation-service.js";
import { type Claimant, claimMostUrgent, urgency } from "../../../src/pipeline/review/routing.js";
import { createTestEnv, type TestEnv } from "../../support/test-env.js";
import { reviewer, reviewPolicy, seedEscalation } from "./review-seed.js";

/**
 * claimMostUrgent walks each issue type's index head instead of sorting the queue (migration
 * 0015). It must pick exactly what sorting every eligible escalation by urgency would: the
 * reference below is that sort, run in the same transaction (same now()) before each claim.
 */
let env: TestEnv;

beforeAll(async () => {
  env = await createTestEnv();
}, 60_000);
afterAll(async () => env?.close());

const review = reviewPolicy({ requiredSkill: { toxicity: "toxicity" } });
const claimable = sql<SqlBool>`(e.status IN ('OPEN', 'IN_REVIEW') OR (e.status = 'CLAIMED' AND e.claim_expires_at < now()))`;

async function seedQueue(reviewers: readonly Actor[]): Promise<void> {
  const random = seededRandom(14);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)]!;
  for (let i = 0; i < 120; i++) {
    const id = await seedEscalation(env.db, {
      // Appeals need the decision they appeal (a constraint); their routing is the same.
      issueType: pick(ISSUE_TYPES.filter((type) => type !== "appeal")),
      language: pick(["en", "de", "fr", "und", null]),
      // Some share an age to the millisecond: ties go to created_at, then id.
      ageMinutes: i % 10 === 0 ? 42 : random() * 300,
    });
    const kind = random();
    const someone = pick(reviewers).keyId!;
    // Routed to a decider skill by a disagreement, or to a skill by a deadline's reassignment;
    // reviewed by one reviewer; excluding one; a claim whose lease lapsed (claimable again); a
    // live claim (not claimable).
    if (kind < 0.08)
      await set(id, sql`decider_skill = ${pick(["senior", "toxicity"])}, status = 'IN_REVIEW'`);
    else if (kind < 0.15) await set(id, sql`required_skill = ${pick(["senior", "toxicity"])}`);
    else if (kind < 0.22) {
      await set(id, sql`status = 'IN_REVIEW'`);
      await env.db
        .insertInto("escalation_reviews")
        .values({
          escalation_id: id,
          reviewer_key_id: someone,
          reviewer_name: "r",
          decision: "APPROVE",
        })
        .execute();
    } else if (kind < 0.27) await set(id, sql`excluded_reviewers = ${[someone]}::text[]`);
    else if (kind < 0.32)
      await set(
        id,
        sql`status = 'CLAIMED', claimed_by_key = 'gone', claim_expires_at = now() - interval '1 minute'`,
      );
    else if (kind < 0.37)
      await set(
        id,
        sql`status = 'CLAIMED', claimed_by_key = 'holder', claim_expires_at = now() + interval '1 hour'`,
      );
  }
}

async function set(id: string, assignments: ReturnType<typeof sql>): Promise<void> {
  await sql`UPDATE escalations SET ${assignments} WHERE id = ${id}`.execute(env.db);
}

describe("claimMostUrgent", () => {
  it("should claim, one after another, exactly the order of sorting every eligible escalation by urgency", async () => {
    const reviewers = [
      reviewer("any", { capacity: 1000 }),
      reviewer("de", { languages: "de", capacity: 1000 }),
      reviewer("en-fr-toxicity", { languages: "en,fr", skills: "toxicity", capacity: 1000 }),
      reviewer("senior", { skills: "senior,toxicity", capacity: 1000 }),
    ];
    await seedQueue(reviewers);
    let claims = 0;
    for (const actor of reviewers) {
      const claimant: Claimant = { name: actor.name, keyId: actor.keyId!, profile: actor.profile! };
      for (;;) {
        const [expected, got] = await env.db.transaction().execute(async (trx) => {
          const reference = await trx
            .selectFrom("escalations as e")
            .innerJoin("enriched_trends as t", "t.id", "e.trend_id")
            .select("e.id")
            .where(claimable)
            .where(eligibleFor(claimant, review))
            .orderBy(urgency(), "desc")
            .orderBy("e.created_at")
            .orderBy("e.id")
            .limit(1)
            .executeTakeFirst();
          const claimed = await claimMostUrgent(trx, claimant, review, null, 60_000);
          return [reference?.id, claimed?.id];
        });
        expect(got).toBe(expected);
        if (got === undefined) break;
        claims++;
      }
    }
    // The walk covered the queue: most escalations went to someone.
    expect(claims).toBeGreaterThan(60);
  });
});
