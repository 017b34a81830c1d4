import { randomUUID } from "node:crypto";

import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { EscalationService } from "../../../src/pipeline/review/escalation-service.js";
import { loadReasonCodes } from "../../../src/pipeline/review/reason-codes.js";
import { createTestEnv, type TestEnv } from "../../support/test-env.js";

/**
 * Migration 0014: every claim's start is kept (escalation_claims), whoever's code made it, so
 * reviewerStats can measure claim → review. A holder renewing its claim is the same claim.
 */
let env: TestEnv;
let escalations: EscalationService;

beforeAll(async () => {
  env = await createTestEnv();
  escalations = new EscalationService({
    db: env.db,
    logger: env.logger,
    claimLeaseMs: 60_000,
    reasonCodes: loadReasonCodes(undefined),
  });
}, 60_000);
afterAll(async () => env?.close());

async function openEscalation(): Promise<string> {
  const trendId = randomUUID();
  await env.db
    .insertInto("enriched_trends")
    .values({
      id: trendId,
      trace_id: randomUUID(),
      source: "wire",
      body: "b",
      metadata: "{}",
      status: "ESCALATED",
    })
    .execute();
  const id = randomUUID();
  await env.db
    .insertInto("escalations")
    .values({ id, trend_id: trendId, issue_type: "toxicity", reason: "r", scores: "{}" })
    .execute();
  return id;
}

async function claimsOf(
  id: string,
): Promise<{ reviewer_key_id: string; reviewer_name: string | null }[]> {
  const { rows } = await sql<{ reviewer_key_id: string; reviewer_name: string | null }>`
    SELECT reviewer_key_id, reviewer_name FROM escalation_claims WHERE escalation_id = ${id} ORDER BY claimed_at, reviewer_key_id`.execute(
    env.db,
  );
  return rows;
}

describe("escalation_claims", () => {
  it("should record a claim once per holder, a renewal not again, and a takeover by another key", async () => {
    const id = await openEscalation();
    const alice = { name: "alice", role: "moderator", keyId: "key-alice" };
    const bob = { name: "bob", role: "moderator", keyId: "key-bob" };

    await escalations.claim(id, alice);
    await escalations.claim(id, alice); // a renewal of alice's own lease
    expect(await claimsOf(id)).toEqual([{ reviewer_key_id: "key-alice", reviewer_name: "alice" }]);

    // Alice's lease lapses; bob takes it over.
    await env.db
      .updateTable("escalations")
      .set({ claim_expires_at: new Date(Date.now() - 1000) })
      .where("id", "=", id)
      .execute();
    await escalations.claim(id, bob);
    await escalations.release(id, bob);
    await escalations.claim(id, alice);

    expect((await claimsOf(id)).map((c) => c.reviewer_key_id)).toEqual([
      "key-alice",
      "key-bob",
      "key-alice",
    ]);
  });

  it("should record nothing for changes that are not claims (release, resolve)", async () => {
    const id = await openEscalation();
    await escalations.resolve(
      id,
      { decision: "APPROVE" },
      { name: "carol", role: "moderator", keyId: "key-carol" },
    );
    expect(await claimsOf(id)).toEqual([]);
  });
});
