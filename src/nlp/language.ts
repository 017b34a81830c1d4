import { eld } from "eld/medium";

export interface LanguageResult {
  /** ISO 639-1 code, or "und" when eld found nothing reliable. */
  readonly language: string;
  /** 0..1: how clearly the top language beats the runner-up (see detectLanguage). */
  readonly confidence: number;
  readonly reliable: boolean;
  readonly runnerUp: string;
  readonly topScore: number;
}

/**
 * Detects the language with eld (n-gram, ~27k items/s). eld's per-language scores are not
 * probabilities (several languages often score 0.6–0.8 on the same text), so the confidence is
 * built from the relative gap to the runner-up: a gap of 20% of the top score or more counts as
 * certain. An unreliable verdict (eld's own check, mostly too few n-grams) is reported as "und"
 * with its confidence capped at 0.3, rather than a guess like "pl" for "ok".
 */
export function detectLanguage(text: string): LanguageResult {
  const result = eld.detect(text);
  const scores = Object.entries(result.getScores()).sort(
    (a, b) => b[1] - a[1] || a[0].localeCompare(b[0]),
  );
  const [top, second] = scores;
  const topScore = top?.[1] ?? 0;
  const gap = topScore > 0 ? (topScore - (second?.[1] ?? 0)) / topScore : 0;
  const reliable = result.isReliable() && result.language !== "";
  const certainty = Math.min(1, topScore) * Math.min(1, 0.4 + 3 * gap);
  return {
    language: reliable ? result.language : "und",
    confidence: round(reliable ? certainty : Math.min(0.3, certainty)),
    reliable,
    runnerUp: second?.[0] ?? "",
    topScore: round(topScore),
  };
}

function round(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}
