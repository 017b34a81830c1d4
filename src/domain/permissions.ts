import type { Role } from "../db/types.js";

/**
 * What each role may do (issue 12's authorization matrix, docs/AUTHORIZATION.md). Operations
 * and fields name one of these actions in src/domain/access-rules.ts; this table says which
 * roles hold it. Operators may do everything.
 */
export type Action =
  | "authenticated"
  | "ingest"
  | "read"
  | "subscribe:trends"
  | "subscribe:escalations"
  | "subscribe:alerts"
  | "moderate"
  | "see:internals"
  | "operate"
  /** The Judge policy in force and its history. */
  | "read:judge-policy"
  /** The Judge's figures over time (the console's Judge page). */
  | "read:judge-stats"
  /** Appeal a reviewers' REJECT of an item of one's tenant (issue 14). */
  | "appeal";

export const ACTIONS: readonly Action[] = [
  "authenticated",
  "ingest",
  "read",
  "subscribe:trends",
  "subscribe:escalations",
  "subscribe:alerts",
  "moderate",
  "see:internals",
  "operate",
  "read:judge-policy",
  "read:judge-stats",
  "appeal",
];

const GRANTS: Record<Role, readonly Action[]> = {
  integrator: ["authenticated", "ingest", "read", "appeal"],
  // Not read:judge-policy: thresholds and blocked patterns are a policy oracle (issue 12, item 2).
  viewer: ["authenticated", "read", "subscribe:trends", "read:judge-stats"],
  moderator: [
    "authenticated",
    "read",
    "subscribe:trends",
    "subscribe:escalations",
    "moderate",
    "see:internals",
    "read:judge-policy",
  ],
  operator: ACTIONS,
};

export function isAllowed(role: Role, action: Action): boolean {
  return GRANTS[role].includes(action);
}

/** The roles holding an action, in the order of ROLES (for the documentation table). */
export function rolesAllowed(action: Action, roles: readonly Role[]): Role[] {
  return roles.filter((role) => isAllowed(role, action));
}
