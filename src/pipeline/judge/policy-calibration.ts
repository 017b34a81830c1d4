import { judge, type JudgeInput, type JudgePolicy, parsePolicy } from "./judge-policy.js";

/** A labelled example: an item's stored (or freshly computed) scores and whether it is toxic. */
export interface LabelledExample extends JudgeInput {
  toxic: boolean;
  /** moderator: a resolved escalation; audit: a resolved audit sample; file: a --labels row. */
  origin: "moderator" | "audit" | "file";
}

/** How a policy does on labelled examples (the same three rates as `judge evaluate`). */
export interface CalibrationFigures {
  examples: number;
  escalatedRate: number;
  /** Share of the toxic examples published without a human. */
  toxicPublishedRate: number;
  /** Share of the clean examples rejected without a human. */
  cleanRejectedRate: number;
}

export interface ThresholdProposal {
  policy: JudgePolicy | null;
  refusedReason: string | null;
  active: CalibrationFigures;
  proposed: CalibrationFigures | null;
}

/** Below this many labelled examples the rates are too noisy to move a threshold on. */
export const MIN_LABELLED_EXAMPLES = 200;

const GRID = {
  minConfidence: steps(0, 0.95, 0.05),
  maxToxicity: steps(0.3, 0.95, 0.05),
  toxicityCeiling: [...steps(0.5, 0.95, 0.05), 0.97, 0.99, 1],
};

/**
 * Searches the three thresholds for the least human workload (escalation rate) whose toxic
 * published share and clean rejected share both stay at or under `targetLeak`; ties go to the
 * lower leak, then to the active policy's values. Every candidate is decided by `judge()`
 * itself, so the search follows the rules the worker runs. Blocked sources, terms and patterns
 * stay the active policy's. No I/O; asynchronous only to yield to the event loop.
 */
export async function proposeThresholds(
  examples: readonly LabelledExample[],
  active: JudgePolicy,
  targetLeak: number,
  minExamples = MIN_LABELLED_EXAMPLES,
): Promise<ThresholdProposal> {
  const activeFigures = measurePolicy(examples, active);
  if (examples.length < minExamples) {
    return {
      policy: null,
      refusedReason: `only ${examples.length} labelled decisions; at least ${minExamples} are needed before proposing a policy (resolve more escalations or pass --labels)`,
      active: activeFigures,
      proposed: null,
    };
  }
  // The blocked lists do not move, so whether they reject an example is decided once; the grid
  // then runs `judge()` on the scores alone.
  const open = parsePolicy({
    ...active,
    thresholds: { minConfidence: 0, maxToxicity: 1, toxicityCeiling: 1 },
  });
  const blocked = examples.map((e) => judge(e, open).rule.startsWith("blocked_"));
  const scoresOnly = examples.map((e) => ({
    source: "",
    title: null,
    body: "",
    toxicityScore: e.toxicityScore,
    confidence: e.confidence,
  }));
  const bare = { ...active, blockedSources: [], blockedTerms: [], blockedPatterns: [] };

  let best:
    | {
        thresholds: JudgePolicy["thresholds"];
        figures: CalibrationFigures;
        leak: number;
        distance: number;
      }
    | undefined;
  for (const maxToxicity of GRID.maxToxicity) {
    for (const toxicityCeiling of GRID.toxicityCeiling) {
      if (toxicityCeiling < maxToxicity) continue;
      // A search over ~10^6 decisions runs in the gateway's process: give the event loop a turn
      // between slices (each a few milliseconds) so subscriptions and queries keep flowing.
      await new Promise((resolve) => setImmediate(resolve));
      for (const minConfidence of GRID.minConfidence) {
        const thresholds = { minConfidence, maxToxicity, toxicityCeiling };
        const policy = { ...bare, thresholds };
        const figures = tally(examples, (i) =>
          blocked[i] ? "REJECTED" : judge(scoresOnly[i]!, policy).outcome,
        );
        if (figures.toxicPublishedRate > targetLeak || figures.cleanRejectedRate > targetLeak)
          continue;
        const leak = figures.toxicPublishedRate + figures.cleanRejectedRate;
        const distance =
          Math.abs(minConfidence - active.thresholds.minConfidence) +
          Math.abs(maxToxicity - active.thresholds.maxToxicity) +
          Math.abs(toxicityCeiling - active.thresholds.toxicityCeiling);
        if (!best || better(figures.escalatedRate, leak, distance, best))
          best = { thresholds, figures, leak, distance };
      }
    }
  }
  if (!best) {
    return {
      policy: null,
      refusedReason: `no thresholds keep both the toxic published share and the clean rejected share at or under ${targetLeak} on these ${examples.length} examples`,
      active: activeFigures,
      proposed: null,
    };
  }
  const policy = parsePolicy({ ...active, thresholds: best.thresholds });
  return {
    policy,
    refusedReason: null,
    active: activeFigures,
    proposed: measurePolicy(examples, policy),
  };
}

/** The three rates of `policy` on the examples, through `judge()`. */
export function measurePolicy(
  examples: readonly LabelledExample[],
  policy: JudgePolicy,
): CalibrationFigures {
  return tally(examples, (i) => judge(examples[i]!, policy).outcome);
}

function tally(
  examples: readonly LabelledExample[],
  outcomeOf: (index: number) => string,
): CalibrationFigures {
  let toxic = 0;
  let clean = 0;
  let escalated = 0;
  let toxicPublished = 0;
  let cleanRejected = 0;
  for (let i = 0; i < examples.length; i++) {
    const outcome = outcomeOf(i);
    const isToxic = examples[i]!.toxic;
    if (isToxic) toxic += 1;
    else clean += 1;
    if (outcome === "ESCALATED") escalated += 1;
    else if (outcome === "READY" && isToxic) toxicPublished += 1;
    else if (outcome === "REJECTED" && !isToxic) cleanRejected += 1;
  }
  return {
    examples: examples.length,
    escalatedRate: ratio(escalated, examples.length),
    toxicPublishedRate: ratio(toxicPublished, toxic),
    cleanRejectedRate: ratio(cleanRejected, clean),
  };
}

function better(
  escalatedRate: number,
  leak: number,
  distance: number,
  best: { figures: CalibrationFigures; leak: number; distance: number },
): boolean {
  const EPS = 1e-12;
  if (escalatedRate < best.figures.escalatedRate - EPS) return true;
  if (escalatedRate > best.figures.escalatedRate + EPS) return false;
  if (leak < best.leak - EPS) return true;
  if (leak > best.leak + EPS) return false;
  return distance < best.distance - EPS;
}

const ratio = (n: number, d: number) => (d ? n / d : 0);

function steps(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let i = 0; from + i * step <= to + 1e-9; i++)
    out.push(Math.round((from + i * step) * 100) / 100);
  return out;
}
