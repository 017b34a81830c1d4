import type { Role } from "../db/types.js";

/** What each role may do (issue: "Who may do what"). Operators may do everything. */
export type Action =
  | "ingest"
  | "read"
  | "subscribe:trends"
  | "subscribe:escalations"
  | "subscribe:alerts"
  | "moderate"
  | "operate";

const GRANTS: Record<Role, readonly Action[]> = {
  integrator: ["ingest", "read"],
  viewer: ["read", "subscribe:trends"],
  moderator: ["read", "subscribe:trends", "subscribe:escalations", "moderate"],
  operator: ["ingest", "read", "subscribe:trends", "subscribe:escalations", "subscribe:alerts", "moderate", "operate"],
};

export function isAllowed(role: Role, action: Action): boolean {
  return GRANTS[role].includes(action);
}
