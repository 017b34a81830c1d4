import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";

import { buildSchema, type GraphQLObjectType } from "graphql";
import { type Client, createClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";

import {
  type Caller,
  CALLERS,
  expectedOutcome,
  OPERATION_RULES,
  ROUTE_RULES,
} from "../../src/domain/access-rules.js";
import { AUTHORIZATION_DOC, renderAuthorizationDoc } from "../../src/domain/authorization-doc.js";
import { openEscalation } from "../../src/pipeline/review/open-escalation.js";
import { SCHEMA_FILE } from "../../src/schema/print-schema.js";
import { type AppHarness, collect, type GqlResult, startHarness } from "../support/app-harness.js";
import { flatEmbedder } from "../support/stage-fixtures.js";

/**
 * Issue 12's authorization matrix: every operation of schema.graphql and every REST route, for
 * every caller, over HTTP and WebSocket, against what src/domain/access-rules.ts (and so
 * docs/AUTHORIZATION.md) says. An operation added to the schema without a rule here and a
 * sample below fails the first test.
 */

interface Fixture {
  trendA: string;
  escalationA: string;
  traceA: string;
  unknown: string;
}

type Sample = (f: Fixture) => { query: string; variables?: Record<string, unknown> };

/** One request per operation; ids point at tenant A's items (or nowhere, for writes). */
const SAMPLES: Record<string, Sample> = {
  "Query.me": () => ({ query: "{ me { role } }" }),
  "Query.trend": (f) => ({
    query: "query($id: ID!) { trend(id: $id) { id status } }",
    variables: { id: f.trendA },
  }),
  "Query.trends": () => ({ query: "{ trends(first: 50) { edges { node { id } } } }" }),
  "Query.similarTrends": (f) => ({
    query: "query($id: ID!) { similarTrends(trendId: $id) { score trend { id } } }",
    variables: { id: f.trendA },
  }),
  "Query.escalation": (f) => ({
    query: "query($id: ID!) { escalation(id: $id) { id status issueType } }",
    variables: { id: f.escalationA },
  }),
  "Query.escalations": () => ({
    query: "{ escalations(first: 50) { totalCount edges { node { id trendId } } } }",
  }),
  "Query.incidents": (f) => ({
    query: "query($id: ID) { incidents(trendId: $id) { edges { node { id } } } }",
    variables: { id: f.trendA },
  }),
  "Query.provenance": (f) => ({
    query: "query($id: ID) { provenance(trendId: $id) { entries { id step trendId } } }",
    variables: { id: f.trendA },
  }),
  "Query.pipelineHealth": () => ({ query: "{ pipelineHealth { outboxBacklog } }" }),
  "Query.embeddingProgress": () => ({ query: "{ embeddingProgress { model pending } }" }),
  "Query.pipelineStages": () => ({ query: "{ pipelineStages { name stream deadLetterStream } }" }),
  "Query.deadLetters": () => ({
    query: '{ deadLetters(stream: "trend:embedding:dlq") { totalCount } }',
  }),
  "Query.judgePolicy": () => ({ query: "{ judgePolicy { version } }" }),
  "Query.judgePolicyHistory": () => ({ query: "{ judgePolicyHistory(first: 2) { version } }" }),
  "Query.simulateJudgePolicy": () => ({
    query: "query($p: JSON!) { simulateJudgePolicy(policy: $p) { items } }",
    variables: { p: {} },
  }),
  "Query.judgeCalibrationProposal": () => ({
    query: "{ judgeCalibrationProposal { __typename } }",
  }),
  "Query.judgeStats": () => ({ query: "{ judgeStats(bucketMinutes: 60) { judged } }" }),
  "Query.reasonCodes": () => ({ query: "{ reasonCodes(decision: REJECT) { code decisions } }" }),
  "Query.reviewerStats": () => ({ query: "{ reviewerStats { reviewer { id name } reviews } }" }),
  "Mutation.applyJudgePolicy": () => ({
    query:
      'mutation($p: JSON!) { applyJudgePolicy(policy: $p, justification: "matrix") { version } }',
    variables: { p: { blockedPatterns: ["(a)\\1"] } },
  }),
  "Mutation.ingestTrend": () => ({
    query: 'mutation { ingestTrend(input: { source: "matrix", body: "A matrix probe." }) { id } }',
  }),
  "Mutation.ingestTrends": () => ({
    query:
      'mutation { ingestTrends(inputs: [{ source: "matrix", body: "A batch probe." }]) { id } }',
  }),
  "Mutation.claimEscalation": (f) => ({
    query: "mutation($id: ID!) { claimEscalation(id: $id) { id } }",
    variables: { id: f.unknown },
  }),
  "Mutation.claimNextEscalation": () => ({
    query:
      "mutation { claimNextEscalation { id status reviews { decision } reviewProgress { required received } } }",
  }),
  "Mutation.releaseEscalation": (f) => ({
    query: "mutation($id: ID!) { releaseEscalation(id: $id) { id } }",
    variables: { id: f.unknown },
  }),
  "Mutation.resolveEscalation": (f) => ({
    query: "mutation($id: ID!) { resolveEscalation(id: $id, input: { decision: APPROVE }) { id } }",
    variables: { id: f.unknown },
  }),
  "Mutation.appealDecision": (f) => ({
    query: 'mutation($id: ID!) { appealDecision(trendId: $id, statement: "matrix") { id } }',
    variables: { id: f.unknown },
  }),
  "Mutation.overridePublish": (f) => ({
    query: 'mutation($id: ID!) { overridePublish(trendId: $id, justification: "matrix") { id } }',
    variables: { id: f.unknown },
  }),
  "Mutation.replayDeadLetters": () => ({
    query:
      'mutation { replayDeadLetters(stream: "trend:embedding:dlq", ids: ["1-1"]) { replayed } }',
  }),
  "Mutation.revokeApiKey": (f) => ({
    query: "mutation($id: ID!) { revokeApiKey(id: $id) }",
    variables: { id: f.unknown },
  }),
  "Subscription.escalationCreated": () => ({ query: "subscription { escalationCreated { id } }" }),
  "Subscription.escalationUpdated": () => ({ query: "subscription { escalationUpdated { id } }" }),
  "Subscription.escalationResolved": () => ({
    query: "subscription { escalationResolved { id } }",
  }),
  "Subscription.trendUpdated": () => ({ query: "subscription { trendUpdated { trendId } }" }),
  "Subscription.operatorAlerts": () => ({ query: "subscription { operatorAlerts { kind } }" }),
};

function schemaOperations(): string[] {
  const schema = buildSchema(readFileSync(SCHEMA_FILE, "utf8"));
  return [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]
    .filter((t): t is GraphQLObjectType => !!t)
    .flatMap((t) => Object.keys(t.getFields()).map((f) => `${t.name}.${f}`));
}

let h: AppHarness;
let fx: Fixture;
const keys = {} as Record<Caller, string | null>;

beforeAll(async () => {
  h = await startHarness({ workers: ["relay"], overrides: { embedder: flatEmbedder("flat") } });
  const auth = h.app.services.auth;
  keys["integrator A"] = (await auth.createKey("integrator", "int-a", ["acme"])).key;
  keys["integrator B"] = (await auth.createKey("integrator", "int-b", ["globex"])).key;
  keys.moderator = h.keys.moderator;
  keys.operator = h.keys.operator;
  keys.viewer = h.keys.viewer;
  keys["no key"] = null;
  keys["wrong key"] = "tg_operator_this-key-was-never-issued";
  const revoked = await auth.createKey("operator", "revoked-operator");
  await auth.revokeKey(revoked.id);
  keys["revoked key"] = revoked.key;

  const receipt = await h.gql<{ ingestTrend: { id: string; traceId: string } }>(
    'mutation { ingestTrend(input: { source: "wire", externalId: "a-1", body: "Tenant A only." }) { id traceId } }',
    {},
    keys["integrator A"],
  );
  const trendA = receipt.data!.ingestTrend.id;
  const escalationA = await h.env.db
    .transaction()
    .execute(async (trx) =>
      openEscalation(
        trx,
        { id: trendA, trace_id: receipt.data!.ingestTrend.traceId },
        { issueType: "low_confidence", reason: "matrix", rule: "matrix", scores: {} },
      ),
    );
  fx = {
    trendA,
    escalationA: escalationA!,
    traceA: receipt.data!.ingestTrend.traceId,
    unknown: randomUUID(),
  };
}, 120_000);
afterAll(async () => h?.close());

type Observed =
  "allowed" | "FORBIDDEN" | "UNAUTHENTICATED" | "closed 4401" | "closed 4403" | "no answer";

/** What an answer means for authorization: refused at the operation, or let through (whatever followed). */
function classify(result: { data?: unknown; errors?: GqlResult["errors"] }): Observed {
  const top = result.errors?.find(
    (e) =>
      !("path" in e) ||
      (e as { path?: unknown[] }).path?.length === 1 ||
      (e as { path?: unknown[] }).path === undefined,
  );
  const code = top?.extensions?.code;
  if (code === "UNAUTHENTICATED") return "UNAUTHENTICATED";
  if (code === "FORBIDDEN") return "FORBIDDEN";
  return "allowed";
}

/** The caller's view of tenant A's items must not hold them when the caller is integrator B. */
function leaksTenantA(result: { data?: unknown }): boolean {
  const data = JSON.stringify(result.data ?? null);
  return data.includes(fx.trendA) || data.includes(fx.escalationA);
}

async function overWebSocket(
  caller: Caller,
  operation: string,
  sample: { query: string; variables?: Record<string, unknown> },
) {
  let closeCode: number | undefined;
  const client: Client = createClient({
    url: h.wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: keys[caller] ? { authorization: `Bearer ${keys[caller]}` } : {},
    retryAttempts: 0,
    on: { closed: (event) => void (closeCode = (event as { code: number }).code) },
  });
  try {
    const sub = collect(client, sample.query, sample.variables);
    if (operation.startsWith("Subscription.")) {
      // A refused subscription answers at once; an accepted one stays silent. A query sent after
      // it on the same socket is the readiness signal: its answer comes after the refusal would.
      const probe = collect(client, "{ __typename }");
      await probe.take(1, 10_000).catch(() => undefined);
      await new Promise((r) => setImmediate(r));
    } else {
      await sub.take(1, 10_000).catch(() => undefined);
    }
    if (closeCode === 4401) return { observed: "closed 4401" as Observed, leak: false };
    if (sub.error && (sub.error as { code?: number }).code === 4401)
      return { observed: "closed 4401" as Observed, leak: false };
    if (closeCode === 4403) return { observed: "closed 4403" as Observed, leak: false };
    if (sub.error && (sub.error as { code?: number }).code === 4403)
      return { observed: "closed 4403" as Observed, leak: false };
    const first = sub.items[0];
    if (!first)
      return {
        observed: (operation.startsWith("Subscription.") ? "allowed" : "no answer") as Observed,
        leak: false,
      };
    return { observed: classify(first), leak: leaksTenantA(first) };
  } finally {
    await client.dispose();
  }
}

const expectedOver = (
  transport: "HTTP" | "WebSocket",
  operation: string,
  caller: Caller,
): Observed => {
  const outcome = expectedOutcome(OPERATION_RULES[operation], caller);
  if (transport === "WebSocket" && outcome === "UNAUTHENTICATED")
    return caller === "no key" ? "closed 4401" : "closed 4403";
  return outcome === "own tenant" ? "allowed" : (outcome as Observed);
};

describe("authorization matrix", () => {
  it("should have a rule and a sample for every operation in schema.graphql, and none for operations it lacks", () => {
    const operations = schemaOperations();
    expect(
      operations.filter((op) => !OPERATION_RULES[op]),
      "operations without a rule in src/domain/access-rules.ts",
    ).toEqual([]);
    expect(
      operations.filter((op) => !SAMPLES[op]),
      "operations without a sample in this test",
    ).toEqual([]);
    expect(
      Object.keys(OPERATION_RULES).filter((op) => !operations.includes(op)),
      "rules for operations the schema lacks",
    ).toEqual([]);
  });

  it("should keep docs/AUTHORIZATION.md rendered from the rules (run `npx tsx src/domain/authorization-doc.ts`)", () => {
    expect(readFileSync(AUTHORIZATION_DOC, "utf8")).toBe(renderAuthorizationDoc());
  });

  it("should answer every operation × caller over HTTP as documented, and never show tenant A's items to integrator B", async () => {
    const mismatches: string[] = [];
    let cases = 0;
    for (const operation of schemaOperations().filter((op) => !op.startsWith("Subscription."))) {
      for (const caller of CALLERS) {
        cases++;
        const sample = SAMPLES[operation]!(fx);
        const result = await h.gql(sample.query, sample.variables, keys[caller]);
        const observed = classify(result);
        const expected = expectedOver("HTTP", operation, caller);
        if (observed !== expected)
          mismatches.push(
            `HTTP ${operation} as ${caller}: ${observed}, documented ${expected} (${JSON.stringify(result.errors?.[0])})`,
          );
        if (caller === "integrator B" && leaksTenantA(result))
          mismatches.push(`HTTP ${operation} as integrator B shows tenant A's item`);
      }
    }
    expect(mismatches).toEqual([]);
    expect(cases).toBeGreaterThan(100);
  }, 120_000);

  it("should answer every operation × caller over WebSocket as documented (no key: 4401; wrong and revoked keys: 4403)", async () => {
    const mismatches: string[] = [];
    for (const operation of schemaOperations()) {
      for (const caller of CALLERS) {
        const { observed, leak } = await overWebSocket(caller, operation, SAMPLES[operation]!(fx));
        const expected = expectedOver("WebSocket", operation, caller);
        if (observed !== expected)
          mismatches.push(`WS ${operation} as ${caller}: ${observed}, documented ${expected}`);
        if (caller === "integrator B" && leak)
          mismatches.push(`WS ${operation} as integrator B shows tenant A's item`);
      }
    }
    expect(mismatches).toEqual([]);
  }, 240_000);

  it("should refuse subscriptions over HTTP POST to every caller (they are WebSocket operations)", async () => {
    for (const caller of CALLERS) {
      const result = await h.gql(SAMPLES["Subscription.trendUpdated"]!(fx).query, {}, keys[caller]);
      expect(result.data ?? null, caller).toBeNull();
      expect(result.errors?.length, caller).toBeGreaterThan(0);
    }
  });

  it("should answer every REST route × caller as documented", async () => {
    const mismatches: string[] = [];
    const statusOf = {
      allowed: [200, 404],
      "own tenant": [200, 404],
      FORBIDDEN: [403],
      UNAUTHENTICATED: [401],
      "not served": [404],
    } as const;
    for (const [route, rule] of Object.entries(ROUTE_RULES)) {
      const [method, path] = route.split(" ") as [string, string];
      for (const caller of CALLERS) {
        const res = await fetch(`${h.url}${path.replace(":id", fx.unknown)}`, {
          method,
          headers: {
            "content-type": "application/json",
            ...(keys[caller] ? { authorization: `Bearer ${keys[caller]}` } : {}),
          },
          body: method === "POST" ? JSON.stringify({ decision: "APPROVE" }) : undefined,
        });
        const expected = expectedOutcome(rule, caller);
        // An allowed resolve of an unknown id is 404 NOT_FOUND; an allowed GET is 200.
        const wanted = expected === "allowed" && method === "GET" ? [200] : statusOf[expected];
        if (!(wanted as readonly number[]).includes(res.status))
          mismatches.push(`${route} as ${caller}: ${res.status}, documented ${expected}`);
      }
    }
    expect(mismatches).toEqual([]);
  });
});
