import { appendFile, mkdir, readFile, utimes } from "node:fs/promises";
import { join } from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { withFileLock } from "../../src/mcp/file-lock.js";
import { createInProcessPublisher } from "../../src/mcp/in-process-publisher.js";
import { PublishError } from "../../src/mcp/publish-error.js";
import { publishRequest, readJsonl, tempDir } from "./helpers.js";

/** The tool logic shared by the adapter and the in-process publisher, without MCP. */
describe("publish sink (in-process publisher)", () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;

  beforeAll(async () => {
    dir = await tempDir();
  });

  afterAll(async () => {
    await dir.remove();
  });

  it("should write one line when the same key is published concurrently in one process", async () => {
    const file = join(dir.path, "concurrent.jsonl");
    const publisher = createInProcessPublisher({ jsonlPath: file });
    const req = publishRequest();

    const results = await Promise.all(Array.from({ length: 10 }, () => publisher.publish(req)));

    expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
    expect(new Set(results.map((r) => r.externalRef)).size).toBe(1);
    expect(results[0]).toMatchObject({
      tool: "publish",
      adapter: "in-process:trendgate-publish-adapter",
    });
    expect(await readJsonl(file)).toHaveLength(1);
  });

  it("should reject bad input with PUBLISH_REJECTED listing every bad field", async () => {
    const publisher = createInProcessPublisher({ jsonlPath: join(dir.path, "invalid.jsonl") });
    const bad = {
      ...publishRequest(),
      idempotencyKey: "",
      approvalPath: "self-approved",
      url: "ftp://example.com/x",
    } as unknown as Parameters<typeof publisher.publish>[0];

    const error = await publisher.publish(bad).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(PublishError);
    expect(error).toMatchObject({
      code: "PUBLISH_REJECTED",
      retryable: false,
      data: { adapterCode: "PUBLISH_INVALID_INPUT" },
    });
    const paths = (error as PublishError).data.issues as { path: string[] }[];
    expect(paths.map((i) => i.path.join("."))).toEqual(
      expect.arrayContaining(["idempotencyKey", "approvalPath", "url"]),
    );
  });

  it("should keep deduplicating past a torn line left by a writer that crashed mid-write", async () => {
    const file = join(dir.path, "torn.jsonl");
    const req = publishRequest();
    const first = await createInProcessPublisher({ jsonlPath: file }).publish(req);
    await appendFile(file, '{"idempotencyKey":"half-writ');

    const other = await createInProcessPublisher({ jsonlPath: file }).publish(publishRequest());
    const again = await createInProcessPublisher({ jsonlPath: file }).publish(req);

    expect(other.duplicate).toBe(false);
    expect(again).toMatchObject({ duplicate: true, externalRef: first.externalRef });
    const raw = (await readFile(file, "utf8")).split("\n").filter(Boolean);
    expect(raw).toHaveLength(3);
    expect(JSON.parse(raw[2]!)).toMatchObject({ externalRef: other.externalRef });
  });

  it("should take over a lock file left behind by a dead adapter process", async () => {
    const file = join(dir.path, "stale", "published.jsonl");
    await mkdir(join(dir.path, "stale"), { recursive: true });
    // A crashed holder stops refreshing its lock: it is left with an mtime older than the stale age.
    await mkdir(`${file}.lock`);
    const longAgo = new Date(Date.now() - 60_000);
    await utimes(`${file}.lock`, longAgo, longAgo);

    const result = await createInProcessPublisher({ jsonlPath: file }).publish(publishRequest());

    expect(result.duplicate).toBe(false);
    expect(await readJsonl(file)).toHaveLength(1);
    await expect(readFile(`${file}.lock`, "utf8")).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("should fail with FILE_LOCK_TIMEOUT while a live process holds the lock", async () => {
    const lock = join(dir.path, "held.lock");
    await mkdir(lock); // fresh mtime: a live holder

    const error = await withFileLock(lock, async () => "never", { timeoutMs: 50 }).catch(
      (e: unknown) => e,
    );

    expect(error).toMatchObject({ code: "FILE_LOCK_TIMEOUT", retryable: true, lockPath: lock });
  });
});
