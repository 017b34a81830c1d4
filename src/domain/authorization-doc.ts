import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

import { ROLES } from "../db/types.js";
import {
  CALLERS,
  expectedOutcome,
  FIELD_RULES,
  OPERATION_RULES,
  type OperationRule,
  ROUTE_RULES,
} from "./access-rules.js";
import { rolesAllowed } from "./permissions.js";

const CELL: Record<ReturnType<typeof expectedOutcome>, string> = {
  allowed: "✅",
  "own tenant": "✅ own tenant",
  FORBIDDEN: "FORBIDDEN",
  UNAUTHENTICATED: "UNAUTHENTICATED",
  "not served": "404",
};

function row(name: string, rule: OperationRule): string {
  const cells = CALLERS.map((caller) => CELL[expectedOutcome(rule, caller)]);
  return `| \`${name}\` | ${rule.action} | ${cells.join(" | ")} | ${rule.note ?? ""} |`;
}

/** docs/AUTHORIZATION.md, rendered from src/domain/access-rules.ts (the table the gateway enforces). */
export function renderAuthorizationDoc(): string {
  const header = `| operation | action | ${CALLERS.join(" | ")} | note |\n| --- | --- | ${CALLERS.map(() => "---").join(" | ")} | --- |`;
  const ops = Object.entries(OPERATION_RULES).sort(([a], [b]) => a.localeCompare(b));
  const routes = Object.entries(ROUTE_RULES);
  return `# Authorization

<!-- Generated from src/domain/access-rules.ts by \`npx tsx src/domain/authorization-doc.ts\`; a test fails when it is stale. -->

Who may do what, as the gateway enforces it. One table in \`src/domain/access-rules.ts\` drives the
enforcement (\`src/resolvers/access-guard.ts\` applies it to the schema once, so HTTP and WebSocket
share it; REST looks its route up in it), this page, and the authorization matrix test
(\`test/auth/authorization-matrix.test.ts\`), which runs every operation of \`schema.graphql\` and every
REST route for every caller below over HTTP and WebSocket. An operation without a rule is refused to
everyone and fails that test.

## Keys, roles and tenants

- An API key has a role (\`integrator\`, \`moderator\`, \`operator\`, \`viewer\`) and tenants.
  \`trendgate keys create --role integrator --tenant acme\` (default tenant \`default\`);
  \`trendgate keys create --role moderator --tenants acme,globex\` (default: all tenants).
- \`TRENDGATE_API_KEYS\` / \`TRENDGATE_API_KEYS_FILE\`: \`role[@tenant+tenant]:key\` pairs, comma- or
  newline-separated, e.g. \`integrator@acme:$KEY1,moderator@acme+globex:$KEY2,operator:$KEY3\`.
- Integrators post into their tenant; idempotency is per (tenant, source, externalId). Every read
  and every write by id is limited to the caller's tenants in the query layer
  (\`src/db/tenant-filter.ts\`); another tenant's item answers \`NOT_FOUND\`, as an unknown one.
  Subscriptions of tenant-limited keys only deliver their tenants' events.
- Actions by role: ${ROLES.map((role) => `**${role}**: ${(["authenticated", "ingest", "read", "subscribe:trends", "subscribe:escalations", "subscribe:alerts", "moderate", "see:internals", "operate"] as const).filter((a) => rolesAllowed(a, [role]).length).join(", ")}`).join("; ")}.

## Operations

"integrator A" and "integrator B" are integrators of two tenants; cells say what each caller gets.
Over WebSocket a wrong or revoked key does not get \`UNAUTHENTICATED\` answers: its socket is closed
with **4403** (at \`connection_init\`, or within a second of the revocation, and before any further
operation). A socket without a key is closed with **4401** at \`connection_init\`.

${header}
${ops.map(([name, rule]) => row(name, rule)).join("\n")}

## REST routes

${header}
${routes.map(([name, rule]) => row(name, rule)).join("\n")}

## Fields only some roles read

Whatever operation reaches them (a trend's escalations, a subscription event, provenance), over
HTTP and WebSocket alike. \`redact\`: other roles get a value of the field's type that tells nothing
(so one query serves every role: the console's queue works for a viewer); \`deny\`: the field answers
\`FORBIDDEN\`. Roles holding the action: ${rolesAllowed("see:internals", ROLES).join(", ")}.

| field | action | mode | why |
| --- | --- | --- | --- |
${Object.entries(FIELD_RULES)
  .map(([name, rule]) => `| \`${name}\` | ${rule.action} | ${rule.mode} | ${rule.why} |`)
  .join("\n")}

## Revocation, limits and doors

- \`trendgate keys revoke <id>\` or the \`revokeApiKey(id)\` mutation: the key stops working at once;
  the revocation is announced on Redis (\`<prefix>auth:revoked\`) and every gateway closes the key's
  sockets with 4403; each gateway also re-checks every open socket's key each second, and every
  operation on a socket re-checks its key (state cached at most 1 s).
- Configured keys are disabled by removing them from \`TRENDGATE_API_KEYS_FILE\` and sending
  \`SIGHUP\` to the gateway (\`kill -HUP <pid>\`); keys in the \`TRENDGATE_API_KEYS\` variable change
  with a restart.
- Sockets per key (\`WS_MAX_SOCKETS_PER_KEY\`, close 4429), subscriptions per socket
  (\`WS_MAX_SUBSCRIPTIONS_PER_SOCKET\`, \`RATE_LIMITED\`), \`connection_init\` within
  \`WS_INIT_TIMEOUT_MS\` (close 4408), 2,000 tokens per document on both transports, list cost by
  \`first\` (\`MAX_LIST_COST\`), per-key rate limits on ingest and \`similarTrends(text:)\`
  (\`RATE_LIMITED\` with \`retryAfter\` seconds).
- With \`SEPARATION_OF_DUTIES=true\`, the key that ingested an item may not resolve its escalation
  (\`FORBIDDEN\`, \`reason: SEPARATION_OF_DUTIES\`).
`;
}

export const AUTHORIZATION_DOC = fileURLToPath(
  new URL("../../docs/AUTHORIZATION.md", import.meta.url),
);

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(AUTHORIZATION_DOC, renderAuthorizationDoc());
  console.log(`wrote ${AUTHORIZATION_DOC}`);
}
