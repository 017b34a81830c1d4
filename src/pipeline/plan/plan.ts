import { estimateStepCost, PIPELINE_STEPS, type PipelineStep } from "../../domain/budget.js";

/** The Planner's output for one item (DESIGN.md "Planner"). */
export interface Plan {
  intent: string;
  steps: { step: PipelineStep; description: string; estimatedCost: number }[];
  budget: number;
  planner: string;
}

const DESCRIPTIONS: Record<PipelineStep, string> = {
  plan: "state the intent and budget",
  etl: "normalize, detect language, score sentiment/toxicity/confidence, tag topics, summarize",
  embed: "embed for semantic recall",
  judge: "apply policy and thresholds; escalate what is unsure or toxic",
  publish: "publish through the MCP publish tool once READY or APPROVED",
};

/**
 * The rule-based planner that runs offline. The intent names the source and what the pipeline
 * will do, so a reader of provenance sees why each later step ran.
 */
export function planItem(
  item: { source: string; title: string | null; body: string },
  budget: number,
): Plan {
  const text = `${item.title ?? ""} ${item.body}`;
  const subject = item.title?.trim() ? `"${truncate(item.title.trim(), 60)}"` : "the item";
  return {
    intent: `Detect emerging trend from source ${item.source} in ${subject} and prepare summary + embed for semantic recall`,
    steps: PIPELINE_STEPS.map((step) => ({
      step,
      description: DESCRIPTIONS[step],
      estimatedCost: estimateStepCost(step, text),
    })),
    budget,
    planner: "rule-based-v1",
  };
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
