import { badInput } from "../../domain/domain-error.js";
import type { Decision } from "./actor.js";

/** What a reviewer sends with a decision (resolveEscalation's input, the REST body). */
export interface ResolutionInput {
  decision: Decision;
  note?: string | null;
  reasonCode?: string | null;
  claimToken?: string | null;
}

/** The input once validated: trimmed, empty strings as null. */
export interface ValidResolution {
  decision: Decision;
  note: string | null;
  reasonCode: string | null;
  claimToken: string | null;
}

/**
 * THE place a resolution's input is validated, for GraphQL and REST alike, before anything is
 * read or written. Reason-code rules (the taxonomy; REJECT requires a code) hook in here.
 */
export function validateResolution(input: ResolutionInput): ValidResolution {
  if (input.decision !== "APPROVE" && input.decision !== "REJECT") {
    throw badInput("input.decision", "must be APPROVE or REJECT");
  }
  const note = input.note?.trim() || null;
  if (note && note.length > 5000) throw badInput("input.note", "must be at most 5000 characters");
  const reasonCode = input.reasonCode?.trim() || null;
  if (reasonCode && reasonCode.length > 100)
    throw badInput("input.reasonCode", "must be at most 100 characters");
  return { decision: input.decision, note, reasonCode, claimToken: input.claimToken ?? null };
}
