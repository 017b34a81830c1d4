import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import fc from "fast-check";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { DomainError } from "../../src/domain/domain-error.js";
import { createInProcessPublisher } from "../../src/mcp/in-process-publisher.js";
import { ActiveJudgePolicy } from "../../src/pipeline/judge/active-policy.js";
import { createJudgeHandler } from "../../src/pipeline/judge/judge-worker.js";
import { PolicyProvider } from "../../src/pipeline/judge/policy-provider.js";
import { OverrideService } from "../../src/pipeline/publish/override-service.js";
import { createPublisherHandler } from "../../src/pipeline/publish/publisher-worker.js";
import { EscalationService } from "../../src/pipeline/review/escalation-service.js";
import { loadReasonCodes } from "../../src/pipeline/review/reason-codes.js";
import type { Envelope } from "../../src/streams/envelope.js";
import { makeEnvelope } from "../../src/streams/envelope.js";
import { STREAMS } from "../../src/streams/stream-names.js";
import type { Job, JobHandler } from "../../src/workers/runtime/stream-consumer.js";
import { createTestEnv, type TestEnv } from "../support/test-env.js";
import { FlakyPublisher, InjectedCrash } from "./support/faulty-adapters.js";

/**
 * Issue 6: the publish invariant under random interleavings. The real judge and publisher
 * handlers, EscalationService and OverrideService run in this process against Postgres; the
 * stream between them is modelled by reading the outbox (what the relay would XADD), so a step
 * can deliver any queued job, redeliver one already done (an at-least-once duplicate), or crash
 * the publisher right after the adapter published. After every step:
 *   - every Publication is for a trend that was READY/APPROVED when it moved to PUBLISHED (and
 *     a judge READY or a moderator APPROVE is on record), or carries an override whose
 *     justification is in provenance, and no incident the override does not name;
 *   - the adapter holds at most one line per trend, the one the Publication points to, and
 *     nothing the adapter holds is for a trend that may not be published;
 * and after draining every queued job, no publishable item is left unpublished and unpaused.
 */
let env: TestEnv;
let dir: string;
let jsonlPath: string;
let publisher: FlakyPublisher;
let judgeHandler: JobHandler;
let publisherHandler: JobHandler;
let escalations: EscalationService;
let overrides: OverrideService;
let outboxCursor = "0";
const MAX_ATTEMPTS = 4;

beforeAll(async () => {
  env = await createTestEnv();
  dir = await mkdtemp(path.join(tmpdir(), "trendgate-publish-prop-"));
  jsonlPath = path.join(dir, "published.jsonl");
  publisher = new FlakyPublisher(createInProcessPublisher({ jsonlPath }));
  const policy = new ActiveJudgePolicy({
    db: env.db,
    configured: new PolicyProvider(undefined, { minConfidence: 0.6, maxToxicity: 0.8 }, env.logger),
    configSource: "test defaults",
    logger: env.logger,
  });
  judgeHandler = createJudgeHandler({ db: env.db, policy, logger: env.logger });
  publisherHandler = createPublisherHandler({ db: env.db, publisher, logger: env.logger });
  escalations = new EscalationService({
    db: env.db,
    logger: env.logger,
    claimLeaseMs: 60_000,
    reasonCodes: loadReasonCodes(undefined),
  });
  overrides = new OverrideService(env.db);
}, 60_000);

afterAll(async () => {
  await env?.close();
  await rm(dir, { recursive: true, force: true });
});

type Kind = "clean" | "unsure" | "toxic" | "violation";
const SCORES: Record<Kind, { toxicity: number; confidence: number }> = {
  clean: { toxicity: 0.05, confidence: 0.9 },
  unsure: { toxicity: 0.05, confidence: 0.3 },
  toxic: { toxicity: 0.9, confidence: 0.9 },
  violation: { toxicity: 0.999, confidence: 0.9 },
};

