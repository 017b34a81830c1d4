/**
 * Webhook delivery latency: from the commit of a change (an escalation opened, its
 * `escalation.created` event in the outbox of the same transaction) to the signed POST arriving
 * at a receiver on 127.0.0.1 (issue 14, item 8).
 *
 *   npx tsx bench/review/webhook-latency.ts [--rate 50] [--count 1000] [--receivers 1]
 *
 * One process runs the relay and the `webhooks` worker through startApp (default configuration:
 * the relay LISTENs for the outbox's NOTIFY, the worker reads with WORKER_BLOCK_MS), its own
 * database (tg_bench_*) and Redis prefix. Escalations are opened on a fixed schedule (open loop:
 * event i is committed at i / rate seconds); latency = commit returned → request received, same
 * process clock. Every request is verified with the standardwebhooks library.
 * Results: table on stdout, JSON in bench/results/webhook-latency.json, and one JSON line last.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";

import { Webhook } from "standardwebhooks";

import { startApp } from "../../src/main.js";
import { createLogger } from "../../src/observability/logger.js";
import { openEscalation } from "../../src/pipeline/review/open-escalation.js";
import { createBenchEnv, percentile } from "../pipeline/bench-env.js";

const { values: args } = parseArgs({
  options: {
    rate: { type: "string", default: "50" },
    count: { type: "string", default: "1000" },
    receivers: { type: "string", default: "1" },
  },
});
const RATE = Number(args.rate);
const COUNT = Number(args.count);
const RECEIVERS = Number(args.receivers);
const DRAIN_MS = 60_000;
const SECRET = `whsec_${randomBytes(32).toString("base64")}`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Receipt {
  trendId: string;
  at: number;
  verified: boolean;
}

async function startReceiver(receipts: Receipt[]): Promise<{ url: string; server: Server }> {
  const verifier = new Webhook(SECRET);
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const at = performance.now();
      const body = Buffer.concat(chunks).toString("utf8");
      let verified = true;
      try {
        verifier.verify(body, req.headers as Record<string, string>);
      } catch {
        verified = false;
      }
      const parsed = JSON.parse(body) as { data: { trendId: string } };
      receipts.push({ trendId: parsed.data.trendId, at, verified });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`, server };
}

async function main(): Promise<void> {
  const receipts: Receipt[][] = Array.from({ length: RECEIVERS }, () => []);
  const receivers = await Promise.all(receipts.map((r) => startReceiver(r)));
  const env = await createBenchEnv({
    WEBHOOK_URLS: receivers.map((r) => r.url),
    WEBHOOK_SECRET: SECRET,
  });
  const app = await startApp(
    env.config,
    { gateway: false, workers: ["relay", "webhooks"] },
    { logger: createLogger("silent") },
  );
  const db = env.database.db;
  const committed = new Map<string, number>();
  try {
    // The items exist first (ESCALATED), so the timed transaction is the opening alone.
    const trends = Array.from({ length: COUNT }, () => ({
      id: randomUUID(),
      trace_id: randomUUID().replace(/-/g, ""),
    }));
    for (let i = 0; i < trends.length; i += 500) {
      await db
        .insertInto("enriched_trends")
        .values(
          trends.slice(i, i + 500).map((t) => ({
            ...t,
            source: "bench",
            body: "webhook latency",
            metadata: "{}",
            status: "ESCALATED" as const,
          })),
        )
        .execute();
    }
    const start = performance.now();
    const opening: Promise<void>[] = [];
    for (let i = 0; i < COUNT; i++) {
      const due = start + (i * 1000) / RATE;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      const trend = trends[i]!;
      opening.push(
        db
          .transaction()
          .execute((trx) =>
            openEscalation(trx, trend, {
              issueType: "toxicity",
              reason: "bench",
              rule: "bench",
              scores: {},
            }),
          )
          .then(() => void committed.set(trend.id, performance.now())),
      );
    }
    await Promise.all(opening);
    const deadline = performance.now() + DRAIN_MS;
    while (receipts.some((r) => r.length < COUNT) && performance.now() < deadline) await sleep(50);

    const latencies = receipts.flatMap((list) =>
      list.map((r) => r.at - committed.get(r.trendId)!).filter((ms) => Number.isFinite(ms)),
    );
    const delivered = receipts.map((r) => new Set(r.map((x) => x.trendId)).size);
    const verified = receipts.flat().filter((r) => r.verified).length;
    const result = {
      bench: "webhook-latency",
      rate: RATE,
      events: COUNT,
      receivers: RECEIVERS,
      delivered: delivered.reduce((a, b) => a + b, 0),
      requests: receipts.flat().length,
      verified,
      p50Ms: Math.round(percentile(latencies, 50) * 10) / 10,
      p90Ms: Math.round(percentile(latencies, 90) * 10) / 10,
      p99Ms: Math.round(percentile(latencies, 99) * 10) / 10,
      maxMs: Math.round(Math.max(...latencies) * 10) / 10,
      settings: {
        outboxPollMs: env.config.OUTBOX_POLL_MS,
        workerBlockMs: env.config.WORKER_BLOCK_MS,
        webhookConcurrency: env.config.WEBHOOK_CONCURRENCY,
      },
    };
    console.log(
      "\nwebhook delivery, commit → receiver (127.0.0.1), signed (figures provisional on a shared machine)\n",
    );
    console.log(
      "| events | rate/s | receivers | delivered | verified | p50 ms | p90 ms | p99 ms | max ms |",
    );
    console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    console.log(
      `| ${COUNT} | ${RATE} | ${RECEIVERS} | ${result.delivered} | ${verified}/${result.requests} | ${result.p50Ms} | ${result.p90Ms} | ${result.p99Ms} | ${result.maxMs} |\n`,
    );
    const out = new URL("../results/webhook-latency.json", import.meta.url);
    await mkdir(new URL(".", out), { recursive: true });
    await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
    console.log(JSON.stringify(result));
  } finally {
    await app.stop();
    await env.close();
    await Promise.all(receivers.map((r) => new Promise((resolve) => r.server.close(resolve))));
  }
}

await main();
