/**
 * The Judge's operating point on out-of-fold scores, as train-toxicity.ts prints it:
 * - the reject ceiling grid (clean and toxic rejected per ceiling), and the lowest ceiling that
 *   rejects at most `cleanRejectedTarget` of the clean rows (judge-policy.ts's default is set
 *   from this line);
 * - the default rule's figures (maxToxicity 0.8, the leans-toxic boundary 0.5) per
 *   minConfidence at that ceiling: escalated natural / balanced, toxic published, clean rejected.
 */
const CEILINGS = [0.95, 0.97, 0.98, 0.985, 0.99, 0.991, 0.992, 0.993, 0.994, 0.995, 0.997];
const MIN_CONFIDENCES = [0.6, 0.7, 0.8, 0.9];
const MAX_TOXICITY = 0.8;
/** judge-policy.ts LEANS_TOXIC: at or above it the Judge never publishes automatically. */
const LEANS_TOXIC = 0.5;

/**
 * What the Judge's rule (judge-policy.ts `judge`, default maxToxicity) decides for a score and a
 * confidence. Written here because src/nlp sits below the pipeline and may not import it;
 * test/nlp/operating-points.test.ts holds the two to the same answers.
 */
export function defaultRuleOutcome(
  score: number,
  confidence: number,
  thresholds: { toxicityCeiling: number; minConfidence: number },
): "rejected" | "escalated" | "published" {
  if (score >= thresholds.toxicityCeiling) return "rejected";
  return score > MAX_TOXICITY || confidence < thresholds.minConfidence || score >= LEANS_TOXIC
    ? "escalated"
    : "published";
}

/** Prints the grids with `log`; returns the ceiling chosen. */
export function printOperatingPoints(
  scores: readonly number[],
  confidence: readonly number[],
  labels: readonly number[],
  cleanRejectedTarget: number,
  log: (line: string) => void,
): number {
  const counts = [0, 1].map((y) => labels.filter((l) => l === y).length);
  /** Share of rows of class `y` for which `hit(i)` holds. */
  const rate = (y: number, hit: (i: number) => boolean): number =>
    labels.filter((l, i) => l === y && hit(i)).length / Math.max(1, counts[y] ?? 0);
  const cleanRejectedAt = (c: number) => rate(0, (i) => (scores[i] ?? 0) >= c);

  for (const c of CEILINGS)
    log(
      `ceiling ${c}: clean rejected ${cleanRejectedAt(c).toFixed(4)} · toxic rejected ${rate(1, (i) => (scores[i] ?? 0) >= c).toFixed(3)}`,
    );
  const ceiling = CEILINGS.find((c) => cleanRejectedAt(c) <= cleanRejectedTarget) ?? 0.995;
  log(`lowest ceiling with clean rejected <= ${cleanRejectedTarget}: ${ceiling}`);

  log(
    `minConfidence  escalated natural / balanced  toxic published  clean rejected (ceiling above, maxToxicity ${MAX_TOXICITY})`,
  );
  for (const minConfidence of MIN_CONFIDENCES) {
    const outcome = scores.map((q, i) =>
      defaultRuleOutcome(q, confidence[i] ?? 0, { toxicityCeiling: ceiling, minConfidence }),
    );
    const escalated = (i: number) => outcome[i] === "escalated";
    const natural = outcome.filter((o) => o === "escalated").length / scores.length;
    const balanced = 0.5 * rate(1, escalated) + 0.5 * rate(0, escalated);
    log(
      `${String(minConfidence).padEnd(14)} ${natural.toFixed(3)} / ${balanced.toFixed(3)}               ${rate(
        1,
        (i) => outcome[i] === "published",
      ).toFixed(4)}           ${rate(0, (i) => outcome[i] === "rejected").toFixed(4)}`,
    );
  }
  return ceiling;
}