type Op =
  | { op: "ingest"; kind: Kind; tightBudget: boolean }
  | { op: "deliver"; pick: number }
  | { op: "redeliver"; pick: number }
  | { op: "crashNextPublish" }
  | { op: "claim"; pick: number; who: number }
  | { op: "resolve"; pick: number; who: number; decision: "APPROVE" | "REJECT" }
  | { op: "override"; pick: number; nameIncident: boolean };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant("ingest" as const),
      kind: fc.constantFrom<Kind>("clean", "unsure", "toxic", "violation"),
      tightBudget: fc.boolean(),
    }),
  },
  { weight: 6, arbitrary: fc.record({ op: fc.constant("deliver" as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("redeliver" as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("crashNextPublish" as const) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant("claim" as const),
      pick: fc.nat(),
      who: fc.nat({ max: 1 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant("resolve" as const),
      pick: fc.nat(),
      who: fc.nat({ max: 1 }),
      decision: fc.constantFrom("APPROVE" as const, "REJECT" as const),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant("override" as const),
      pick: fc.nat(),
      nameIncident: fc.boolean(),
    }),
  },
);

const MODERATORS = [
  { name: "mod-a", role: "moderator" },
  { name: "mod-b", role: "moderator" },
];
const OPERATOR = { name: "ops-1", role: "operator" };

interface QueuedJob {
  stream: string;
  entryId: string;
  envelope: Envelope;
  failures: number;
}

/** One run: its trends, the jobs waiting in the streams, and those already acknowledged. */
class Run {
  trends: string[] = [];
  queue: QueuedJob[] = [];
  done: QueuedJob[] = [];
  deadLettered: QueuedJob[] = [];
  seq = 0;

  async apply(step: Op): Promise<void> {
    switch (step.op) {
      case "ingest":
        await this.ingest(step.kind, step.tightBudget);
        break;
      case "deliver":
        if (this.queue.length) await this.deliver(this.queue[step.pick % this.queue.length]!);
        break;
      case "redeliver":
        if (this.done.length) {
          const again = this.done[step.pick % this.done.length]!;
          this.queue.push({ ...again, entryId: this.nextEntryId(), failures: 0 });
        }
        break;
      case "crashNextPublish":
        publisher.crashAfterPublish(1);
        break;
      case "claim": {
        const id = await this.pickEscalation(step.pick);
        if (id) await tolerate(() => escalations.claim(id, MODERATORS[step.who]!));
        break;
      }
      case "resolve": {
        const id = await this.pickEscalation(step.pick);
        if (id)
          await tolerate(() =>
            escalations.resolve(
              id,
              {
                decision: step.decision,
                reasonCode: step.decision === "REJECT" ? "VIOLENCE" : null,
                note: "property test",
              },
              MODERATORS[step.who]!,
            ),
          );
        break;
      }
      case "override": {
        if (!this.trends.length) break;
        const trendId = this.trends[step.pick % this.trends.length]!;
        const incident = await env.db
          .selectFrom("incidents")
          .select("id")
          .where("trend_id", "=", trendId)
          .executeTakeFirst();
        await tolerate(() =>
          overrides.overridePublish(
            trendId,
            "cleared by legal",
            OPERATOR,
            step.nameIncident ? incident?.id : undefined,
          ),
        );
        break;
      }
    }
    await this.pumpOutbox();
  }

  /** Delivers everything left, dead letters replayed, with no more crashes: the pipeline at rest. */
  async drain(): Promise<void> {
    publisher.crashAfterPublish(0);
    this.queue.push(...this.deadLettered.splice(0).map((j) => ({ ...j, failures: 0 })));
    for (let guard = 0; this.queue.length > 0; guard++) {
      if (guard > 500) throw new Error("drain did not settle");
      await this.deliver(this.queue[0]!);
      await this.pumpOutbox();
    }
  }

  private async ingest(kind: Kind, tightBudget: boolean): Promise<void> {
    const id = randomUUID();
    const traceId = `prop-${id}`;
    const { toxicity, confidence } = SCORES[kind];
    await env.db
      .insertInto("enriched_trends")
      .values({
        id,
        trace_id: traceId,
        source: "property",
        external_id: id,
        title: `Item ${kind}`,
        body: `A ${kind} item for the property test.`,
        normalized_body: `A ${kind} item for the property test.`,
        status: "EMBEDDED",
        embedding_status: "SUCCEEDED",
        toxicity_score: toxicity,
        confidence,
        summary: `${kind} item`,
        topics: ["test"],
        // Tight: the judge (0.25) fits, the publish step (0.5) does not.
        budget_limit: tightBudget ? 0.5 : 100,
        metadata: "{}",
      })
      .execute();
    this.trends.push(id);
    this.queue.push({
      stream: STREAMS.judgeJobs,
      entryId: this.nextEntryId(),
      envelope: makeEnvelope("trend.embedded", { traceId, trendId: id, payload: { trendId: id } }),
      failures: 0,
    });
  }

  private async deliver(entry: QueuedJob): Promise<void> {
    const handler = entry.stream === STREAMS.judgeJobs ? judgeHandler : publisherHandler;
    const job: Job = {
      stream: entry.stream,
      entryId: entry.entryId,
      envelope: entry.envelope,
      attempt: entry.failures + 1,
      deliveries: entry.failures + 1,
    };
    this.queue.splice(this.queue.indexOf(entry), 1);
    try {
      await handler(job, new AbortController().signal);
      this.done.push(entry);
    } catch (error) {
      const permanent = (error as { code?: string }).code === "PERMANENT";
      if (!(error instanceof InjectedCrash) && !permanent) throw error;
      entry.failures += 1;
      if (permanent || entry.failures >= MAX_ATTEMPTS) this.deadLettered.push(entry);
      else this.queue.push(entry);
    }
  }

  /** What the relay would XADD: new outbox rows for the streams these handlers consume. */
  private async pumpOutbox(): Promise<void> {
    const rows = await env.db
      .selectFrom("outbox")
      .select(["id", "stream", "payload"])
      .where("id", ">", outboxCursor)
      .orderBy("id")
      .execute();
    for (const row of rows) {
      outboxCursor = String(row.id);
      if (row.stream === STREAMS.judgeJobs || row.stream === STREAMS.publishJobs) {
        const envelope = (
          typeof row.payload === "string" ? JSON.parse(row.payload) : row.payload
        ) as Envelope;
        this.queue.push({ stream: row.stream, entryId: this.nextEntryId(), envelope, failures: 0 });
      }
    }
  }

  private async pickEscalation(pick: number): Promise<string | undefined> {
    if (!this.trends.length) return undefined;
    const rows = await env.db
      .selectFrom("escalations")
      .select("id")
      .where("trend_id", "in", this.trends)
      .where("status", "<>", "RESOLVED")
      .orderBy("created_at")
      .orderBy("id")
      .execute();
    return rows.length ? rows[pick % rows.length]!.id : undefined;
  }

  private nextEntryId(): string {
    return `${Date.now()}-${this.seq++}`;
  }
}

/** Expected refusals (CONFLICT, NOT_FOUND, ...) are part of the game; anything else is a failure. */
async function tolerate(action: () => Promise<unknown>): Promise<void> {
  try {
    await action();
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
  }
}

async function jsonlLines(): Promise<
  { trendId: string; externalRef: string; idempotencyKey: string }[]
> {
  const text = await readFile(jsonlPath, "utf8").catch(() => "");
  return text
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { trendId: string; externalRef: string; idempotencyKey: string });
}

/** Whether the trend may be published now: the rule the database enforces, restated. */
async function mayPublish(trendId: string): Promise<boolean> {
  const trend = await env.db
    .selectFrom("enriched_trends")
    .select("status")
    .where("id", "=", trendId)
    .executeTakeFirstOrThrow();
  const incidents = (
    await env.db.selectFrom("incidents").select("id").where("trend_id", "=", trendId).execute()
  ).map((i) => i.id);
  if (["READY", "APPROVED"].includes(trend.status) && incidents.length === 0) return true;
  if (!["READY", "APPROVED", "ESCALATED", "REJECTED", "PUBLISHED"].includes(trend.status))
    return false;
  const overrideRows = await env.db
    .selectFrom("publish_overrides")
    .select(["id", "incident_id"])
    .where("trend_id", "=", trendId)
    .execute();
  return overrideRows.some((o) => incidents.every((i) => i === o.incident_id));
}

/** Checks this run's trends only, so a shrunk counterexample is about its own steps. */
async function checkInvariant(run: Run): Promise<void> {
  if (run.trends.length === 0) return;
  const mine = new Set(run.trends);
  const pubs = await env.db
    .selectFrom("publications")
    .selectAll()
    .where("trend_id", "in", run.trends)
    .execute();
  const lines = (await jsonlLines()).filter((l) => mine.has(l.trendId));
  const linesByTrend = new Map<string, typeof lines>();
  for (const line of lines)
    linesByTrend.set(line.trendId, [...(linesByTrend.get(line.trendId) ?? []), line]);
  for (const [trendId, forTrend] of linesByTrend)
    expect(forTrend, `adapter lines for ${trendId}`).toHaveLength(1);

  for (const p of pubs) {
    const steps = await env.db
      .selectFrom("provenance_log")
      .select(["step", "input", "output"])
      .where("trend_id", "=", p.trend_id)
      .orderBy("id")
      .execute();
    const incidents = await env.db
      .selectFrom("incidents")
      .select("id")
      .where("trend_id", "=", p.trend_id)
      .execute();
    if (p.approval_path === "override") {
      const ov = await env.db
        .selectFrom("publish_overrides")
        .selectAll()
        .where("id", "=", p.override_id!)
        .executeTakeFirstOrThrow();
      expect(ov.trend_id).toBe(p.trend_id);
      expect(
        steps.some(
          (s) =>
            s.step === "override" && (s.output as { overrideId?: string }).overrideId === ov.id,
        ),
      ).toBe(true);
      for (const i of incidents)
        expect(i.id, `incident not named by override ${ov.id}`).toBe(ov.incident_id);
    } else {
      const moved = await env.db
        .selectFrom("outbox")
        .select("payload")
        .where("stream", "=", STREAMS.trendUpdates)
        .where(sql<string>`payload->>'trendId'`, "=", p.trend_id)
        .execute();
      const toPublished = moved
        .map((m) => (m.payload as Envelope).payload as { from: string; to: string })
        .filter((m) => m.to === "PUBLISHED");
      expect(toPublished).toHaveLength(1);
      expect(["READY", "APPROVED"]).toContain(toPublished[0]!.from);
      const approvedBy = steps.some(
        (s) =>
          (s.step === "judge" && (s.output as { outcome?: string }).outcome === "READY") ||
          (s.step === "resolution" &&
            (s.input as { decision?: string; issueType?: string }).decision === "APPROVE" &&
            (s.input as { issueType?: string }).issueType !== "budget_overrun"),
      );
      expect(
        approvedBy,
        `publication ${p.id} without a READY judgement or a moderator's APPROVE`,
      ).toBe(true);
      expect(incidents).toHaveLength(0);
    }
    const line = linesByTrend.get(p.trend_id);
    expect(line?.[0]?.externalRef, `adapter line of publication ${p.id}`).toBe(p.external_ref);
  }
  // Whatever the adapter holds without a Publication yet (a crash before the commit) must be
  // for a trend that may be published, so the redelivery can complete it.
  const published = new Set(pubs.map((p) => p.trend_id));
  for (const line of lines) {
    if (!published.has(line.trendId))
      expect(
        await mayPublish(line.trendId),
        `adapter published ${line.trendId}, which may not be published`,
      ).toBe(true);
  }
}

/** At rest, an item that may be published is published, or paused with a budget escalation open. */
async function checkNothingStuck(run: Run): Promise<void> {
  for (const trendId of run.trends) {
    const trend = await env.db
      .selectFrom("enriched_trends")
      .select(["status"])
      .where("id", "=", trendId)
      .executeTakeFirstOrThrow();
    if (["PUBLISHED", "CANCELLED", "PAUSED"].includes(trend.status)) {
      if (trend.status === "PAUSED") {
        const open = await env.db
          .selectFrom("escalations")
          .select("id")
          .where("trend_id", "=", trendId)
          .where("issue_type", "=", "budget_overrun")
          .where("status", "<>", "RESOLVED")
          .execute();
        expect(open, `paused ${trendId} without an open budget escalation`).toHaveLength(1);
      }
      continue;
    }
    expect(
      await mayPublish(trendId),
      `${trendId} is ${trend.status}, may be published, and nothing will publish it`,
    ).toBe(false);
  }
}

describe("publish invariant under random interleavings", () => {
  it(
    "should only ever publish READY/APPROVED or overridden items, each once, whatever the order of events",
    { timeout: 120_000 },
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(opArb, { minLength: 5, maxLength: 30 }), async (ops) => {
          const run = new Run();
          for (const step of ops) {
            await run.apply(step);
            await checkInvariant(run);
          }
          await run.drain();
          await checkInvariant(run);
          await checkNothingStuck(run);
        }),
        { numRuns: Number(process.env.FC_NUM_RUNS ?? 25) },
      );
    },
  );
});
