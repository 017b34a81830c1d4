import type { TrendStatus } from "../db/types.js";

/**
 * Which status may follow which. Workers move a trend only along these edges, so a redelivered
 * or late job can never move an item backwards (e.g. re-enrich a PUBLISHED item).
 */
const NEXT: Record<TrendStatus, readonly TrendStatus[]> = {
  RECEIVED: ["PLANNED", "PAUSED", "CANCELLED"],
  PLANNED: ["ENRICHED", "PAUSED", "CANCELLED"],
  ENRICHED: ["EMBEDDED", "PAUSED", "CANCELLED"],
  EMBEDDED: ["READY", "ESCALATED", "REJECTED", "PAUSED", "CANCELLED"],
  READY: ["PUBLISHED", "PAUSED", "CANCELLED"],
  ESCALATED: ["APPROVED", "REJECTED", "PUBLISHED", "CANCELLED"],
  APPROVED: ["PUBLISHED", "PAUSED", "CANCELLED"],
  // REJECTED is final except through an operator override (DESIGN.md invariant).
  REJECTED: ["PUBLISHED"],
  // A paused item resumes at the step it stopped before, or is cancelled.
  PAUSED: ["RECEIVED", "PLANNED", "ENRICHED", "EMBEDDED", "READY", "APPROVED", "CANCELLED"],
  CANCELLED: [],
  PUBLISHED: [],
};

export function canTransition(from: TrendStatus, to: TrendStatus): boolean {
  return NEXT[from].includes(to);
}


/** The statuses from which the publisher may publish without an override (the invariant). */
export const PUBLISHABLE_STATUSES: readonly TrendStatus[] = ["READY", "APPROVED"];
