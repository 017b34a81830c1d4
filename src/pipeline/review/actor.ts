import { ANY_REVIEWER, type ReviewerProfile } from "../../domain/reviewer-profile.js";
import type { TenantScope } from "../../domain/tenant-scope.js";
import type { Claimant } from "./routing.js";

export type Decision = "APPROVE" | "REJECT";

export interface Actor {
  /** Who acts, as recorded in provenance and shown as claimedBy (the API key's name). */
  name: string;
  role: string;
  /** The key's id: claims and separation of duties compare it, never the name (defaults to name). */
  keyId?: string;
  /** The tenants the key may act on; null or absent = all. */
  tenants?: TenantScope;
  /** Languages, skills and capacity for routing; absent = any language, no skills, capacity 3. */
  profile?: ReviewerProfile;
}

/** The identity a claim is held by: the key id (the name for callers without one). */
export const holderOf = (actor: Actor): string => actor.keyId ?? actor.name;
export const claimantOf = (actor: Actor): Claimant => ({
  keyId: holderOf(actor),
  name: actor.name,
  profile: actor.profile ?? ANY_REVIEWER,
});
