import { readFile } from "node:fs/promises";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { type App, startApp } from "../../src/main.js";
import { bundledAdapterCommand } from "../../src/mcp/bundled-adapter.js";
import { connectMcpPublisher } from "../../src/mcp/publish-client.js";
import { GROUPS, STREAMS } from "../../src/streams/stream-names.js";
import { type AppHarness, eventually, startHarness } from "../support/app-harness.js";
import {
  deadLetters,
  deadLetterTrendId,
  pendingOf,
  provenanceSteps,
  startCrashingWorker,
  trendRow,
} from "./support/fault-helpers.js";
import { FlakyPublisher } from "./support/faulty-adapters.js";

/**
 * Issue 6: the publisher against the real bundled MCP adapter (stdio), killed between the tool
 * call and the commit, and with the adapter down. The harness runs ETL, embedding, the Judge and
 * the relay; the publisher is a child process that dies, then a live one started here.
 */
const MAX_ATTEMPTS = 3;

let h: AppHarness;
let live: App | undefined;
let publisher: FlakyPublisher;

beforeAll(async () => {
  h = await startHarness({
    gateway: false,
    workers: ["etl", "embedding", "judge", "relay"],
    // Every clean item is READY: this file is about publishing, not the Judge's thresholds.
    config: {
      JUDGE_MIN_CONFIDENCE: 0,
      RETRY_BASE_MS: 20,
      RETRY_MAX_MS: 80,
      RETRY_MAX_ATTEMPTS: MAX_ATTEMPTS,
      CLAIM_IDLE_MS: 300,
    },
  });
}, 120_000);

afterAll(async () => {
  await live?.stop();
  await h?.close();
});

async function ingest(externalId: string): Promise<string> {
  const receipt = await h.app.services.ingest.ingest(
    {
      source: "newswire",
      externalId,
      title: "Central bank holds rates",
      body: `The central bank kept its benchmark rate unchanged (${externalId}), citing easing inflation and a resilient labour market.`,
    },
    "fault-test",
  );
  return receipt.id;
}

async function linesFor(
  trendId: string,
): Promise<{ trendId: string; externalRef: string; idempotencyKey: string }[]> {
  const text = await readFile(h.env.config.PUBLISH_JSONL_PATH, "utf8").catch(() => "");
  return text
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { trendId: string; externalRef: string; idempotencyKey: string })
    .filter((l) => l.trendId === trendId);
}

const publications = (trendId: string) =>
  h.env.db.selectFrom("publications").selectAll().where("trend_id", "=", trendId).execute();
const statusIs = (id: string, status: string) =>
  eventually(
    async () => ((await trendRow(h.env.db, id)).status === status ? true : undefined),
    30_000,
  );

