import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { createInProcessPublisher } from "../../src/mcp/in-process-publisher.js";
import { makeEnvelope } from "../../src/streams/envelope.js";
import { STREAMS } from "../../src/streams/stream-names.js";
import { type AppHarness, eventually, startHarness } from "../support/app-harness.js";
import { provenanceSteps, trendRow } from "./support/fault-helpers.js";
import { captureLogger } from "./support/faulty-adapters.js";

/**
 * Issue 6: a budget too small for the plan. With DEFAULT_BUDGET 2 a short item pays for plan
 * (0.5) and ETL (~1.3) and cannot pay for the embedding (~1.1): it must pause there, raise one
 * budget_overrun escalation, an operator alert and a warning, and on APPROVE resume from that
 * step to the end, each step charged once; on REJECT it is cancelled.
 */
const OPERATOR = { name: "ops-budget", role: "operator" };
let h: AppHarness;
let dir: string;
let jsonlPath: string;
const { logger, lines: logLines } = captureLogger("warn");

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "trendgate-budget-"));
  jsonlPath = path.join(dir, "published.jsonl");
  h = await startHarness({
    gateway: false,
    workers: ["etl", "embedding", "judge", "publisher", "relay"],
    config: { DEFAULT_BUDGET: 2, JUDGE_MIN_CONFIDENCE: 0 },
    overrides: { publisher: createInProcessPublisher({ jsonlPath }), logger },
  });
}, 120_000);

afterAll(async () => {
  await h?.close();
  await rm(dir, { recursive: true, force: true });
});

async function ingest(externalId: string): Promise<string> {
  const receipt = await h.app.services.ingest.ingest(
    {
      source: "budget",
      externalId,
      title: "Rates on hold",
      body: "The central bank kept rates unchanged on Tuesday, citing easing inflation.",
    },
    "fault-test",
  );
  return receipt.id;
}

const statusIs = (id: string, status: string) =>
  eventually(
    async () => ((await trendRow(h.env.db, id)).status === status ? true : undefined),
    30_000,
  );
const charges = (id: string) =>
  h.env.db
    .selectFrom("budget_charges")
    .selectAll()
    .where("trend_id", "=", id)
    .orderBy("created_at")
    .execute();
const budgetEscalations = (id: string) =>
  h.env.db
    .selectFrom("escalations")
    .selectAll()
    .where("trend_id", "=", id)
    .where("issue_type", "=", "budget_overrun")
    .execute();

async function alertsFor(id: string): Promise<Record<string, unknown>[]> {
  const entries = await h.env.redis.xrange(h.env.keys.key(STREAMS.operatorAlerts), "-", "+");
  return entries
    .map(
      ([, fields]) =>
        JSON.parse(fields[fields.indexOf("envelope") + 1]!) as {
          trendId?: string;
          payload: Record<string, unknown>;
        },
    )
    .filter((e) => e.trendId === id)
    .map((e) => e.payload);
}

/** The group has read past `entryId` and acknowledged everything it read. */
async function consumed(stream: string, group: string, entryId: string): Promise<true | undefined> {
  const groups = (await h.env.redis.xinfo("GROUPS", h.env.keys.key(stream))) as (
    string | number
  )[][];
  const info = groups.find((g) => g[g.indexOf("name") + 1] === group);
  if (!info) return undefined;
  const last = String(info[info.indexOf("last-delivered-id") + 1]);
  const pending = Number(info[info.indexOf("pending") + 1]);
  const [lastMs, lastSeq] = last.split("-").map(Number) as [number, number];
  const [ms, seq] = entryId.split("-").map(Number) as [number, number];
  return pending === 0 && (lastMs > ms || (lastMs === ms && lastSeq >= seq)) ? true : undefined;
}

