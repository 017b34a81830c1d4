import { randomUUID } from "node:crypto";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { IssueType, TrendRow } from "../../../src/db/types.js";
import { DomainError } from "../../../src/domain/domain-error.js";
import type { Embedder } from "../../../src/nlp/embedder.js";
import { SearchService } from "../../../src/pipeline/embed/search-service.js";
import { PrecedentService } from "../../../src/pipeline/review/precedents.js";
import { PostgresVectorStore } from "../../../src/vector/postgres-vector-store.js";
import { createTestEnv, type TestEnv } from "../../support/test-env.js";

/**
 * Precedents (issue 14, item 9): the nearest past items a human decided, in the item's tenant,
 * never the item itself, never a decision a rule made (a deadline's default) or a budget call.
 */

const DIM = 8;
let env: TestEnv;
let store: PostgresVectorStore;
let precedents: PrecedentService;

const embedder: Embedder = {
  model: "test-axes",
  dimension: DIM,
  embed: async (t) => t.map(() => axis(7)),
  close: async () => undefined,
};

/** Axis `i`, pushed `away` towards the next axis: a larger `away` is a less similar item. */
function axis(i: number, away = 0): number[] {
  return Array.from({ length: DIM }, (_, j) => (j === i ? 1 : j === (i + 1) % DIM ? away : 0));
}

beforeAll(async () => {
  env = await createTestEnv();
  store = new PostgresVectorStore({ db: env.db });
  await store.ensureCollection(DIM);
  const search = new SearchService({ db: env.db, store, embedder: async () => embedder });
  precedents = new PrecedentService({ db: env.db, search });
}, 60_000);

afterAll(async () => {
  await store?.close();
  await env?.close();
});

async function trend(
  vector: number[],
  options: { tenant?: string; status?: string } = {},
): Promise<TrendRow> {
  const id = randomUUID();
  const row = await env.db
    .insertInto("enriched_trends")
    .values({
      id,
      trace_id: randomUUID(),
      source: "wire",
      body: `item ${id}`,
      metadata: "{}",
      status: (options.status ?? "ESCALATED") as never,
      tenant: options.tenant ?? "acme",
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  await store.upsert([
    {
      id,
      vector,
      metadata: { source: "wire", status: "EMBEDDED", createdAt: new Date().toISOString() },
    },
  ]);
  return row;
}

async function decided(
  trendId: string,
  decision: "APPROVE" | "REJECT",
  options: { by?: string; byKey?: string | null; issueType?: IssueType; at?: Date } = {},
): Promise<string> {
  const id = randomUUID();
  await env.db
    .insertInto("escalations")
    .values({
      id,
      trend_id: trendId,
      issue_type: options.issueType ?? "toxicity",
      reason: "test",
      scores: "{}",
      status: "RESOLVED",
      decision,
      resolved_by: options.by ?? "alice",
      resolved_by_key: options.byKey === undefined ? "key-alice" : options.byKey,
      resolved_at: options.at ?? new Date(),
    })
    .execute();
  return id;
}

describe("PrecedentService.forTrend", () => {
  it("should return the nearest human-decided items of the same tenant, closest first, with their decision", async () => {
    const item = await trend(axis(0));
    const near = await trend(axis(0, 0.1));
    const nearer = await trend(axis(0, 0.05));
    const far = await trend(axis(0, 0.6));
    const undecided = await trend(axis(0, 0.01)); // nearest of all, but nobody decided it
    const otherTenant = await trend(axis(0, 0.02), { tenant: "globex" });
    const byDeadline = await trend(axis(0, 0.03));
    const budget = await trend(axis(0, 0.04));
    await decided(near.id, "REJECT");
    await decided(nearer.id, "APPROVE");
    await decided(far.id, "REJECT");
    await decided(item.id, "REJECT"); // the item's own earlier decision is no precedent of itself
    await decided(otherTenant.id, "REJECT");
    await decided(byDeadline.id, "REJECT", { by: "system:deadline", byKey: null });
    await decided(budget.id, "APPROVE", { issueType: "budget_overrun" });

    const found = await precedents.forTrend(item, 3);

    expect(found.map((p) => p.trend.id)).toEqual([nearer.id, near.id, far.id]);
    expect(found.map((p) => p.decision.decision)).toEqual(["APPROVE", "REJECT", "REJECT"]);
    expect(found[0]!.score).toBeGreaterThan(found[2]!.score);
    expect(found.map((p) => p.trend.id)).not.toContain(undecided.id);
  });

  it("should keep asking the index until `first` precedents pass when many nearer items are undecided", async () => {
    const item = await trend(axis(2));
    for (let i = 0; i < 40; i++) await trend(axis(2, 0.001 * (i + 1)));
    const wanted = [await trend(axis(2, 0.5)), await trend(axis(2, 0.6))];
    for (const w of wanted) await decided(w.id, "REJECT");

    const found = await precedents.forTrend(item, 2);

    expect(found.map((p) => p.trend.id)).toEqual(wanted.map((w) => w.id));
  });

  it("should give the latest human decision of an item decided more than once", async () => {
    const item = await trend(axis(4));
    const twice = await trend(axis(4, 0.1));
    await decided(twice.id, "REJECT", { at: new Date(Date.now() - 60_000) });
    const later = await decided(twice.id, "APPROVE", {
      by: "bob",
      byKey: "key-bob",
      issueType: "low_confidence",
    });

    const [found] = await precedents.forTrend(item, 1);

    expect(found?.decision).toMatchObject({
      escalationId: later,
      decision: "APPROVE",
      issueType: "low_confidence",
    });
  });

  it("should answer [] when no similar item was decided by a human", async () => {
    // A tenant of its own: the decided items of the other tests are precedents, if far ones.
    const item = await trend(axis(5), { tenant: "initech" });
    await trend(axis(5, 0.1), { tenant: "initech" });
    expect(await precedents.forTrend(item, 5)).toEqual([]);
  });

  it("should refuse `first` outside 1..20 with BAD_USER_INPUT", async () => {
    const item = await trend(axis(6));
    for (const first of [0, 21]) {
      const error = await precedents.forTrend(item, first).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DomainError);
      expect((error as DomainError).code).toBe("BAD_USER_INPUT");
    }
  });
});
