import {
  expectedCalibrationError,
  type ReliabilityBin,
  reliabilityBins,
  rocAuc,
} from "../../nlp/calibration-metrics.js";
import type { Enricher } from "../../nlp/enricher.js";
import { judge, type JudgeDecision, type JudgePolicy, LEANS_TOXIC } from "./judge-policy.js";
import type { Label, LabelledRow } from "./labelled-rows.js";

/** One labelled row after the real enrichment and the Judge. */
export interface JudgedRow {
  readonly text: string;
  readonly label: Label;
  readonly toxicityScore: number;
  readonly confidence: number;
  readonly decision: JudgeDecision;
}

/** The three rates the policy is held to, over any set of judged rows. */
export interface Rates {
  readonly items: number;
  readonly toxic: number;
  readonly clean: number;
  /** Escalated items / all items. */
  readonly escalated_rate: number;
  /** Toxic items published automatically (READY) / toxic items. */
  readonly toxic_published_rate: number;
  /** Clean items rejected automatically / clean items. */
  readonly clean_rejected_rate: number;
}

export interface RuleFigures {
  readonly rule: string;
  readonly outcome: JudgeDecision["outcome"];
  readonly items: number;
  /** This rule's items / all items. */
  readonly share: number;
  /** Share of this rule's items that are toxic. */
  readonly toxic_share: number;
  /** This rule's contribution to each overall rate (they sum over rules to the overall rate). */
  readonly escalated_rate: number;
  readonly toxic_published_rate: number;
  readonly clean_rejected_rate: number;
  /** Mean confidence of the rule's items, and how often the automatic decision was right. */
  readonly mean_confidence: number;
  readonly upheld_rate: number;
  readonly ece: number;
}

/** One point of the workload-versus-leak curve: the policy with minConfidence swept. */
export interface WorkloadPoint {
  readonly minConfidence: number;
  readonly escalated_rate: number;
  readonly toxic_published_rate: number;
  readonly clean_rejected_rate: number;
}

export interface Evaluation extends Rates {
  readonly toxicity_auc: number;
  /** ECE (10 bins) of `confidence` against "the automatic decision was right". */
  readonly ece: number;
  /** ECE (10 bins) of `toxicityScore` against the label. */
  readonly toxicity_ece: number;
  readonly policy_version: string;
  readonly rules: RuleFigures[];
  readonly reliability: { confidence: ReliabilityBin[]; toxicity: ReliabilityBin[] };
  readonly workload: WorkloadPoint[];
}

/** Runs the enricher and the Judge on each row (no database, no streams). */
export async function judgeRows(
  rows: readonly LabelledRow[],
  enricher: Enricher,
  policy: JudgePolicy,
  onProgress?: (done: number, total: number) => void,
): Promise<JudgedRow[]> {
  const judged: JudgedRow[] = [];
  for (const row of rows) {
    const e = await enricher.enrich({ source: "evaluate", title: null, body: row.text });
    const decision = judge(
      {
        source: "evaluate",
        title: null,
        body: row.text,
        toxicityScore: e.toxicityScore,
        confidence: e.confidence,
      },
      policy,
    );
    judged.push({
      text: row.text,
      label: row.label,
      toxicityScore: e.toxicityScore,
      confidence: e.confidence,
      decision,
    });
    onProgress?.(judged.length, rows.length);
  }
  return judged;
}

/** The automatic decision `confidence` speaks about: reject at LEANS_TOXIC or above. */
export function upheld(row: Pick<JudgedRow, "toxicityScore" | "label">): number {
  return row.toxicityScore >= LEANS_TOXIC === (row.label === "toxic") ? 1 : 0;
}

