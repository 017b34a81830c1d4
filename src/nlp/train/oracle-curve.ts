/**
 * The figure of merit for a toxicity ranker under the Judge's targets: the least escalation any
 * pair of thresholds could reach if at most `leak` of toxic items may fall below the publish
 * threshold and at most `leak` of clean items at or above the reject threshold, with the
 * thresholds picked on the very set measured (an "oracle", so a lower bound for that ranking).
 */
export interface OraclePoint {
  readonly leak: number;
  /** Share of all items between the two thresholds. */
  readonly escalatedNatural: number;
  /** The same with each class weighing half (the third-party check is half toxic). */
  readonly escalatedBalanced: number;
  readonly publishBelow: number;
  readonly rejectFrom: number;
}

export function oraclePoint(
  scores: readonly number[],
  labels: readonly number[],
  leak: number,
): OraclePoint {
  const order = scores
    .map((_, i) => i)
    .sort((a, b) => (scores[a] ?? 0) - (scores[b] ?? 0) || a - b);
  const isToxic = (k: number): boolean => labels[order[k] ?? 0] === 1;
  const toxic = labels.filter((y) => y === 1).length;
  const clean = labels.length - toxic;
  let lo = 0;
  let published = 0;
  while (lo < order.length && published + (isToxic(lo) ? 1 : 0) <= leak * toxic) {
    if (isToxic(lo)) published++;
    lo++;
  }
  let hi = order.length - 1;
  let rejected = 0;
  while (hi >= lo && rejected + (isToxic(hi) ? 0 : 1) <= leak * clean) {
    if (!isToxic(hi)) rejected++;
    hi--;
  }
  let toxicBetween = 0;
  let cleanBetween = 0;
  for (let k = lo; k <= hi; k++) {
    if (isToxic(k)) toxicBetween++;
    else cleanBetween++;
  }
  return {
    leak,
    escalatedNatural: (toxicBetween + cleanBetween) / Math.max(1, labels.length),
    escalatedBalanced:
      0.5 * (toxicBetween / Math.max(1, toxic)) + 0.5 * (cleanBetween / Math.max(1, clean)),
    publishBelow: scores[order[lo] ?? 0] ?? Number.NaN,
    rejectFrom: scores[order[hi + 1] ?? order.length - 1] ?? Number.NaN,
  };
}

export const ORACLE_LEAKS = [0.005, 0.01, 0.02, 0.03, 0.05] as const;

export function oracleCurve(scores: readonly number[], labels: readonly number[]): OraclePoint[] {
  return ORACLE_LEAKS.map((leak) => oraclePoint(scores, labels, leak));
}
