import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";

import { sql } from "kysely";

import type { Db } from "../../src/db/database.js";

export interface RealTextOptions {
  url: string;
  /** An integrator (or operator) key. */
  key: string;
  db: Db;
  file: string;
  /** Lines to send; all when undefined. */
  limit?: number;
  batch?: number;
  settleTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface RealTextReport {
  lines: number;
  accepted: number;
  refusedAsBadInput: number;
  backpressureRetries: number;
  byStatus: Record<string, number>;
  /** Items still in RECEIVED … APPROVED at the end. */
  nonTerminal: number;
  /** FAILED items by their error, so a failure class is visible at once. */
  failures: Record<string, number>;
  ingestSeconds: number;
  settleSeconds: number;
}

const SETTLED = ["PUBLISHED", "REJECTED", "CANCELLED", "FAILED", "ESCALATED", "PAUSED"];

interface GqlReply {
  data?: { ingestTrends?: { id: string }[] } | null;
  errors?: { message: string; extensions?: { code?: string; retryAfterMs?: number } }[];
}

/**
 * The real-text campaign (issue 12): third-party text (tweets with emoji, markup, slurs) posted
 * through the gateway with ingestTrends, then every accepted item must reach a terminal or human
 * status. A batch refused with BAD_USER_INPUT is sent again line by line so one bad line costs
 * only itself; BACKPRESSURE waits retryAfterMs and resends.
 */
export async function runRealTextCampaign(o: RealTextOptions): Promise<RealTextReport> {
  const log = o.log ?? (() => undefined);
  const report: RealTextReport = {
    lines: 0,
    accepted: 0,
    refusedAsBadInput: 0,
    backpressureRetries: 0,
    byStatus: {},
    nonTerminal: 0,
    failures: {},
    ingestSeconds: 0,
    settleSeconds: 0,
  };
  const post = async (
    inputs: { source: string; externalId: string; body: string }[],
  ): Promise<GqlReply> => {
    for (;;) {
      const res = await fetch(`${o.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${o.key}` },
        body: JSON.stringify({
          query: "mutation($inputs: [TrendInput!]!) { ingestTrends(inputs: $inputs) { id } }",
          variables: { inputs },
        }),
      });
      const reply = (await res.json()) as GqlReply;
      const error = reply.errors?.[0];
      if (error?.extensions?.code !== "BACKPRESSURE") return reply;
      report.backpressureRetries += 1;
      await new Promise((r) => setTimeout(r, error.extensions?.retryAfterMs ?? 1000));
    }
  };
  const send = async (batch: { source: string; externalId: string; body: string }[]) => {
    const reply = await post(batch);
    if (!reply.errors?.length) {
      report.accepted += reply.data?.ingestTrends?.length ?? 0;
      return;
    }
    const code = reply.errors[0]!.extensions?.code;
    if (code !== "BAD_USER_INPUT")
      throw new Error(`ingestTrends failed: ${code} ${reply.errors[0]!.message}`);
    for (const input of batch) {
      const one = await post([input]);
      if (one.errors?.length) {
        if (one.errors[0]!.extensions?.code !== "BAD_USER_INPUT")
          throw new Error(`ingest failed: ${one.errors[0]!.message}`);
        report.refusedAsBadInput += 1;
      } else report.accepted += 1;
    }
  };

  const started = Date.now();
  const lines = createInterface({ input: createReadStream(o.file, "utf8"), crlfDelay: Infinity });
  let batch: { source: string; externalId: string; body: string }[] = [];
  for await (const line of lines) {
    if (o.limit !== undefined && report.lines >= o.limit) break;
    if (!line.trim()) continue;
    const { text } = JSON.parse(line) as { text: string };
    batch.push({ source: "davidson", externalId: `d-${report.lines}`, body: text });
    report.lines += 1;
    if (batch.length >= (o.batch ?? 100)) {
      await send(batch);
      batch = [];
      if (report.lines % 2000 === 0) log(`sent ${report.lines} lines`);
    }
  }
  if (batch.length) await send(batch);
  report.ingestSeconds = (Date.now() - started) / 1000;
  log(
    `sent ${report.lines} lines in ${report.ingestSeconds.toFixed(0)} s; waiting for every item to settle`,
  );

  const settleStarted = Date.now();
  const deadline = settleStarted + (o.settleTimeoutMs ?? 1_800_000);
  let lastLog = 0;
  for (;;) {
    const rows = await o.db
      .selectFrom("enriched_trends")
      .select(["status", sql<number>`count(*)::int`.as("n")])
      .where("source", "=", "davidson")
      .groupBy("status")
      .execute();
    report.byStatus = Object.fromEntries(rows.map((r) => [r.status, r.n]));
    report.nonTerminal = rows
      .filter((r) => !SETTLED.includes(r.status))
      .reduce((n, r) => n + r.n, 0);
    if (report.nonTerminal === 0 || Date.now() > deadline) break;
    if (Date.now() - lastLog > 30_000) {
      lastLog = Date.now();
      log(`waiting: ${report.nonTerminal} items in flight ${JSON.stringify(report.byStatus)}`);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  report.settleSeconds = (Date.now() - settleStarted) / 1000;
  const failed = await o.db
    .selectFrom("enriched_trends")
    .select(["failed_error", sql<number>`count(*)::int`.as("n")])
    .where("status", "=", "FAILED")
    .groupBy("failed_error")
    .execute();
  report.failures = Object.fromEntries(failed.map((f) => [f.failed_error ?? "?", f.n]));
  return report;
}