async function pausedWithEscalation(id: string) {
  await statusIs(id, "PAUSED");
  const trend = await trendRow(h.env.db, id);
  expect(trend).toMatchObject({ paused_step: "embed", paused_from: "ENRICHED", budget_limit: 2 });
  expect((await charges(id)).map((c) => c.step)).toEqual(["plan", "etl"]);
  const escalations = await budgetEscalations(id);
  expect(escalations).toHaveLength(1);
  expect(escalations[0]).toMatchObject({ status: "OPEN", rule: "budget_limit" });
  return { trend, escalation: escalations[0]! };
}

describe("an item over its budget", { timeout: 60_000 }, () => {
  it("should pause at the step that would exceed it, alert, and on APPROVE resume there and publish, charging each step once", async () => {
    const id = await ingest("approve");
    const { escalation } = await pausedWithEscalation(id);

    const alerts = await eventually(async () => {
      const found = await alertsFor(id);
      return found.length ? found : undefined;
    });
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      kind: "BUDGET_OVERRUN",
      severity: "warning",
      step: "embed",
      escalationId: escalation.id,
    });
    const warnings = logLines.filter((l) => l.level === "warn" && l.enriched_trend_id === id);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({
      msg: "budget exceeded: item paused for a human decision",
      step: "embed",
      alert: "budget_overrun",
    });

    // A redelivered embedding job while paused changes nothing: no second escalation or charge.
    const trend = await trendRow(h.env.db, id);
    const job = makeEnvelope("trend.enriched", {
      traceId: trend.trace_id,
      trendId: id,
      payload: { trendId: id },
    });
    const entryId = await h.env.redis.xadd(
      h.env.keys.key(STREAMS.embeddingJobs),
      "*",
      "envelope",
      JSON.stringify(job),
      "attempt",
      "1",
    );
    await eventually(() => consumed(STREAMS.embeddingJobs, "embedding", entryId!));
    expect(await budgetEscalations(id)).toHaveLength(1);
    expect((await charges(id)).map((c) => c.step)).toEqual(["plan", "etl"]);

    await h.app.services.escalations.resolve(
      escalation.id,
      { decision: "APPROVE", note: "worth it" },
      OPERATOR,
    );
    await statusIs(id, "PUBLISHED");

    const rows = await charges(id);
    expect(rows.map((c) => c.step)).toEqual(["plan", "etl", "embed", "judge", "publish"]);
    const done = await trendRow(h.env.db, id);
    expect(done.budget_spent).toBeCloseTo(
      rows.reduce((sum, c) => sum + c.cost, 0),
      6,
    );
    expect(done.budget_limit).toBeGreaterThan(2);
    expect(done.budget_spent).toBeLessThanOrEqual(done.budget_limit + 1e-9);
    expect(done.paused_step).toBeNull();
    const steps = await provenanceSteps(h.env.db, id);
    expect(steps.slice(steps.indexOf("budget_overrun"))).toEqual([
      "budget_overrun",
      "resolution",
      "embed",
      "judge",
      "publish",
    ]);
    expect(await budgetEscalations(id)).toEqual([
      expect.objectContaining({ status: "RESOLVED", decision: "APPROVE" }),
    ]);
    const published = (await readFile(jsonlPath, "utf8")).split("\n").filter((l) => l.includes(id));
    expect(published).toHaveLength(1);
  });

  it("should cancel the item on REJECT and charge nothing more", async () => {
    const id = await ingest("reject");
    const { escalation } = await pausedWithEscalation(id);
    await h.app.services.escalations.resolve(
      escalation.id,
      { decision: "REJECT", note: "not worth it" },
      OPERATOR,
    );
    expect((await trendRow(h.env.db, id)).status).toBe("CANCELLED");
    // Nothing was enqueued for a cancelled item; the pipeline is idle when its outbox is empty.
    await eventually(async () =>
      (await h.env.db.selectFrom("outbox").select("id").execute()).length === 0 ? true : undefined,
    );
    expect((await trendRow(h.env.db, id)).status).toBe("CANCELLED");
    expect((await charges(id)).map((c) => c.step)).toEqual(["plan", "etl"]);
    expect(
      await h.env.db.selectFrom("publications").select("id").where("trend_id", "=", id).execute(),
    ).toHaveLength(0);
  });
});
