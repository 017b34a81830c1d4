import { type ChildProcess, spawn } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { initTracing } from "../../src/observability/tracing.js";
import { makeEnvelope } from "../../src/streams/envelope.js";
import { STREAMS } from "../../src/streams/stream-names.js";
import { type AppHarness, eventually, startHarness } from "../support/app-harness.js";

interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  service: string;
}

/** A real OTLP/HTTP receiver: decodes the JSON export requests the SDK sends to /v1/traces. */
function startReceiver(): Promise<{ server: Server; url: string; spans: ReceivedSpan[] }> {
  const spans: ReceivedSpan[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      if (req.url === "/v1/traces") {
        const parsed = JSON.parse(body) as {
          resourceSpans: {
            resource: { attributes: { key: string; value: { stringValue?: string } }[] };
            scopeSpans: { spans: Omit<ReceivedSpan, "service">[] }[];
          }[];
        };
        for (const rs of parsed.resourceSpans) {
          const service =
            rs.resource.attributes.find((a) => a.key === "service.name")?.value.stringValue ?? "?";
          for (const ss of rs.scopeSpans) for (const s of ss.spans) spans.push({ ...s, service });
        }
      }
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans }),
    ),
  );
}

let receiver: Awaited<ReturnType<typeof startReceiver>>;
let h: AppHarness;
let etlWorker: ChildProcess;

beforeAll(async () => {
  receiver = await startReceiver();
  // The gateway and most workers in this process; ETL in another one, as in production.
  h = await startHarness({
    workers: ["relay", "embedding", "judge", "publisher", "maintenance"],
    config: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url },
  });
  etlWorker = spawn(process.execPath, ["bin/trendgate.js", "worker", "etl"], {
    env: {
      ...process.env,
      DATABASE_URL: h.env.config.DATABASE_URL,
      REDIS_URL: h.env.config.REDIS_URL,
      STREAM_PREFIX: h.env.prefix,
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      LOG_LEVEL: "silent",
    },
    stdio: "ignore",
  });
}, 120_000);

afterAll(async () => {
  etlWorker?.kill("SIGTERM");
  await h?.close();
  receiver?.server.close();
});

describe("tracing", { timeout: 120_000 }, () => {
  it("should export one trace per item across the gateway and worker processes, with every step as a span", async () => {
    const r = await h.gql<{ ingestTrend: { id: string; traceId: string } }>(
      `mutation($input: TrendInput!) { ingestTrend(input: $input) { id traceId } }`,
      {
        input: {
          source: "wire",
          title: "Rates on hold",
          body: "The central bank kept its benchmark interest rate unchanged on Tuesday, citing easing inflation and a resilient labour market.",
        },
      },
      h.keys.integrator,
    );
    const { id, traceId } = r.data!.ingestTrend;
    await eventually(async () => {
      const t = await h.gql<{ trend: { status: string } }>(
        `query($id: ID!) { trend(id: $id) { status } }`,
        { id },
        h.keys.viewer,
      );
      return t.data?.trend.status === "PUBLISHED" ? true : undefined;
    }, 90_000);
    await (await initTracing({ serviceName: "unused" })).flush();
    const names = await eventually(async () => {
      const got = new Set(receiver.spans.filter((s) => s.traceId === traceId).map((s) => s.name));
      return ["ingest", "plan", "etl", "embed", "judge", "publish"].every((n) => got.has(n))
        ? got
        : undefined;
    }, 30_000);
    expect([...names]).toEqual(
      expect.arrayContaining(["ingest", "plan", "etl", "embed", "judge", "publish"]),
    );
    const ofTrace = receiver.spans.filter((s) => s.traceId === traceId);
    // Spans come from two processes (two service names) and link up: each stage's parent is a span of the same trace.
    expect(new Set(ofTrace.map((s) => s.service)).size).toBeGreaterThanOrEqual(2);
    const ids = new Set(ofTrace.map((s) => s.spanId));
    const etl = ofTrace.find((s) => s.name === "etl")!;
    const ingest = ofTrace.find((s) => s.name === "ingest")!;
    expect(etl.parentSpanId).toBe(ingest.spanId);
    const publish = ofTrace.find((s) => s.name === "publish")!;
    expect(ids.has(publish.parentSpanId!)).toBe(true);
  });

  it("should add escalation, resolution and replay spans to the item's trace", async () => {
    const r = await h.gql<{ ingestTrend: { id: string; traceId: string } }>(
      `mutation($input: TrendInput!) { ingestTrend(input: $input) { id traceId } }`,
      { input: { source: "forum", body: "I will kill you if you show up here again" } },
      h.keys.integrator,
    );
    const { id, traceId } = r.data!.ingestTrend;
    const escalationId = await eventually(async () => {
      const row = await h.env.db
        .selectFrom("escalations")
        .select("id")
        .where("trend_id", "=", id)
        .executeTakeFirst();
      return row?.id;
    }, 90_000);
    const resolved = await h.gql(
      `mutation($id: ID!) { resolveEscalation(id: $id, input: { decision: REJECT, reasonCode: "VIOLENCE", note: "a threat" }) { status } }`,
      { id: escalationId },
      h.keys.moderator,
    );
    expect(resolved.errors).toBeUndefined();
    // A dead letter for the item (as the runtime writes it), replayed by an operator.
    const envelope = makeEnvelope("trend.embedded", {
      traceId,
      trendId: id,
      payload: { trendId: id },
    });
    const dlqId = await h.env.redis.xadd(
      h.env.keys.key(STREAMS.judgeDlq),
      "*",
      ...[
        "envelope",
        JSON.stringify(envelope),
        "attempts",
        "5",
        "error",
        "boom",
        "source_stream",
        STREAMS.judgeJobs,
      ],
    );
    const replay = await h.gql(
      `mutation($ids: [String!]) { replayDeadLetters(stream: "trend:judge:dlq", ids: $ids) { replayed } }`,
      { ids: [dlqId] },
    );
    expect(replay.errors).toBeUndefined();

    await (await initTracing({ serviceName: "unused" })).flush();
    const spans = await eventually(async () => {
      const ofTrace = receiver.spans.filter((s) => s.traceId === traceId);
      const names = new Set(ofTrace.map((s) => s.name));
      return ["judge", "escalation", "resolution", "replay"].every((n) => names.has(n))
        ? ofTrace
        : undefined;
    }, 30_000);
    const judge = spans.find((s) => s.name === "judge")!;
    expect(spans.find((s) => s.name === "escalation")!.parentSpanId).toBe(judge.spanId);
  });
});
