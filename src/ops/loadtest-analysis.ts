import type { Trail } from "./item-trails.js";
import { type LoadtestReport, quantiles, SETTLED_STATES } from "./loadtest-report.js";

/** The pipeline's steps in order; a stage's latency runs from the previous one present. */
const STEP_ORDER = ["ingest", "plan", "etl", "embed", "judge", "publish"] as const;

/**
 * What the accepted items' provenance says about the run: final states, per-stage and end-to-end
 * latency, and completions per second since the load started (`startMs`).
 */
export function analyzeTrails(
  trails: Trail[],
  startMs: number,
): Pick<
  LoadtestReport,
  "stageLatencyMs" | "endToEndMs" | "finalStates" | "settled" | "notSettled" | "completions"
> {
  const finalStates: Record<string, number> = {};
  const stageValues: Record<string, number[]> = {};
  const endToEnd: number[] = [];
  const completionBuckets = new Map<number, number[]>();
  for (const trail of trails) {
    finalStates[trail.status] = (finalStates[trail.status] ?? 0) + 1;
    const first = new Map<string, number>();
    for (const e of trail.steps) if (!first.has(e.step)) first.set(e.step, e.at);
    let previous: number | undefined;
    let last: number | undefined;
    for (const step of STEP_ORDER) {
      const at = first.get(step);
      if (at === undefined) continue;
      if (previous !== undefined) (stageValues[step] ??= []).push(Math.max(0, at - previous));
      previous = at;
      last = at;
    }
    const ingestAt = first.get("ingest");
    if (
      ingestAt !== undefined &&
      last !== undefined &&
      last > ingestAt &&
      SETTLED_STATES.includes(trail.status)
    ) {
      endToEnd.push(last - ingestAt);
      const second = Math.max(0, Math.floor((last - startMs) / 1000));
      const bucket = completionBuckets.get(second) ?? [];
      bucket.push(last - ingestAt);
      completionBuckets.set(second, bucket);
    }
  }
  const settled = trails.filter((t) => SETTLED_STATES.includes(t.status)).length;
  const lastSecond = Math.max(0, ...completionBuckets.keys());
  const completions = Array.from(
    { length: completionBuckets.size ? lastSecond + 1 : 0 },
    (_, t) => {
      const values = completionBuckets.get(t) ?? [];
      return { t, count: values.length, p50Ms: quantiles(values).p50 };
    },
  );
  return {
    stageLatencyMs: Object.fromEntries(
      STEP_ORDER.slice(1)
        .filter((s) => stageValues[s])
        .map((s) => [s, quantiles(stageValues[s]!)]),
    ),
    endToEndMs: quantiles(endToEnd),
    finalStates,
    settled,
    notSettled: trails.length - settled,
    completions,
  };
}
