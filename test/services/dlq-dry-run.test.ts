import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { createInProcessPublisher } from "../../src/mcp/in-process-publisher.js";
import { ActiveJudgePolicy } from "../../src/pipeline/judge/active-policy.js";
import { PolicyProvider } from "../../src/pipeline/judge/policy-provider.js";
import { OverrideService } from "../../src/pipeline/publish/override-service.js";
import { publishStage } from "../../src/pipeline/publish/publish-stage.js";
import { createStageDeps, type OwnedStageDeps } from "../../src/pipeline/stage-deps.js";
import type { DeadLetterEntry } from "../../src/services/dead-letter-service.js";
import { DryRunner, type DryRunResult } from "../../src/services/dlq-dry-run.js";
import { makeEnvelope } from "../../src/streams/envelope.js";
import { STREAMS } from "../../src/streams/stream-names.js";
import type { Job } from "../../src/workers/runtime/job.js";
import { seedJudged } from "../support/seed-judged.js";
import { createTestEnv, type TestEnv } from "../support/test-env.js";

/**
 * The dead-letter dry run runs the stage's own handler in a transaction that is rolled back:
 * it must write nothing, and its decision must be the one the real run then takes.
 */
let env: TestEnv;
let dir: string;
let jsonlPath: string;
let deps: OwnedStageDeps;
let runner: DryRunner;

beforeAll(async () => {
  env = await createTestEnv();
  dir = await mkdtemp(path.join(tmpdir(), "trendgate-dry-run-"));
  jsonlPath = path.join(dir, "published.jsonl");
  const policy = new ActiveJudgePolicy({
    db: env.db,
    configured: new PolicyProvider(undefined, { minConfidence: 0.6, maxToxicity: 0.8 }, env.logger),
    configSource: "test defaults",
    logger: env.logger,
  });
  deps = createStageDeps(env.config, env.db, env.logger, policy, {
    publisher: createInProcessPublisher({ jsonlPath }),
  });
  runner = new DryRunner(deps, env.database.pool);
}, 60_000);

afterAll(async () => {
  await deps?.close();
  await env?.close();
  await rm(dir, { recursive: true, force: true });
});

/** A REJECTED trend with one incident, as the Judge leaves a policy violation. */
async function rejectedWithIncident(): Promise<{
  trendId: string;
  traceId: string;
  incidentId: string;
}> {
  const [trendId] = await seedJudged(env.db, [
    { toxicity: 0.999, confidence: 0.9, outcome: "REJECTED", rule: "blocked_pattern" },
  ]);
  const incidentId = randomUUID();
  await env.db
    .insertInto("incidents")
    .values({
      id: incidentId,
      trend_id: trendId!,
      rule: "blocked_pattern",
      reason: "seeded",
      provenance: "[]",
    })
    .execute();
  const { trace_id } = await env.db
    .selectFrom("enriched_trends")
    .select("trace_id")
    .where("id", "=", trendId!)
    .executeTakeFirstOrThrow();
  return { trendId: trendId!, traceId: trace_id, incidentId };
}

function publishDeadLetter(trendId: string, traceId: string): { entry: DeadLetterEntry; job: Job } {
  const envelope = makeEnvelope("trend.override", { traceId, trendId, payload: { trendId } });
  const entry: DeadLetterEntry = {
    id: "1700000000000-0",
    stream: STREAMS.publishDlq,
    sourceStream: STREAMS.publishJobs,
    sourceId: "1-0",
    group: "publisher",
    trendId,
    error: "publish tool unreachable",
    errorCode: "PUBLISH_UNAVAILABLE",
    attempts: 5,
    firstFailedAt: new Date(),
    lastFailedAt: new Date(),
    envelope,
    raw: JSON.stringify(envelope),
  };
  return {
    entry,
    job: { stream: STREAMS.publishJobs, entryId: "2-0", envelope, attempt: 1, deliveries: 1 },
  };
}

async function stored(trendId: string) {
  const trend = await env.db
    .selectFrom("enriched_trends")
    .select(["status", "budget_spent"])
    .where("id", "=", trendId)
    .executeTakeFirstOrThrow();
  const publications = await env.db
    .selectFrom("publications")
    .select(["approval_path"])
    .where("trend_id", "=", trendId)
    .execute();
  const steps = await env.db
    .selectFrom("provenance_log")
    .select("step")
    .where("trend_id", "=", trendId)
    .orderBy("id")
    .execute();
  return {
    status: trend.status,
    budgetSpent: trend.budget_spent,
    publications,
    steps: steps.map((s) => s.step),
  };
}

const wouldBe = (dry: DryRunResult, field: string) =>
  dry.changes.find((c) => c.field === field)?.wouldBe;

async function realRun(job: Job): Promise<void> {
  const runtime = await publishStage.start(deps);
  await runtime.handler(job, new AbortController().signal);
}

const jsonlLines = async () =>
  (await readFile(jsonlPath, "utf8").catch(() => ""))
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { trendId: string });

describe("dead-letter dry run", { timeout: 60_000 }, () => {
  it("should decide as the publisher does for an item with an override naming its incident, writing nothing", async () => {
    const { trendId, traceId, incidentId } = await rejectedWithIncident();
    await new OverrideService(env.db).overridePublish(
      trendId,
      "press release, checked by legal",
      { name: "op", role: "operator" },
      incidentId,
    );
    const { entry, job } = publishDeadLetter(trendId, traceId);
    const before = await stored(trendId);

    const dry = await runner.run(entry);

    expect(dry).toMatchObject({ outcome: "would_succeed", trendId });
    expect(dry.message).toContain("approval path override");
    expect(wouldBe(dry, "status")).toBe("PUBLISHED");
    expect(wouldBe(dry, "publications")).toBe(1);
    expect(wouldBe(dry, "publish tool.publish")).toMatchObject({ approvalPath: "override" });
    expect(await stored(trendId)).toEqual(before);
    expect(await jsonlLines()).toEqual([]);

    await realRun(job);

    const after = await stored(trendId);
    expect(after.status).toBe(wouldBe(dry, "status"));
    expect(after.publications).toEqual([{ approval_path: "override" }]);
    expect(after.budgetSpent).toBe(wouldBe(dry, "budgetSpent"));
    expect(after.steps.slice(before.steps.length)).toEqual(wouldBe(dry, "provenance"));
    expect((await jsonlLines()).filter((l) => l.trendId === trendId)).toHaveLength(1);
  });

  it("should decide as the publisher does for an item whose incident no override names: nothing happens", async () => {
    const { trendId, traceId } = await rejectedWithIncident();
    const { entry, job } = publishDeadLetter(trendId, traceId);
    const before = await stored(trendId);

    const dry = await runner.run(entry);

    expect(dry).toMatchObject({
      outcome: "no_op",
      changes: [],
      message: "trend is REJECTED; the stage would do nothing",
    });
    expect(await stored(trendId)).toEqual(before);

    await realRun(job);

    expect(await stored(trendId)).toEqual(before);
    expect((await jsonlLines()).filter((l) => l.trendId === trendId)).toEqual([]);
  });

  it("should report would_fail with the stage's error for a job naming an unknown trend", async () => {
    const { entry } = publishDeadLetter(randomUUID(), "0".repeat(32));

    const dry = await runner.run(entry);

    expect(dry).toMatchObject({ outcome: "would_fail", changes: [] });
    expect(dry.message).toMatch(/unknown trend/);
  });
});
