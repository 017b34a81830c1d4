import type { JudgedItem } from "./history-queries.js";
import { judge, type JudgeDecision, type JudgePolicy } from "./judge-policy.js";

/** What one policy does to a set of judged items. */
export interface OutcomeFigures {
  /** READY: published without a human. */
  published: number;
  rejected: number;
  escalated: number;
  escalationRate: number;
  /** Items a moderator REJECTED that this policy publishes: leaks against human ground truth. */
  moderatorRejectedPublished: number;
  /** Items a moderator APPROVED that this policy rejects outright. */
  moderatorApprovedRejected: number;
}

export interface PolicySimulation {
  items: number;
  /** Items with a moderator decision (the ground truth the two leak counts use). */
  labelled: number;
  /** What the Judge recorded at the time (any version; audit samples count as escalated). */
  recorded: { published: number; rejected: number; escalated: number };
  active: OutcomeFigures;
  proposed: OutcomeFigures;
  /** Escalated by the active policy, decided automatically by the proposed one. */
  escalationsRemoved: number;
  /** Decided automatically by the active policy, escalated by the proposed one. */
  escalationsAdded: number;
  /** Items whose outcome differs between the two. */
  changed: number;
}

/**
 * Re-decides judged items with two policies from their stored scores, through the same `judge()`
 * the worker runs. Pure and in memory: no writes. Audit sampling is left out (it holds back a
 * share of READY items whatever the thresholds).
 */
export function simulatePolicy(
  items: readonly JudgedItem[],
  active: JudgePolicy,
  proposed: JudgePolicy,
): PolicySimulation {
  const activeFigures = emptyFigures();
  const proposedFigures = emptyFigures();
  const recorded = { published: 0, rejected: 0, escalated: 0 };
  let labelled = 0;
  let escalationsRemoved = 0;
  let escalationsAdded = 0;
  let changed = 0;
  for (const item of items) {
    const input = {
      source: item.source,
      title: item.title,
      body: item.body,
      toxicityScore: item.toxicityScore,
      confidence: item.confidence,
    };
    const before = judge(input, active).outcome;
    const after = judge(input, proposed).outcome;
    count(activeFigures, before, item.moderatorDecision);
    count(proposedFigures, after, item.moderatorDecision);
    if (item.recordedOutcome === "READY" || item.recordedOutcome === "PUBLISHED")
      recorded.published += 1;
    else if (item.recordedOutcome === "REJECTED") recorded.rejected += 1;
    else if (item.recordedOutcome === "ESCALATED") recorded.escalated += 1;
    if (item.moderatorDecision) labelled += 1;
    if (before !== after) changed += 1;
    if (before === "ESCALATED" && after !== "ESCALATED") escalationsRemoved += 1;
    if (before !== "ESCALATED" && after === "ESCALATED") escalationsAdded += 1;
  }
  return {
    items: items.length,
    labelled,
    recorded,
    active: finish(activeFigures, items.length),
    proposed: finish(proposedFigures, items.length),
    escalationsRemoved,
    escalationsAdded,
    changed,
  };
}

function emptyFigures(): OutcomeFigures {
  return {
    published: 0,
    rejected: 0,
    escalated: 0,
    escalationRate: 0,
    moderatorRejectedPublished: 0,
    moderatorApprovedRejected: 0,
  };
}

function count(
  figures: OutcomeFigures,
  outcome: JudgeDecision["outcome"],
  moderator: JudgedItem["moderatorDecision"],
): void {
  if (outcome === "READY") {
    figures.published += 1;
    if (moderator === "REJECT") figures.moderatorRejectedPublished += 1;
  } else if (outcome === "REJECTED") {
    figures.rejected += 1;
    if (moderator === "APPROVE") figures.moderatorApprovedRejected += 1;
  } else {
    figures.escalated += 1;
  }
}

function finish(figures: OutcomeFigures, items: number): OutcomeFigures {
  return { ...figures, escalationRate: items ? figures.escalated / items : 0 };
}
