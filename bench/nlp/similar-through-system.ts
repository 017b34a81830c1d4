/**
 * The embedder's two quality figures measured the way a user meets them: items posted with
 * `ingestTrends`, embedded by the running pipeline into the HNSW index over Postgres, and read
 * back with the `similarTrends` query over HTTP (issue 15: "checked through similarTrends").
 *
 *   npx tsx bench/nlp/similar-through-system.ts [--limit N]
 *
 * One process runs `trendgate start` through startApp (gateway + every worker, the offline
 * defaults) with its own database and Redis prefix, dropped at the end. It posts:
 * - every AG News validation row (source `agnews`): same-topic@5 = the share of each item's 5
 *   results of `similarTrends(trendId, first: 5, filter: {source: "agnews"})` with its topic;
 * - both sentences of every STS-B validation pair, each pair under its own source
 *   (`stsb-<n>`), so `similarTrends(trendId: a, first: 1, filter: {source})` returns exactly b
 *   and its score: Spearman between those scores and the human ones.
 * Beside them, the same figures from the embedder called directly (what bench/nlp/
 * embedder-compare.ts reports), to show what the pipeline's text normalisation and the
 * approximate index change. Validation splits: src/nlp/train/corpora.ts. Last line: JSON.
 */
import { parseArgs } from "node:util";

import { sql } from "kysely";

import { startApp, WORKER_NAMES } from "../../src/main.js";
import { createFastEmbedder } from "../../src/nlp/embedder-fast.js";
import { embedderSplits } from "../../src/nlp/train/corpora.js";
import { embedderFigures, spearman } from "../../src/nlp/train/embedder-metrics.js";
import { createLogger } from "../../src/observability/logger.js";
import { createBenchEnv } from "../pipeline/bench-env.js";

const { values: args } = parseArgs({
  options: { limit: { type: "string" }, "timeout-s": { type: "string", default: "600" } },
});
const LIMIT = args.limit === undefined ? Infinity : Number(args.limit);
if (!(Number.isInteger(LIMIT) || LIMIT === Infinity) || LIMIT < 1)
  throw new Error(`--limit must be a positive integer, got ${args.limit}`);
const IN_FLIGHT = 8;

interface Posted {
  source: string;
  externalId: string;
  body: string;
}

const { stsVal: allSts, agVal: allAg } = embedderSplits();
const agVal = allAg.slice(0, LIMIT);
const stsVal = allSts.slice(0, LIMIT);
const agItems: Posted[] = agVal.map((r, i) => ({
  source: "agnews",
  externalId: `ag-${i}`,
  body: r.text,
}));
const stsItems: Posted[] = stsVal.flatMap((p, i) => [
  { source: `stsb-${i}`, externalId: "a", body: p.a },
  { source: `stsb-${i}`, externalId: "b", body: p.b },
]);

/** Runs `work` over `items` with at most `limit` calls in flight; results in input order. */
async function pooled<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>) {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await work(items[i]!);
      }
    }),
  );
  return out;
}

