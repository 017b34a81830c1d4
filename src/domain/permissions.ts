import type { Role } from "../db/types.js";

/** What each role may do (issue: "Who may do what"). Operators may do everything. */
export type Action =
  | "ingest"
  | "read"
  | "subscribe:trends"
  | "subscribe:escalations"
  | "subscribe:alerts"
  | "moderate"
  | "operate"
  /** The Judge policy in force and its history. */
  | "read:judge-policy"
  /** The Judge's figures over time (the console's Judge page). */
  | "read:judge-stats";

const GRANTS: Record<Role, readonly Action[]> = {
  integrator: ["ingest", "read"],
  viewer: ["read", "subscribe:trends", "read:judge-policy", "read:judge-stats"],
  moderator: ["read", "subscribe:trends", "subscribe:escalations", "moderate", "read:judge-policy"],
  operator: [
    "ingest",
    "read",
    "subscribe:trends",
    "subscribe:escalations",
    "subscribe:alerts",
    "moderate",
    "operate",
    "read:judge-policy",
    "read:judge-stats",
  ],
};

export function isAllowed(role: Role, action: Action): boolean {
  return GRANTS[role].includes(action);
}
