/**
 * The Judge's figures through a RUNNING system: posts a labelled JSONL with `ingestTrends`
 * (batches of 100), waits until every item has a final status, and prints the same three rates
 * as `trendgate judge evaluate` — so the CLI's figures can be checked end to end.
 *
 *   npx tsx bench/judge/through-system.ts --labels FILE.jsonl [--url http://127.0.0.1:4000]
 *       [--key KEY | TRENDGATE_KEY=...] [--limit N] [--timeout-s 900]
 *
 * The key must be an integrator key (ingest + read). Final statuses: READY or PUBLISHED
 * (published automatically), REJECTED, ESCALATED; APPROVED would mean a moderator got there
 * first, and is counted as escalated. Each run uses a fresh source name, so re-running never
 * hits the idempotency of an earlier run. Prints a table and one last JSON line.
 */
import { parseArgs } from "node:util";

import { readLabelledJsonl } from "../../src/pipeline/judge/labelled-rows.js";

const { values: args } = parseArgs({
  options: {
    labels: { type: "string" },
    url: { type: "string" },
    key: { type: "string" },
    limit: { type: "string" },
    "timeout-s": { type: "string" },
  },
});
if (!args.labels) throw new Error("--labels FILE.jsonl is required");
const url = `${(args.url ?? process.env.TRENDGATE_URL ?? "http://127.0.0.1:4000").replace(/\/$/, "")}/graphql`;
const key = args.key ?? process.env.TRENDGATE_KEY;
if (!key) throw new Error("an integrator key is required: --key or TRENDGATE_KEY");
const rows = (await readLabelledJsonl(args.labels)).slice(
  0,
  args.limit ? Number(args.limit) : undefined,
);
const timeoutMs = Number(args["timeout-s"] ?? 900) * 1000;
const source = `judge-bench-${Date.now().toString(36)}`;
const BATCH = 100;
const FINAL = new Set(["READY", "PUBLISHED", "REJECTED", "ESCALATED", "APPROVED", "CANCELLED"]);

async function gql<T>(query: string, variables: Record<string, unknown>): Promise<T> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: T; errors?: { message: string }[] };
  if (body.errors?.length)
    throw new Error(`GraphQL: ${body.errors.map((e) => e.message).join("; ")}`);
  return body.data as T;
}

const ids: string[] = [];
const started = performance.now();
for (let i = 0; i < rows.length; i += BATCH) {
  const inputs = rows
    .slice(i, i + BATCH)
    .map((r, k) => ({ source, externalId: `${i + k}`, body: r.text }));
  const data = await gql<{ ingestTrends: { id: string }[] }>(
    "mutation($inputs: [TrendInput!]!) { ingestTrends(inputs: $inputs) { id } }",
    { inputs },
  );
  ids.push(...data.ingestTrends.map((r) => r.id));
  process.stderr.write(`posted ${ids.length}/${rows.length}\r`);
}
process.stderr.write(
  `\nposted ${ids.length} items in ${((performance.now() - started) / 1000).toFixed(1)} s; waiting for final statuses\n`,
);

// Statuses are read back by id, 15 aliases per request (the gateway's alias limit); only items
// not yet final are asked for again. (Paging trends(filter: {source}) was tried: items posted
// in one batch share created_at, and some pages came back short.)
const ALIASES = 15;
async function readStatuses(pending: readonly string[], into: Map<string, string>): Promise<void> {
  for (let i = 0; i < pending.length; i += ALIASES) {
    const chunk = pending.slice(i, i + ALIASES);
    const query = `query { ${chunk.map((id, k) => `t${k}: trend(id: ${JSON.stringify(id)}) { status }`).join(" ")} }`;
    const data = await gql<Record<string, { status: string }>>(query, {});
    chunk.forEach((id, k) => into.set(id, data[`t${k}`]?.status ?? "UNKNOWN"));
  }
}

const status = new Map<string, string>();
const deadline = Date.now() + timeoutMs;
for (;;) {
  await readStatuses(
    ids.filter((id) => !FINAL.has(status.get(id) ?? "")),
    status,
  );
  const done = ids.filter((id) => FINAL.has(status.get(id) ?? "")).length;
  process.stderr.write(`final ${done}/${ids.length}${process.stderr.isTTY ? "\r" : "\n"}`);
  if (done === ids.length || Date.now() > deadline) break;
  await new Promise((r) => setTimeout(r, 2000));
}
process.stderr.write("\n");

const counts = {
  toxic: 0,
  clean: 0,
  escalated: 0,
  toxicPublished: 0,
  cleanRejected: 0,
  unfinished: 0,
};
const byStatus: Record<string, number> = {};
rows.forEach((row, i) => {
  const s = status.get(ids[i] ?? "") ?? "UNKNOWN";
  byStatus[s] = (byStatus[s] ?? 0) + 1;
  counts[row.label]++;
  if (!FINAL.has(s)) counts.unfinished++;
  else if (s === "ESCALATED" || s === "APPROVED") counts.escalated++;
  else if ((s === "READY" || s === "PUBLISHED") && row.label === "toxic") counts.toxicPublished++;
  else if (s === "REJECTED" && row.label === "clean") counts.cleanRejected++;
});
const result = {
  items: rows.length,
  toxic: counts.toxic,
  clean: counts.clean,
  escalated_rate: counts.escalated / rows.length,
  toxic_published_rate: counts.toxic ? counts.toxicPublished / counts.toxic : 0,
  clean_rejected_rate: counts.clean ? counts.cleanRejected / counts.clean : 0,
  unfinished: counts.unfinished,
  statuses: byStatus,
  seconds: Math.round((performance.now() - started) / 100) / 10,
};
console.log(
  `items ${result.items} (${result.toxic} toxic, ${result.clean} clean) through ${url}, source ${source}`,
);
console.log("figure                 value");
console.log(`escalated_rate         ${result.escalated_rate.toFixed(4)}`);
console.log(`toxic_published_rate   ${result.toxic_published_rate.toFixed(4)}`);
console.log(`clean_rejected_rate    ${result.clean_rejected_rate.toFixed(4)}`);
console.log(`unfinished             ${result.unfinished}`);
console.log(`statuses               ${JSON.stringify(byStatus)}`);
console.log(JSON.stringify(result));
if (result.unfinished > 0) process.exitCode = 1;