export function rates(rows: readonly Pick<JudgedRow, "label" | "decision">[]): Rates {
  const toxic = rows.filter((r) => r.label === "toxic");
  const clean = rows.filter((r) => r.label === "clean");
  return {
    items: rows.length,
    toxic: toxic.length,
    clean: clean.length,
    escalated_rate: ratio(
      rows.filter((r) => r.decision.outcome === "ESCALATED").length,
      rows.length,
    ),
    toxic_published_rate: ratio(
      toxic.filter((r) => r.decision.outcome === "READY").length,
      toxic.length,
    ),
    clean_rejected_rate: ratio(
      clean.filter((r) => r.decision.outcome === "REJECTED").length,
      clean.length,
    ),
  };
}

/** Every figure `trendgate judge evaluate` reports, from judged rows. */
export function evaluate(rows: readonly JudgedRow[], policy: JudgePolicy): Evaluation {
  const overall = rates(rows);
  const outcomes = rows.map(upheld);
  const confidences = rows.map((r) => r.confidence);
  const scores = rows.map((r) => r.toxicityScore);
  const labels = rows.map((r) => (r.label === "toxic" ? 1 : 0));
  const byRule = new Map<string, JudgedRow[]>();
  for (const r of rows) byRule.set(r.decision.rule, [...(byRule.get(r.decision.rule) ?? []), r]);
  const rules = [...byRule.entries()]
    .map(([rule, members]): RuleFigures => {
      const r = rates(members);
      return {
        rule,
        outcome: members[0]?.decision.outcome ?? "READY",
        items: members.length,
        share: ratio(members.length, rows.length),
        toxic_share: ratio(r.toxic, members.length),
        escalated_rate: ratio(
          members.filter((m) => m.decision.outcome === "ESCALATED").length,
          rows.length,
        ),
        toxic_published_rate: ratio(
          members.filter((m) => m.label === "toxic" && m.decision.outcome === "READY").length,
          overall.toxic,
        ),
        clean_rejected_rate: ratio(
          members.filter((m) => m.label === "clean" && m.decision.outcome === "REJECTED").length,
          overall.clean,
        ),
        mean_confidence: mean(members.map((m) => m.confidence)),
        upheld_rate: mean(members.map(upheld)),
        ece: expectedCalibrationError(
          members.map((m) => m.confidence),
          members.map(upheld),
        ),
      };
    })
    .sort((a, b) => b.items - a.items || a.rule.localeCompare(b.rule));
  return {
    ...overall,
    toxicity_auc: rocAuc(scores, labels),
    ece: expectedCalibrationError(confidences, outcomes),
    toxicity_ece: expectedCalibrationError(scores, labels),
    policy_version: policy.version,
    rules,
    reliability: {
      confidence: reliabilityBins(confidences, outcomes),
      toxicity: reliabilityBins(scores, labels),
    },
    workload: workloadCurve(rows, policy),
  };
}

/**
 * Escalated share against leak as minConfidence moves from 0 to 1 (other rules unchanged):
 * the trade an operator makes with that one threshold, re-decided with the real judge().
 */
export function workloadCurve(
  rows: readonly JudgedRow[],
  policy: JudgePolicy,
  steps = 50,
): WorkloadPoint[] {
  const points: WorkloadPoint[] = [];
  for (let k = 0; k <= steps; k++) {
    const minConfidence = k / steps;
    const swept: JudgePolicy = { ...policy, thresholds: { ...policy.thresholds, minConfidence } };
    const r = rates(
      rows.map((row) => ({
        label: row.label,
        decision: judge(
          {
            source: "evaluate",
            title: null,
            body: row.text,
            toxicityScore: row.toxicityScore,
            confidence: row.confidence,
          },
          swept,
        ),
      })),
    );
    points.push({
      minConfidence,
      escalated_rate: r.escalated_rate,
      toxic_published_rate: r.toxic_published_rate,
      clean_rejected_rate: r.clean_rejected_rate,
    });
  }
  return points;
}

const ratio = (a: number, b: number): number => (b === 0 ? 0 : a / b);
const mean = (xs: readonly number[]): number =>
  xs.length === 0 ? Number.NaN : xs.reduce((a, b) => a + b, 0) / xs.length;
