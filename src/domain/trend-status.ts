import type { TrendStatus } from "../db/types.js";

/**
 * Which status may follow which. Workers move a trend only along these edges, so a redelivered
 * or late job can never move an item backwards (e.g. re-enrich a PUBLISHED item).
 */
const NEXT: Record<TrendStatus, readonly TrendStatus[]> = {
  RECEIVED: ["PLANNED", "PAUSED", "CANCELLED", "FAILED"],
  PLANNED: ["ENRICHED", "PAUSED", "CANCELLED", "FAILED"],
  ENRICHED: ["EMBEDDED", "PAUSED", "CANCELLED", "FAILED"],
  EMBEDDED: ["READY", "ESCALATED", "REJECTED", "PAUSED", "CANCELLED", "FAILED"],
  READY: ["PUBLISHED", "PAUSED", "CANCELLED", "FAILED"],
  ESCALATED: ["APPROVED", "REJECTED", "PUBLISHED", "CANCELLED"],
  APPROVED: ["PUBLISHED", "PAUSED", "CANCELLED", "FAILED"],
  // REJECTED is final except through an operator override (DESIGN.md invariant), or an appeal,
  // which puts it back before a human (ESCALATED) whose decision then is final.
  REJECTED: ["PUBLISHED", "ESCALATED"],
  // A paused item resumes at the step it stopped before, or is cancelled.
  PAUSED: ["RECEIVED", "PLANNED", "ENRICHED", "EMBEDDED", "READY", "APPROVED", "CANCELLED"],
  CANCELLED: [],
  PUBLISHED: [],
  // A stage dead-lettered the item's job; replay returns it to the status it failed in.
  FAILED: ["RECEIVED", "PLANNED", "ENRICHED", "EMBEDDED", "READY", "APPROVED", "CANCELLED"],
};

/**
 * Statuses a worker moves an item out of without a human: an item that sits in one of them with
 * no job on its stage's stream was stranded (the reconciler re-enqueues it).
 */
export const IN_FLIGHT_STATUSES = [
  "RECEIVED",
  "PLANNED",
  "ENRICHED",
  "EMBEDDED",
  "READY",
  "APPROVED",
] as const satisfies readonly TrendStatus[];
export type InFlightStatus = (typeof IN_FLIGHT_STATUSES)[number];

export function canTransition(from: TrendStatus, to: TrendStatus): boolean {
  return NEXT[from].includes(to);
}

/** The statuses from which the publisher may publish without an override (the invariant). */
export const PUBLISHABLE_STATUSES: readonly TrendStatus[] = ["READY", "APPROVED"];
