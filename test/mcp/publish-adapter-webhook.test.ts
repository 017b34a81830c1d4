import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { createInProcessPublisher } from "../../src/mcp/in-process-publisher.js";
import { connectMcpPublisher, type Publisher, PublishError } from "../../src/mcp/publish-client.js";
import { publishRequest, readJsonl, tempDir } from "./helpers.js";

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

/** The adapter's webhook target against a real HTTP receiver on loopback. */
describe("publish adapter with a webhook target", () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let receiver: Server;
  let base: string;
  const received: Received[] = [];
  const leftovers: Publisher[] = [];

  const spawnAdapter = async (path: string, indexDir: string) => {
    const publisher = await connectMcpPublisher({
      env: {
        PUBLISH_WEBHOOK_URL: `${base}${path}`,
        PUBLISH_JSONL_PATH: join(indexDir, "published.jsonl"),
        LOG_LEVEL: "warn",
      },
    });
    leftovers.push(publisher);
    return publisher;
  };

  beforeAll(async () => {
    dir = await tempDir();
    receiver = createServer((req, res) => {
      let text = "";
      req.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
      req.on("end", () => {
        const path = req.url ?? "/";
        received.push({
          path,
          headers: req.headers,
          body: JSON.parse(text) as Record<string, unknown>,
        });
        if (path === "/ok") {
          res.writeHead(201, { "content-type": "application/json" });
          res.end(JSON.stringify({ id: `wh-${received.length}` }));
        } else if (path === "/unavailable") {
          res.writeHead(503).end("down for maintenance");
        } else {
          res.writeHead(422).end("payload refused");
        }
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await Promise.all(leftovers.map((p) => p.close()));
    receiver.closeAllConnections();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
    await dir.remove();
  });

  it("should POST once per idempotency key and keep deduplicating after an adapter restart", async () => {
    const indexDir = join(dir.path, "ok");
    const req = publishRequest({ approvalPath: "moderator" });
    const first = await spawnAdapter("/ok", indexDir);

    const a = await first.publish(req);
    const b = await first.publish(req);
    await first.close();
    const restarted = await spawnAdapter("/ok", indexDir);
    const c = await restarted.publish(req);

    const posts = received.filter((r) => r.body.idempotencyKey === req.idempotencyKey);
    expect(posts).toHaveLength(1);
    expect(posts[0]!.headers["idempotency-key"]).toBe(req.idempotencyKey);
    expect(posts[0]!.body).toMatchObject({
      trendId: req.trendId,
      approvalPath: "moderator",
      title: req.title,
    });
    expect(a).toMatchObject({ duplicate: false, externalRef: expect.stringMatching(/^wh-\d+$/) });
    expect(b).toMatchObject({ duplicate: true, externalRef: a.externalRef });
    expect(c).toMatchObject({ duplicate: true, externalRef: a.externalRef });
    const index = await readJsonl(join(indexDir, "published-webhook.index.jsonl"));
    expect(index).toEqual([
      expect.objectContaining({ idempotencyKey: req.idempotencyKey, externalRef: a.externalRef }),
    ]);
  });

  it("should fail retryable with PUBLISH_REJECTED when the webhook answers 503, and record nothing", async () => {
    const indexDir = join(dir.path, "unavailable");
    const publisher = await spawnAdapter("/unavailable", indexDir);
    const req = publishRequest();

    const errors = [
      await publisher.publish(req).catch((e: unknown) => e),
      await publisher.publish(req).catch((e: unknown) => e),
    ];

    for (const error of errors) {
      expect(error).toBeInstanceOf(PublishError);
      expect(error).toMatchObject({
        code: "PUBLISH_REJECTED",
        retryable: true,
        data: { adapterCode: "PUBLISH_WEBHOOK_FAILED" },
      });
      expect((error as Error).message).toContain("503");
    }
    // A failed POST is not a publication: the retry must reach the webhook again.
    expect(received.filter((r) => r.body.idempotencyKey === req.idempotencyKey)).toHaveLength(2);
    expect(await readJsonl(join(indexDir, "published-webhook.index.jsonl"))).toHaveLength(0);
  });

  it("should fail not retryable when the webhook refuses the payload with a 4xx", async () => {
    const publisher = createInProcessPublisher({
      webhookUrl: `${base}/refuse`,
      indexPath: join(dir.path, "refuse", "index.jsonl"),
    });

    const error = await publisher.publish(publishRequest()).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(PublishError);
    expect(error).toMatchObject({
      code: "PUBLISH_REJECTED",
      retryable: false,
      data: { status: 422 },
    });
  });
});
