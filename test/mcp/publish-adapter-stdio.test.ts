import { join } from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { connectMcpPublisher, type Publisher, PublishError } from "../../src/mcp/publish-client.js";
import { adapterChildPids, publishRequest, readJsonl, tempDir } from "./helpers.js";

/** The bundled adapter spawned over stdio, as the publisher worker runs it. */
describe("publish adapter over stdio", () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  const leftovers: Publisher[] = [];

  const spawnAdapter = async (jsonlPath: string) => {
    const publisher = await connectMcpPublisher({
      env: { PUBLISH_JSONL_PATH: jsonlPath, LOG_LEVEL: "warn" },
    });
    leftovers.push(publisher);
    return publisher;
  };

  beforeAll(async () => {
    dir = await tempDir();
  });

  afterAll(async () => {
    await Promise.all(leftovers.map((p) => p.close()));
    await dir.remove();
  });

  it("should append one JSONL line carrying the returned externalRef", async () => {
    const file = join(dir.path, "nested", "first.jsonl");
    const publisher = await spawnAdapter(file);
    const req = publishRequest({ body: "full text" });

    const result = await publisher.publish(req);

    expect(result.duplicate).toBe(false);
    expect(result.externalRef).toMatch(/^jsonl:/);
    expect(result.tool).toBe("publish");
    expect(result.adapter).toBe("mcp-stdio:trendgate-publish-adapter");
    expect(result.arguments).toMatchObject({
      trendId: req.trendId,
      idempotencyKey: req.idempotencyKey,
    });
    const lines = await readJsonl(file);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      externalRef: result.externalRef,
      trendId: req.trendId,
      idempotencyKey: req.idempotencyKey,
      approvalPath: "judge",
      body: "full text",
      topics: ["energy", "gadgets"],
    });
  });

  it("should publish once and return the same reference when a key repeats, also after a restart", async () => {
    const file = join(dir.path, "repeat.jsonl");
    const req = publishRequest({ url: null, title: "" });
    const first = await spawnAdapter(file);

    const a = await first.publish(req);
    const b = await first.publish({ ...req, summary: "changed on retry" });
    await first.close();
    const restarted = await spawnAdapter(file);
    const c = await restarted.publish(req);

    expect([a.duplicate, b.duplicate, c.duplicate]).toEqual([false, true, true]);
    expect(b.externalRef).toBe(a.externalRef);
    expect(c.externalRef).toBe(a.externalRef);
    const lines = await readJsonl(file);
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toHaveProperty("url");
  });

  it("should write one line per key when two adapter processes publish the same keys at once", async () => {
    const file = join(dir.path, "shared.jsonl");
    const [left, right] = await Promise.all([spawnAdapter(file), spawnAdapter(file)]);
    const requests = Array.from({ length: 20 }, () => publishRequest());

    const results = await Promise.all(
      requests.flatMap((req) => [left.publish(req), right.publish(req)]),
    );

    const lines = await readJsonl(file);
    expect(lines).toHaveLength(requests.length);
    expect(new Set(lines.map((l) => l.idempotencyKey)).size).toBe(requests.length);
    for (let i = 0; i < requests.length; i++) {
      const [x, y] = [results[2 * i]!, results[2 * i + 1]!];
      expect(x.externalRef).toBe(y.externalRef);
      expect([x.duplicate, y.duplicate].filter((d) => !d)).toHaveLength(1);
      expect(lines.find((l) => l.idempotencyKey === requests[i]!.idempotencyKey)?.externalRef).toBe(
        x.externalRef,
      );
    }
  });

  it("should reject bad input with PUBLISH_REJECTED, not retryable, naming the field", async () => {
    const file = join(dir.path, "bad.jsonl");
    const publisher = await spawnAdapter(file);

    const error = await publisher
      .publish(publishRequest({ trendId: "not-a-uuid" }))
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(PublishError);
    expect(error).toMatchObject({ code: "PUBLISH_REJECTED", retryable: false });
    expect((error as Error).message).toContain("trendId");
    expect(await readJsonl(file)).toHaveLength(0);
  });

  it("should fail with PUBLISH_ADAPTER_UNAVAILABLE when the adapter command does not exist", async () => {
    const error = await connectMcpPublisher({ command: join(dir.path, "no-such-adapter") }).catch(
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(PublishError);
    expect(error).toMatchObject({ code: "PUBLISH_ADAPTER_UNAVAILABLE", retryable: true });
  });

  it("should fail with PUBLISH_BAD_RESPONSE when the server has no such tool", async () => {
    const error = await connectMcpPublisher({
      env: { PUBLISH_JSONL_PATH: join(dir.path, "unused.jsonl") },
      toolName: "publish_v9",
    }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(PublishError);
    expect(error).toMatchObject({ code: "PUBLISH_BAD_RESPONSE", retryable: false });
  });

  it("should respawn the adapter and publish once when the adapter process was killed", async () => {
    const file = join(dir.path, "crash.jsonl");
    const before = adapterChildPids();
    const publisher = await spawnAdapter(file);
    const spawned = [...adapterChildPids()].filter((pid) => !before.has(pid));
    expect(spawned).toHaveLength(1);
    const first = await publisher.publish(publishRequest());

    process.kill(spawned[0]!, "SIGKILL");
    const req = publishRequest();
    const afterCrash = await publisher.publish(req);
    const again = await publisher.publish(req);

    expect(afterCrash.duplicate).toBe(false);
    expect(again).toMatchObject({ externalRef: afterCrash.externalRef, duplicate: true });
    const lines = await readJsonl(file);
    expect(lines.map((l) => l.externalRef)).toEqual([first.externalRef, afterCrash.externalRef]);
  });
});
