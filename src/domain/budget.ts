/**
 * Budget rules (DESIGN.md "Budget"). Costs are compute units for local models, derived from the
 * size of the step's input before it runs, so the decision to pause is made before any work and
 * the same input always costs the same (a redelivery is never charged differently).
 */
export type PipelineStep = "plan" | "etl" | "embed" | "judge" | "publish";

export const PIPELINE_STEPS: readonly PipelineStep[] = ["plan", "etl", "embed", "judge", "publish"];

/** Rough token count: whitespace-separated words (good enough for compute accounting). */
export function countTokens(text: string): number {
  // Counts starts of runs of non-space, without building the words: it runs several times
  // per item in the pipeline's hot path.
  let tokens = 0;
  let inToken = false;
  for (let i = 0; i < text.length; i++) {
    const space = isSpace(text.charCodeAt(i));
    if (!space && !inToken) tokens += 1;
    inToken = !space;
  }
  return tokens;
}

const UNICODE_SPACE = /\s/u;

/** Exactly the characters of the regex class \s. */
function isSpace(code: number): boolean {
  if (code === 32 || (code >= 9 && code <= 13)) return true;
  return code > 127 && UNICODE_SPACE.test(String.fromCharCode(code));
}

const PER_TOKEN: Record<PipelineStep, number> = {
  plan: 0,
  etl: 0.02,
  embed: 0.01,
  judge: 0,
  publish: 0,
};
const FIXED: Record<PipelineStep, number> = {
  plan: 0.5,
  etl: 1,
  embed: 1,
  judge: 0.25,
  publish: 0.5,
};

/** Compute units one step costs for a text of this size (offline models). */
export function estimateStepCost(step: PipelineStep, text: string): number {
  // Steps priced per call only skip the count: the planner prices all five steps of every item.
  const perToken = PER_TOKEN[step];
  const cost = FIXED[step] + (perToken === 0 ? 0 : perToken * countTokens(text));
  return Math.round(cost * 1000) / 1000;
}

export interface BudgetState {
  limit: number;
  spent: number;
}

/** How much to raise the limit when a moderator approves an overrun: enough for the rest of the plan. */
export function budgetGrant(budget: BudgetState, remainingCost: number): number {
  return Math.max(0, budget.spent + remainingCost - budget.limit);
}