describe("publisher crashes and adapter outages", { timeout: 60_000 }, () => {
  it("should publish once when the publisher dies after the adapter published and before the commit", async () => {
    const { exited, stdout, stderr } = await startCrashingWorker(h.env, "publisher", {
      PUBLISH_JSONL_PATH: h.env.config.PUBLISH_JSONL_PATH,
    });

    const id = await ingest("crash-publish");
    expect(await exited, stderr()).toBe(1);
    const [, externalRef] = stdout().match(new RegExp(`published ${id} (\\S+)`)) ?? [];
    expect(externalRef).toMatch(/^jsonl:/);
    // Out in the world, not in the database; the job waits on the dead consumer.
    expect(await linesFor(id)).toHaveLength(1);
    expect(await publications(id)).toHaveLength(0);
    expect((await trendRow(h.env.db, id)).status).toBe("READY");
    expect(await pendingOf(h.env, STREAMS.publishJobs, GROUPS.publisher)).toBe(1);

    publisher = new FlakyPublisher(
      await connectMcpPublisher({
        ...bundledAdapterCommand(),
        env: { PUBLISH_JSONL_PATH: h.env.config.PUBLISH_JSONL_PATH },
      }),
    );
    live = await startApp(
      h.env.config,
      { gateway: false, workers: ["publisher"] },
      { logger: h.env.logger, publisher },
    );
    await statusIs(id, "PUBLISHED");

    const lines = await linesFor(id);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.externalRef).toBe(externalRef);
    const rows = await publications(id);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.external_ref).toBe(externalRef);
    expect(rows[0]!.idempotency_key).toBe(lines[0]!.idempotencyKey);
    expect(publisher.results.map((r) => r.duplicate)).toEqual([true]);
    const publish = await h.env.db
      .selectFrom("provenance_log")
      .select("output")
      .where("trend_id", "=", id)
      .where("step", "=", "publish")
      .execute();
    expect(publish).toHaveLength(1);
    expect(publish[0]!.output).toMatchObject({ externalRef, duplicate: true });
  });

  it("should retry, dead-letter to trend:publish:dlq while the adapter is down, and publish once after a replay", async () => {
    expect(live, "the live publisher of the previous test").toBeDefined();
    publisher.down();
    const id = await ingest("adapter-down");
    const letter = await eventually(
      async () =>
        (await deadLetters(h.env, STREAMS.publishDlq)).find(
          (l) => deadLetterTrendId(l.fields) === id,
        ),
      30_000,
    );
    expect(letter.fields.error_code).toBe("PUBLISH_ADAPTER_UNAVAILABLE");
    expect(letter.fields.attempts).toBe(String(MAX_ATTEMPTS));
    expect(publisher.calls.filter((c) => c.trendId === id)).toHaveLength(MAX_ATTEMPTS);
    // Visibly failed (issue 12); the replay returns it to READY first.
    await statusIs(id, "FAILED");
    expect(await trendRow(h.env.db, id)).toMatchObject({
      failed_stage: "publisher",
      failed_from: "READY",
    });
    expect(await linesFor(id)).toHaveLength(0);

    publisher.heal();
    const replay = await h.app.services.deadLetters.replay(STREAMS.publishDlq, {
      ids: [letter.id],
      actor: "fault-test",
    });
    expect(replay).toMatchObject({ replayed: 1, skipped: [] });
    await statusIs(id, "PUBLISHED");
    expect(await linesFor(id)).toHaveLength(1);
    expect(await publications(id)).toHaveLength(1);
    expect(
      (await provenanceSteps(h.env.db, id)).filter((s) => ["replay", "publish"].includes(s)),
    ).toEqual(["replay", "publish"]);

    // The same dead letter replayed again changes nothing.
    const again = await h.env.redis.xadd(
      h.env.keys.key(STREAMS.publishDlq),
      "*",
      ...Object.entries(letter.fields).flat(),
    );
    await h.app.services.deadLetters.replay(STREAMS.publishDlq, {
      ids: [again!],
      actor: "fault-test",
    });
    await eventually(async () =>
      (await pendingOf(h.env, STREAMS.publishJobs, GROUPS.publisher)) === 0 ? true : undefined,
    );
    await eventually(async () =>
      (await provenanceSteps(h.env.db, id)).filter((s) => s === "replay").length === 2
        ? true
        : undefined,
    );
    expect(await linesFor(id)).toHaveLength(1);
    expect(await publications(id)).toHaveLength(1);
    expect(publisher.calls.filter((c) => c.trendId === id)).toHaveLength(MAX_ATTEMPTS + 1);
  });

  it("should dead-letter at once, without retries, when the adapter refuses the item for good", async () => {
    expect(live, "the live publisher of the first test").toBeDefined();
    publisher.rejectNext();
    const id = await ingest("adapter-refuses");
    const letter = await eventually(
      async () =>
        (await deadLetters(h.env, STREAMS.publishDlq)).find(
          (l) => deadLetterTrendId(l.fields) === id,
        ),
      30_000,
    );
    expect(letter.fields.error_code).toBe("PERMANENT");
    expect(letter.fields.error).toContain("PUBLISH_REJECTED");
    expect(letter.fields.attempts).toBe("1");
    expect(publisher.calls.filter((c) => c.trendId === id)).toHaveLength(1);
    await statusIs(id, "FAILED");
    expect((await trendRow(h.env.db, id)).failed_error).toContain("PUBLISH_REJECTED");
    expect(await linesFor(id)).toHaveLength(0);
  });
});