async function main() {
  const env = await createBenchEnv({ AUDIT_SAMPLE_RATE: 0 });
  const app = await startApp(
    env.config,
    { gateway: true, workers: WORKER_NAMES, port: 0 },
    { logger: createLogger("silent") },
  );
  try {
    const key = (await app.services.auth.createKey("integrator", "bench-similar")).key;
    const graphql = async <T>(query: string, variables: unknown): Promise<T> => {
      const res = await fetch(`${app.gateway!.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json()) as { data?: T; errors?: unknown };
      if (!body.data) throw new Error(`GraphQL error: ${JSON.stringify(body.errors)}`);
      return body.data;
    };

    // --- Post everything, 100 a call, and wait until every item has its vector ---------------
    const all = [...agItems, ...stsItems];
    const ids = new Map<string, string>();
    const batches = Array.from({ length: Math.ceil(all.length / 100) }, (_, b) =>
      all.slice(b * 100, b * 100 + 100),
    );
    const started = performance.now();
    await pooled(batches, 2, async (batch) => {
      const data = await graphql<{ ingestTrends: { id: string }[] }>(
        "mutation($inputs: [TrendInput!]!) { ingestTrends(inputs: $inputs) { id } }",
        { inputs: batch },
      );
      batch.forEach((item, i) =>
        ids.set(`${item.source}/${item.externalId}`, data.ingestTrends[i]!.id),
      );
    });
    const deadline = Date.now() + Number(args["timeout-s"]) * 1000;
    for (;;) {
      const { rows } = await sql<{ embedded: number; failed: number }>`
        SELECT count(*) FILTER (WHERE embedding_status = 'SUCCEEDED')::int AS embedded,
               count(*) FILTER (WHERE embedding_status = 'FAILED')::int AS failed
        FROM enriched_trends`.execute(env.database.db);
      const { embedded, failed } = rows[0]!;
      process.stderr.write(`\r  embedded ${embedded} of ${all.length} (failed ${failed})   `);
      if (embedded + failed >= all.length) break;
      if (Date.now() > deadline) throw new Error("timed out waiting for the embeddings");
      await new Promise((r) => setTimeout(r, 250));
    }
    process.stderr.write(
      `\n  posted and embedded in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
    );

    const similar = `query($id: ID!, $first: Int!, $source: String!) {
      similarTrends(trendId: $id, first: $first, filter: { source: $source }) { trend { id } score }
    }`;
    type Similar = { similarTrends: { trend: { id: string }; score: number }[] };

    // --- AG News same-topic@5 through similarTrends ------------------------------------------
    const topicOf = new Map(
      agItems.map((item, i) => [ids.get(`agnews/${item.externalId}`)!, agVal[i]!.topic]),
    );
    const shares = await pooled(agItems, IN_FLIGHT, async (item) => {
      const id = ids.get(`agnews/${item.externalId}`)!;
      const data = await graphql<Similar>(similar, { id, first: 5, source: "agnews" });
      const hits = data.similarTrends.filter((m) => topicOf.get(m.trend.id) === topicOf.get(id));
      return hits.length / 5;
    });
    const agThrough = shares.reduce((a, b) => a + b, 0) / shares.length;

    // --- STS-B Spearman through similarTrends -------------------------------------------------
    const scores = await pooled(
      stsItems.filter((item) => item.externalId === "a"),
      IN_FLIGHT,
      async (item) => {
        const data = await graphql<Similar>(similar, {
          id: ids.get(`${item.source}/a`)!,
          first: 1,
          source: item.source,
        });
        const match = data.similarTrends[0];
        if (match === undefined || match.trend.id !== ids.get(`${item.source}/b`))
          throw new Error(`${item.source}: b not returned`);
        return match.score;
      },
    );
    const stsThrough = spearman(
      scores,
      stsVal.map((p) => p.score),
    );

    // --- The same figures from the embedder called directly -----------------------------------
    const embedder = createFastEmbedder();
    const direct = await embedderFigures((texts) => embedder.embed(texts), { stsVal, agVal });
    await embedder.close();

    console.log(
      `\nmodel ${embedder.model}; ${stsVal.length} STS-B validation pairs, ${agVal.length} AG News validation rows`,
    );
    console.log("figure                    through similarTrends   embedder directly");
    console.log(
      `STS-B Spearman            ${stsThrough.toFixed(4).padStart(21)}   ${direct.sts.toFixed(4).padStart(17)}`,
    );
    console.log(
      `AG News same-topic@5      ${agThrough.toFixed(4).padStart(21)}   ${direct.ag5.toFixed(4).padStart(17)}`,
    );
    console.log(
      JSON.stringify({
        bench: "similar-through-system",
        model: embedder.model,
        stsPairs: stsVal.length,
        agRows: agVal.length,
        stsSpearmanThroughSimilarTrends: Number(stsThrough.toFixed(4)),
        agSameTopicAt5ThroughSimilarTrends: Number(agThrough.toFixed(4)),
        stsSpearmanDirect: Number(direct.sts.toFixed(4)),
        agSameTopicAt5Direct: Number(direct.ag5.toFixed(4)),
      }),
    );
  } finally {
    await app.stop();
    await env.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
