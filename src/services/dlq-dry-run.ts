import type pg from "pg";

import { withRolledBackDatabase } from "../db/rolled-back-database.js";
import { readTrendFootprint, type TrendFootprint } from "../db/trend-footprint-queries.js";
import type { TrendRow } from "../db/types.js";
import { dryRunDeps, type RecordedCall } from "../pipeline/dry-run-adapters.js";
import { serviceConsumerOf, stageOfStream } from "../pipeline/registry.js";
import type { StageDeps, StageRuntime } from "../pipeline/stage.js";
import { reopenFailed } from "../pipeline/stage-failure.js";
import type { Job } from "../workers/runtime/job.js";
import type { DeadLetterEntry } from "./dead-letter-service.js";

export interface DryRunChange {
  field: string;
  recorded: unknown;
  wouldBe: unknown;
}

export interface DryRunResult {
  id: string;
  trendId: string | null;
  outcome: "would_succeed" | "would_fail" | "no_op";
  message: string;
  changes: DryRunChange[];
}

/** Trend columns a stage may change, by the name the API gives them. */
const TREND_FIELDS: [field: string, column: keyof TrendRow][] = [
  ["status", "status"],
  ["embeddingStatus", "embedding_status"],
  ["language", "language"],
  ["sentiment", "sentiment_score"],
  ["topics", "topics"],
  ["toxicityScore", "toxicity_score"],
  ["confidence", "confidence"],
  ["summary", "summary"],
  ["budgetSpent", "budget_spent"],
  ["pausedStep", "paused_step"],
];

/**
 * What replaying a dead letter would do now, found by doing it: the replay's own first step
 * (a FAILED item back to the status it failed in) and then the stage's own handler, exactly as
 * the worker runs them, inside a Postgres transaction that is always rolled back, with the
 * adapters outside Postgres (publish tool, vector store) recording their writes instead of
 * making them. The result is the difference between the trend's footprint before and inside
 * that transaction, plus the recorded calls.
 *
 * Rolled back rather than a no-write store interface because the stages' writes then need no
 * second implementation that could drift: the same SQL runs, the invariant trigger and the
 * constraints judge it, and a write the stage would fail on fails here too. The price is that
 * the dry run holds the item's row lock for as long as its handler runs (one item, milliseconds).
 */
export class DryRunner {
  constructor(
    private readonly deps: StageDeps,
    private readonly pool: pg.Pool,
  ) {}

  async run(entry: DeadLetterEntry): Promise<DryRunResult> {
    const base = { id: entry.id, trendId: entry.trendId };
    const fail = (message: string): DryRunResult => ({
      ...base,
      outcome: "would_fail",
      message,
      changes: [],
    });
    const envelope = entry.envelope;
    if (!envelope) return fail("envelope does not parse; replay would fail again");
    if (serviceConsumerOf(entry.sourceStream)) {
      // Not a pipeline step: nothing of the item changes; the receivers that have not confirmed the event get it again.
      return {
        ...base,
        outcome: "would_succeed",
        message: `replay re-sends ${envelope.type} to the receivers that have not confirmed it`,
        changes: [],
      };
    }
    const trendId = entry.trendId;
    if (!trendId) return fail("job names no trend");
    const stage = stageOfStream(entry.sourceStream);
    if (!stage) return fail(`no stage consumes ${entry.sourceStream}`);
    const job: Job = {
      stream: entry.sourceStream,
      entryId: `dry-run-${entry.id}`,
      envelope,
      attempt: 1,
      deliveries: 1,
    };
    return withRolledBackDatabase(this.pool, async (db) => {
      const before = await readTrendFootprint(db, trendId);
      if (!before.trend) return fail(`unknown trend id ${trendId}`);
      const calls: RecordedCall[] = [];
      try {
        await reopenFailed(db, trendId, "operator:dry-run");
        const runtime = await (await stage.load()).start(dryRunDeps(this.deps, db, calls));
        await runLikeTheWorker(runtime, job);
      } catch (error) {
        return fail(`stage code fails now: ${(error as Error).message}`);
      }
      const after = await readTrendFootprint(db, trendId);
      const changes = [...footprintChanges(before, after), ...calls.map(callChange)];
      const status = before.trend.status;
      if (changes.length === 0)
        return {
          ...base,
          outcome: "no_op",
          message: `trend is ${status}; the stage would do nothing`,
          changes,
        };
      return {
        ...base,
        outcome: "would_succeed",
        message: summary(status, after.trend?.status, calls),
        changes,
      };
    });
  }
}

/**
 * As the stream runtime hands a new entry over: to the batch handler when the stage has one
 * (it may give the job back for the one-by-one path, or throw, after which the job goes there).
 */
async function runLikeTheWorker(runtime: StageRuntime, job: Job): Promise<void> {
  const signal = new AbortController().signal;
  if (runtime.batchHandler) {
    const leftOver = await runtime.batchHandler([job], signal).catch(() => [job]);
    if (leftOver.length === 0) return;
  }
  await runtime.handler(job, signal);
}

function footprintChanges(before: TrendFootprint, after: TrendFootprint): DryRunChange[] {
  const changes: DryRunChange[] = [];
  for (const [field, column] of TREND_FIELDS) {
    const recorded = before.trend?.[column] ?? null;
    const wouldBe = after.trend?.[column] ?? null;
    if (JSON.stringify(recorded) !== JSON.stringify(wouldBe))
      changes.push({ field, recorded, wouldBe });
  }
  for (const table of ["publications", "incidents", "escalations"] as const) {
    if (before[table] !== after[table])
      changes.push({ field: table, recorded: before[table], wouldBe: after[table] });
  }
  const added = (was: Map<string, string>, is: Map<string, string>) =>
    [...is].filter(([id]) => !was.has(id)).map(([, v]) => v);
  const steps = added(before.provenance, after.provenance);
  if (steps.length) changes.push({ field: "provenance", recorded: null, wouldBe: steps });
  const streams = added(before.outbox, after.outbox);
  if (streams.length) changes.push({ field: "outbox", recorded: null, wouldBe: streams });
  return changes;
}

function callChange(call: RecordedCall): DryRunChange {
  return { field: `${call.adapter}.${call.call}`, recorded: null, wouldBe: call.detail };
}

function summary(from: string, to: string | undefined, calls: RecordedCall[]): string {
  const moves = to && to !== from ? `would move ${from} -> ${to}` : `would leave the trend ${from}`;
  const made = calls.map((c) =>
    c.adapter === "publish tool"
      ? `call the publish tool (approval path ${String(c.detail.approvalPath)})`
      : `${c.call} in the ${c.adapter}`,
  );
  return made.length ? `${moves} and ${made.join(", ")}` : moves;
}
