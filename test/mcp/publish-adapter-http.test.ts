import { join } from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { runPublishAdapterHttp } from "../../src/mcp/publish-adapter-server.js";
import { connectMcpPublisher, type Publisher, PublishError } from "../../src/mcp/publish-client.js";
import { publishRequest, readJsonl, tempDir } from "./helpers.js";

/** The adapter served over Streamable HTTP at /mcp, reached by URL. */
describe("publish adapter over Streamable HTTP", () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  const servers: { close(): Promise<void> }[] = [];
  const publishers: Publisher[] = [];

  const serve = async (jsonlPath: string, port = 0) => {
    const server = await runPublishAdapterHttp({
      jsonlPath,
      port,
      name: "http-adapter-under-test",
    });
    servers.push(server);
    return server;
  };

  beforeAll(async () => {
    dir = await tempDir();
  });

  afterAll(async () => {
    await Promise.all(publishers.map((p) => p.close()));
    await Promise.all(servers.map((s) => s.close().catch(() => undefined)));
    await dir.remove();
  });

  it("should publish and deduplicate over a round trip", async () => {
    const file = join(dir.path, "http.jsonl");
    const server = await serve(file);
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    const publisher = await connectMcpPublisher({ url: server.url });
    publishers.push(publisher);
    const req = publishRequest({ approvalPath: "override" });

    const first = await publisher.publish(req);
    const second = await publisher.publish(req);

    expect(publisher.adapter).toBe("mcp-http:http-adapter-under-test");
    expect(first.duplicate).toBe(false);
    expect(second).toMatchObject({ duplicate: true, externalRef: first.externalRef });
    expect(await readJsonl(file)).toEqual([
      expect.objectContaining({ externalRef: first.externalRef, approvalPath: "override" }),
    ]);
  });

  it("should keep publishing, deduplicated, when the HTTP adapter restarted between calls", async () => {
    const file = join(dir.path, "restart.jsonl");
    const server = await serve(file);
    const publisher = await connectMcpPublisher({ url: server.url });
    publishers.push(publisher);
    const req = publishRequest();
    const before = await publisher.publish(req);

    await server.close();
    await serve(file, Number(new URL(server.url).port));
    const after = await publisher.publish(req);
    const fresh = await publisher.publish(publishRequest());

    expect(after).toMatchObject({ duplicate: true, externalRef: before.externalRef });
    expect(fresh.duplicate).toBe(false);
    expect(await readJsonl(file)).toHaveLength(2);
  });

  it("should fail with PUBLISH_ADAPTER_UNAVAILABLE when nothing listens at the URL", async () => {
    const server = await serve(join(dir.path, "gone.jsonl"));
    await server.close();

    const error = await connectMcpPublisher({ url: server.url, timeoutMs: 5_000 }).catch(
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(PublishError);
    expect(error).toMatchObject({ code: "PUBLISH_ADAPTER_UNAVAILABLE", retryable: true });
  });
});
