/**
 * claimNextEscalation (issue 14, item 2): latency of claiming the most urgent eligible
 * escalation with 10,000 open escalations and 50 reviewers calling at once, through
 * EscalationService.claimNext (the resolver adds only the GraphQL layer). One call is one
 * transaction: the reviewer's advisory lock, then one UPDATE … FROM (the most urgent of each
 * issue type's oldest eligible escalation, found by index walks FOR UPDATE SKIP LOCKED).
 *
 *   npx tsx bench/review/claim-next.ts [--escalations 10000] [--reviewers 50] [--rounds 10] [--pool 20]
 *
 * Data (one seeded PRNG): items in en 60 %, de 25 %, fr 10 %, und 5 %; issue types toxicity,
 * low_confidence, audit_sample, budget_overrun; ages 0–240 min. Reviewers: a fifth of them
 * German-only, a fifth English+French, the rest any language; a third hold skill `toxicity`,
 * which the policy requires for toxicity. Each round, every reviewer calls claimNext once, all at
 * once, over a pool of `pool` connections; claims are released after the round so the queue
 * stays at its size. Figures taken on a shared 2-core machine are provisional. Last line: JSON.
 */
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import { openDatabase } from "../../src/db/database.js";
import type { IssueType } from "../../src/db/types.js";
import { reviewerProfile } from "../../src/domain/reviewer-profile.js";
import { seededRandom } from "../../src/domain/seeded-random.js";
import { createLogger } from "../../src/observability/logger.js";
import { parsePolicy } from "../../src/pipeline/judge/judge-policy.js";
import { type Actor, EscalationService } from "../../src/pipeline/review/escalation-service.js";
import { loadReasonCodes } from "../../src/pipeline/review/reason-codes.js";
import { createBenchEnv, percentile } from "../pipeline/bench-env.js";

const { values: args } = parseArgs({
  options: {
    escalations: { type: "string", default: "10000" },
    reviewers: { type: "string", default: "50" },
    rounds: { type: "string", default: "10" },
    pool: { type: "string", default: "20" },
  },
});
const ESCALATIONS = Number(args.escalations);
const REVIEWERS = Number(args.reviewers);
const ROUNDS = Number(args.rounds);
const POOL = Number(args.pool);

const random = seededRandom(1414);
const pick = <T>(weighted: readonly [T, number][]): T => {
  let r = random();
  for (const [value, weight] of weighted) if ((r -= weight) < 0) return value;
  return weighted[weighted.length - 1]![0];
};

const env = await createBenchEnv();
const handle = openDatabase(env.config.DATABASE_URL, { max: POOL });
const db = handle.db;
const review = parsePolicy({ review: { requiredSkill: { toxicity: "toxicity" } } }).review;
const service = new EscalationService({
  db,
  logger: createLogger("silent", "bench"),
  claimLeaseMs: 600_000, reasonCodes: loadReasonCodes(undefined),
  reviewPolicy: async () => review,
});
try {
  const loadStart = performance.now();
  for (let at = 0; at < ESCALATIONS; at += 1000) {
    const batch = Array.from({ length: Math.min(1000, ESCALATIONS - at) }, () => ({
      trendId: randomUUID(),
      language: pick([
        ["en", 0.6],
        ["de", 0.25],
        ["fr", 0.1],
        ["und", 0.05],
      ] as const),
      issueType: pick<IssueType>([
        ["toxicity", 0.4],
        ["low_confidence", 0.4],
        ["audit_sample", 0.15],
        ["budget_overrun", 0.05],
      ]),
      createdAt: new Date(Date.now() - random() * 240 * 60_000),
    }));
    await db
      .insertInto("enriched_trends")
      .values(
        batch.map((b) => ({
          id: b.trendId,
          trace_id: randomUUID().replace(/-/g, ""),
          source: "bench",
          body: "bench",
          metadata: "{}",
          language: b.language,
          status: "ESCALATED" as const,
        })),
      )
      .execute();
    await db
      .insertInto("escalations")
      .values(
        batch.map((b) => ({
          id: randomUUID(),
          trend_id: b.trendId,
          issue_type: b.issueType,
          reason: "bench",
          scores: "{}",
          created_at: b.createdAt,
        })),
      )
      .execute();
  }
  const loadSeconds = (performance.now() - loadStart) / 1000;

  const reviewers: Actor[] = Array.from({ length: REVIEWERS }, (_, i) => ({
    name: `reviewer-${i}`,
    role: "moderator",
    keyId: randomUUID(),
    profile: reviewerProfile({
      languages: i % 5 === 0 ? "de" : i % 5 === 1 ? "en,fr" : "",
      skills: i % 3 === 0 ? "toxicity" : "",
      capacity: 3,
    }),
  }));

  const times: number[] = [];
  let nulls = 0;
  const runStart = performance.now();
  for (let round = 0; round < ROUNDS; round++) {
    const claimed = await Promise.all(
      reviewers.map(async (r) => {
        const start = performance.now();
        const row = await service.claimNext(r);
        times.push(performance.now() - start);
        return row;
      }),
    );
    const ids = claimed.flatMap((row) => (row ? [row.id] : []));
    nulls += claimed.length - ids.length;
    if (new Set(ids).size !== ids.length)
      throw new Error(`round ${round}: an escalation was claimed twice`);
    // Back to the queue, so every round sees the full queue (and capacity never runs out).
    await db
      .updateTable("escalations")
      .set({ status: "OPEN", claimed_by: null, claimed_by_key: null, claim_expires_at: null })
      .where("id", "in", ids.length ? ids : [randomUUID()])
      .execute();
  }
  const runSeconds = (performance.now() - runStart) / 1000;
  const result = {
    p50: percentile(times, 50),
    p99: percentile(times, 99),
    max: Math.max(...times),
    calls: times.length,
    nulls,
    callsPerSecond: times.length / runSeconds,
  };
  console.log(
    `claimNextEscalation: ${ESCALATIONS} open escalations, ${REVIEWERS} reviewers calling at once, ${ROUNDS} rounds, pool ${POOL} (load ${loadSeconds.toFixed(1)} s; provisional: shared 2-core machine)`,
  );
  console.log("| calls | p50 ms | p99 ms | max ms | calls/s | nulls |");
  console.log("| ---: | ---: | ---: | ---: | ---: | ---: |");
  console.log(
    `| ${result.calls} | ${result.p50.toFixed(1)} | ${result.p99.toFixed(1)} | ${result.max.toFixed(1)} | ${result.callsPerSecond.toFixed(0)} | ${result.nulls} |`,
  );
  console.log(
    JSON.stringify({
      bench: "claim-next",
      escalations: ESCALATIONS,
      reviewers: REVIEWERS,
      rounds: ROUNDS,
      pool: POOL,
      ...result,
    }),
  );
} finally {
  await handle.close();
  await env.close();
}
