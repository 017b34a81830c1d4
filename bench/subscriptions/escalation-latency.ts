/**
 * Ingest → escalation delivered to a moderator's graphql-ws subscription, at a steady rate (issue 5).
 *
 *   npx tsx bench/subscriptions/escalation-latency.ts [--rate 20] [--seconds 20] [--escalating 0.25]
 *
 * One process runs the whole of `trendgate start` through startApp (gateway + every worker:
 * etl, embedding, judge, publisher with the bundled MCP adapter, relay, maintenance) with the
 * default configuration, its own database (tg_bench_*) and Redis prefix. A moderator client
 * subscribes to `escalationCreated` over graphql-ws through the gateway; an integrator posts
 * `ingestTrend` mutations over HTTP on a fixed schedule (open loop: item i is sent at i / rate
 * seconds whether or not earlier ones returned). About --escalating of the items are forum
 * posts the Judge sends to a human (toxic or too short/unsure to trust), the rest news items
 * (a few of which escalate on their own). Latency = from just before the mutation is sent to
 * the `next` message arriving at the subscriber, per escalation, same process clock.
 *
 * Also split, from the database's timestamps: ingest → judge commit (the pipeline) and judge
 * commit → delivered (relay + stream + pubsub + GraphQL execution + socket).
 * Results: table on stdout, JSON in bench/results/escalation-latency.json. Bounded: ingest for
 * --seconds, then at most 60 s for the pipeline to drain.
 */
import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { cpus } from "node:os";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { parseArgs } from "node:util";

import { createClient } from "graphql-ws";
import WebSocket from "ws";

import { seededRandom } from "../../src/domain/seeded-random.js";
import { startApp, WORKER_NAMES } from "../../src/main.js";
import { createLogger } from "../../src/observability/logger.js";
import { STREAMS } from "../../src/streams/stream-names.js";
import { createBenchEnv, percentile } from "../pipeline/bench-env.js";
import { newsItem } from "../pipeline/news-corpus.js";

const { values: args } = parseArgs({
  options: {
    rate: { type: "string", default: "20" },
    seconds: { type: "string", default: "20" },
    escalating: { type: "string", default: "0.25" },
  },
});
const RATE = Number(args.rate);
const SECONDS = Number(args.seconds);
const ESCALATING = Number(args.escalating);
const DRAIN_MS = 60_000;

