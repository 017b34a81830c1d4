import { randomUUID } from "node:crypto";

import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { createTestEnv, type TestEnv } from "./support/test-env.js";

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv();
});
afterAll(async () => env?.close());

async function insertTrend(status = "RECEIVED") {
  const id = randomUUID();
  await env.db
    .insertInto("enriched_trends")
    .values({
      id,
      trace_id: randomUUID(),
      source: "t",
      body: "b",
      metadata: "{}",
      status: status as never,
    })
    .execute();
  return id;
}

describe("schema", () => {
  it("should refuse an unknown trend status", async () => {
    await expect(insertTrend("DONE")).rejects.toThrow(/check constraint/);
  });

  it("should refuse UPDATE and DELETE on provenance_log", async () => {
    const trendId = await insertTrend();
    await env.db
      .insertInto("provenance_log")
      .values({
        trace_id: "t1",
        trend_id: trendId,
        step: "ingest",
        actor: "test",
        input: "{}",
        output: "{}",
        parent_id: null,
      })
      .execute();
    await expect(sql`UPDATE provenance_log SET step = 'x'`.execute(env.db)).rejects.toThrow(
      /append-only/,
    );
    await expect(sql`DELETE FROM provenance_log`.execute(env.db)).rejects.toThrow(/append-only/);
    await expect(sql`TRUNCATE provenance_log`.execute(env.db)).rejects.toThrow(/append-only/);
    const rows = await env.db.selectFrom("provenance_log").selectAll().execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]?.step).toBe("ingest");
  });

  it("should refuse a hand-written publication for an ESCALATED trend without an override", async () => {
    const trendId = await insertTrend("ESCALATED");
    await expect(
      sql`INSERT INTO publications (id, trend_id, adapter, tool, external_ref, idempotency_key, approval_path)
          VALUES (${randomUUID()}, ${trendId}, 'x', 'publish', 'ref', ${randomUUID()}, 'judge')`.execute(
        env.db,
      ),
    ).rejects.toThrow(/publish invariant/);
    const count = await env.db
      .selectFrom("publications")
      .select(sql<number>`count(*)::int`.as("n"))
      .executeTakeFirst();
    expect(count?.n).toBe(0);
  });

  it("should accept a publication for a READY trend", async () => {
    const trendId = await insertTrend("READY");
    await sql`INSERT INTO publications (id, trend_id, adapter, tool, external_ref, idempotency_key, approval_path)
              VALUES (${randomUUID()}, ${trendId}, 'x', 'publish', 'ref', ${randomUUID()}, 'judge')`.execute(
      env.db,
    );
    const rows = await env.db
      .selectFrom("publications")
      .selectAll()
      .where("trend_id", "=", trendId)
      .execute();
    expect(rows).toHaveLength(1);
  });

  it("should keep source + external id unique", async () => {
    const values = {
      trace_id: randomUUID(),
      source: "s",
      external_id: "e1",
      body: "b",
      metadata: "{}",
    };
    await env.db
      .insertInto("enriched_trends")
      .values({ id: randomUUID(), ...values })
      .execute();
    await expect(
      env.db
        .insertInto("enriched_trends")
        .values({ id: randomUUID(), ...values, trace_id: randomUUID() })
        .execute(),
    ).rejects.toThrow(/duplicate key/);
  });

  it("should gather planner statistics for searched columns only, not for payload columns", async () => {
    for (let i = 0; i < 5; i++) await insertTrend();
    await sql`ANALYZE enriched_trends`.execute(env.db);
    const { rows } = await sql<{ attname: string }>`
      SELECT attname FROM pg_stats
      WHERE schemaname = current_schema() AND tablename = 'enriched_trends'`.execute(env.db);
    const columns = rows.map((r) => r.attname);
    expect(columns).toEqual(expect.arrayContaining(["status", "source", "created_at"]));
    for (const payload of ["body", "metadata", "enrichment", "normalized_body"])
      expect(columns).not.toContain(payload);
  });
});