/** Posts the offline Judge escalates: toxic (TOXICITY) or too short / foreign to trust (LOW_CONFIDENCE). */
const FORUM_POSTS = [
  "I will kill you if you show up here again",
  "Shut up you stupid moron, nobody asked for your garbage opinion",
  "You are a pathetic idiot and everyone hates you",
  "This referee is a complete idiot and should be fired",
  "great game",
  "so true lol",
  "what a day",
  "Les marchés européens ont clôturé en hausse vendredi après les chiffres de l'inflation.",
  "Die Regierung hat am Dienstag ein neues Klimagesetz vorgestellt.",
];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const env = await createBenchEnv();
  const app = await startApp(
    env.config,
    { gateway: true, workers: WORKER_NAMES, port: 0 },
    { logger: createLogger("silent") },
  );
  const gateway = app.gateway!;
  const moderator = (await app.services.auth.createKey("moderator", "bench-moderator")).key;
  const integrator = (await app.services.auth.createKey("integrator", "bench-integrator")).key;
  const runId = randomBytes(3).toString("hex");

  const sentAt = new Map<string, number>();
  const received: { trendId: string; escalationId: string; issueType: string; at: number }[] = [];
  const errors: unknown[] = [];
  const client = createClient({
    url: gateway.wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${moderator}` },
    retryAttempts: 0,
  });
  try {
    client.subscribe<{ escalationCreated: { id: string; trendId: string; issueType: string } }>(
      { query: "subscription { escalationCreated { id trendId issueType cursor reason } }" },
      {
        next: (value) => {
          const e = value.data?.escalationCreated;
          if (e)
            received.push({
              trendId: e.trendId,
              escalationId: e.id,
              issueType: e.issueType,
              at: performance.now(),
            });
          else errors.push(value.errors);
        },
        error: (error) => errors.push(error),
        complete: () => undefined,
      },
    );
    while (app.services.pubsub.subscriberCount(STREAMS.escalations) < 1) await sleep(10);

    const random = seededRandom(5);
    const total = Math.round(RATE * SECONDS);
    const inputs = Array.from({ length: total }, (_, i) =>
      random() < ESCALATING
        ? {
            source: "forum",
            externalId: `${runId}-${i}`,
            body: FORUM_POSTS[Math.floor(random() * FORUM_POSTS.length)]!,
          }
        : newsItem(i, random, runId),
    );
    const post = async (input: (typeof inputs)[number]) => {
      const at = performance.now();
      const res = await fetch(`${gateway.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${integrator}` },
        body: JSON.stringify({
          query: "mutation($input: TrendInput!) { ingestTrend(input: $input) { id } }",
          variables: { input },
        }),
      });
      const body = (await res.json()) as {
        data?: { ingestTrend: { id: string } };
        errors?: unknown;
      };
      if (!body.data) throw new Error(`ingest failed: ${JSON.stringify(body.errors)}`);
      sentAt.set(body.data.ingestTrend.id, at);
    };

    console.log(
      `escalation latency: ${total} items at ${RATE}/s for ${SECONDS} s, ~${Math.round(ESCALATING * 100)}% forum posts; node ${process.version}, ${cpus().length} cores`,
    );
    // Gateway, subscriber and workers share this event loop (as in `trendgate start`); its
    // delay says how long CPU-bound work (the models) holds up delivery.
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    const started = performance.now();
    const posts: Promise<void>[] = [];
    for (let i = 0; i < total; i++) {
      const due = started + (i * 1000) / RATE;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      posts.push(post(inputs[i]!));
    }
    await Promise.all(posts);
    const ingestSeconds = (performance.now() - started) / 1000;

    // Drained when nothing of this run is still on its way to a Judge decision.
    const deadline = Date.now() + DRAIN_MS;
    let inPipeline = Infinity;
    while (Date.now() < deadline) {
      const row = await env.database.db
        .selectFrom("enriched_trends")
        .select((eb) => eb.fn.countAll<number>().as("n"))
        .where("external_id", "like", `${runId}-%`)
        .where("status", "in", ["RECEIVED", "PLANNED", "ENRICHED", "EMBEDDED"])
        .executeTakeFirstOrThrow();
      inPipeline = Number(row.n);
      if (inPipeline === 0) break;
      await sleep(100);
    }
    const expected = await env.database.db
      .selectFrom("escalations")
      .innerJoin("enriched_trends", "enriched_trends.id", "escalations.trend_id")
      .select(["escalations.id", "escalations.trend_id", "escalations.created_at"])
      .where("enriched_trends.external_id", "like", `${runId}-%`)
      .execute();
    const settle = Date.now() + 5_000;
    while (received.length < expected.length && Date.now() < settle) await sleep(50);
    loopDelay.disable();
    const loopDelayMs = {
      p50: loopDelay.percentile(50) / 1e6,
      p99: loopDelay.percentile(99) / 1e6,
      max: loopDelay.max / 1e6,
    };
    const wallToPerf = Date.now() - performance.now();

    const byEscalation = new Map(expected.map((e) => [e.id, e]));
    const total_ms: number[] = [];
    const pipeline_ms: number[] = [];
    const delivery_ms: number[] = [];
    const issueTypes: Record<string, number> = {};
    for (const r of received) {
      const sent = sentAt.get(r.trendId);
      if (sent === undefined) continue;
      total_ms.push(r.at - sent);
      issueTypes[r.issueType] = (issueTypes[r.issueType] ?? 0) + 1;
      const row = byEscalation.get(r.escalationId);
      if (row) {
        const committed = new Date(row.created_at).getTime() - wallToPerf;
        pipeline_ms.push(committed - sent);
        delivery_ms.push(r.at - committed);
      }
    }
    const outcomes = await env.database.db
      .selectFrom("enriched_trends")
      .select(["status", (eb) => eb.fn.countAll<number>().as("n")])
      .where("external_id", "like", `${runId}-%`)
      .groupBy("status")
      .execute();
    // Where the pipeline time goes: the gap between consecutive provenance entries of each
    // escalated item (each entry commits with its stage's transaction).
    const STEPS = ["ingest", "plan", "etl", "embed", "judge"] as const;
    const steps = await env.database.db
      .selectFrom("provenance_log")
      .select(["trend_id", "step", "created_at"])
      .where(
        "trend_id",
        "in",
        expected.length
          ? expected.map((e) => e.trend_id)
          : ["00000000-0000-0000-0000-000000000000"],
      )
      .where("step", "in", [...STEPS])
      .execute();
    const stepAt = new Map<string, Map<string, number>>();
    for (const s of steps) {
      const m = stepAt.get(s.trend_id!) ?? new Map<string, number>();
      m.set(s.step, new Date(s.created_at).getTime());
      stepAt.set(s.trend_id!, m);
    }
    const stageGaps: Record<string, number[]> = {};
    for (const m of stepAt.values()) {
      for (let i = 1; i < STEPS.length; i++) {
        const a = m.get(STEPS[i - 1]!);
        const b = m.get(STEPS[i]!);
        if (a !== undefined && b !== undefined)
          (stageGaps[`${STEPS[i - 1]} → ${STEPS[i]}`] ??= []).push(b - a);
      }
    }
    const stats = (xs: number[]) => ({
      n: xs.length,
      p50: percentile(xs, 50),
      p90: percentile(xs, 90),
      p99: percentile(xs, 99),
      max: percentile(xs, 100),
    });
    const result = {
      total: stats(total_ms),
      pipeline: stats(pipeline_ms),
      delivery: stats(delivery_ms),
    };

    const f = (x: number) => (Number.isNaN(x) ? "-" : x.toFixed(0)).padStart(8);
    console.log("");
    console.log(
      `${"span (ms)".padEnd(44)} ${"n".padStart(5)} ${"p50".padStart(8)} ${"p90".padStart(8)} ${"p99".padStart(8)} ${"max".padStart(8)}`,
    );
    for (const [name, s] of [
      ["ingest sent → escalation delivered", result.total],
      ["  ingest sent → judge committed (pipeline)", result.pipeline],
      ["  judge committed → delivered (subscription)", result.delivery],
    ] as const) {
      console.log(
        `${name.padEnd(44)} ${String(s.n).padStart(5)} ${f(s.p50)} ${f(s.p90)} ${f(s.p99)} ${f(s.max)}`,
      );
    }
    const stages = Object.fromEntries(Object.entries(stageGaps).map(([k, xs]) => [k, stats(xs)]));
    for (const [name, s] of Object.entries(stages)) {
      console.log(
        `${`    provenance ${name}`.padEnd(44)} ${String(s.n).padStart(5)} ${f(s.p50)} ${f(s.p90)} ${f(s.p99)} ${f(s.max)}`,
      );
    }
    console.log(
      `ingest ${total} items in ${ingestSeconds.toFixed(1)} s; escalations in db ${expected.length}, delivered ${received.length}` +
        `, still in pipeline ${inPipeline}, subscriber errors ${errors.length}; by issue ${JSON.stringify(issueTypes)}`,
    );
    console.log(
      `event-loop delay of the app process: p50 ${loopDelayMs.p50.toFixed(0)} ms, p99 ${loopDelayMs.p99.toFixed(0)} ms, max ${loopDelayMs.max.toFixed(0)} ms`,
    );
    console.log(
      `outcomes ${JSON.stringify(Object.fromEntries(outcomes.map((o) => [o.status, Number(o.n)])))}`,
    );

    await mkdir(new URL("../results/", import.meta.url), { recursive: true });
    const out = new URL("../results/escalation-latency.json", import.meta.url);
    await writeFile(
      out,
      `${JSON.stringify(
        {
          bench: "subscriptions/escalation-latency",
          at: new Date().toISOString(),
          node: process.version,
          cores: cpus().length,
          settings: {
            rate: RATE,
            seconds: SECONDS,
            escalating: ESCALATING,
            outboxPollMs: env.config.OUTBOX_POLL_MS,
            workerBlockMs: env.config.WORKER_BLOCK_MS,
          },
          items: total,
          escalationsInDb: expected.length,
          delivered: received.length,
          stillInPipeline: inPipeline,
          subscriberErrors: errors.length,
          issueTypes,
          latencyMs: result,
          provenanceGapsMs: stages,
          eventLoopDelayMs: loopDelayMs,
        },
        null,
        2,
      )}\n`,
    );
    console.log(`wrote ${out.pathname}`);
  } finally {
    await client.dispose();
    await app.stop();
    await env.close();
  }
}

await main();
