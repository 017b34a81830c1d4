import fc from "fast-check";
import {
  getNamedType,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLSchema,
  isLeafType,
  isNonNullType,
  isObjectType,
} from "graphql";
import { sql } from "kysely";

import type { Db } from "../../src/db/database.js";
import { buildTrendgateSchema } from "../../src/schema/build-schema.js";
import { argumentsArb, type IdPool } from "./schema-arbitraries.js";

export interface FuzzOptions {
  /** The gateway's base URL (http://host:port). */
  url: string;
  /** An operator key: every operation is allowed, so the fuzz reaches every resolver. */
  key: string;
  db: Db;
  cases: number;
  seed: number;
  /** How long every accepted item may take to reach a terminal or human status. */
  settleTimeoutMs?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface FuzzFailure {
  operation: string;
  kind: "INTERNAL_SERVER_ERROR" | "HTTP_5XX" | "PARTIAL_WRITE" | "NOT_JSON";
  detail: string;
  variables: string;
}

export interface FuzzReport {
  cases: number;
  seed: number;
  operations: number;
  /** Responses by `extensions.code` of their first error ("OK" without errors). */
  outcomes: Record<string, number>;
  perOperation: Record<string, number>;
  failures: FuzzFailure[];
  acceptedItems: number;
  /** Accepted items still in RECEIVED … APPROVED after the settle timeout. */
  unsettled: { id: string; status: string }[];
}

const SETTLED = ["PUBLISHED", "REJECTED", "CANCELLED", "FAILED", "ESCALATED", "PAUSED"];

interface Operation {
  kind: "query" | "mutation";
  field: GraphQLField<unknown, unknown>;
}

/** Every query and mutation of the schema (subscriptions are long-lived; the HTTP edge is what is fuzzed). */
export function operationsOf(schema: GraphQLSchema): Operation[] {
  const of = (kind: Operation["kind"], type: GraphQLObjectType | null | undefined) =>
    Object.values(type?.getFields() ?? {}).map((field) => ({ kind, field }));
  return [...of("query", schema.getQueryType()), ...of("mutation", schema.getMutationType())];
}

/** `__typename` plus the scalar fields that take no required argument. */
function selection(field: GraphQLField<unknown, unknown>): string {
  const type = getNamedType(field.type);
  if (isLeafType(type)) return "";
  if (!isObjectType(type)) return "{ __typename }";
  const leaves = Object.values(type.getFields())
    .filter(
      (f) =>
        isLeafType(getNamedType(f.type)) &&
        !f.args.some((a) => isNonNullType(a.type) && a.defaultValue === undefined),
    )
    .map((f) => f.name);
  return `{ __typename ${leaves.join(" ")} }`;
}

function document(op: Operation, args: Record<string, unknown>): string {
  const present = op.field.args.filter((a) => a.name in args);
  const vars = present.map((a) => `$${a.name}: ${String(a.type)}`).join(", ");
  const call = present.map((a) => `${a.name}: $${a.name}`).join(", ");
  return `${op.kind} Fuzz${vars ? `(${vars})` : ""} { ${op.field.name}${call ? `(${call})` : ""} ${selection(op.field)} }`;
}

async function countTrends(db: Db): Promise<number> {
  const row = await db
    .selectFrom("enriched_trends")
    .select(sql<number>`count(*)::int`.as("n"))
    .executeTakeFirstOrThrow();
  return row.n;
}

/**
 * The fuzz campaign (issue 12): `cases` operations, each a query or mutation of the built
 * schema with fast-check arguments of its declared types (schema-arbitraries.ts), sent over
 * HTTP as variables. Fails on any INTERNAL_SERVER_ERROR or 5xx, on an ingest that answered
 * with an error yet wrote trends (a partial write), and on accepted items that do not reach a
 * terminal or human status. Deterministic for a seed (the ID pool follows what was created).
 */
export async function runFuzzCampaign(o: FuzzOptions): Promise<FuzzReport> {
  const schema = await buildTrendgateSchema();
  const ops = operationsOf(schema);
  const pool: string[] = [];
  const idPool: IdPool = { ids: () => pool };
  const refreshPool = async () => {
    const [trends, escalations] = await Promise.all([
      o.db
        .selectFrom("enriched_trends")
        .select(["id", "trace_id"])
        .orderBy("created_at", "desc")
        .limit(20)
        .execute(),
      o.db
        .selectFrom("escalations")
        .select(["id"])
        .orderBy("created_at", "desc")
        .limit(20)
        .execute(),
    ]);
    pool.splice(
      0,
      pool.length,
      ...trends.flatMap((t) => [t.id, t.trace_id]),
      ...escalations.map((e) => e.id),
    );
  };
  await refreshPool();

  const report: FuzzReport = {
    cases: 0,
    seed: o.seed,
    operations: ops.length,
    outcomes: {},
    perOperation: {},
    failures: [],
    acceptedItems: 0,
    unsettled: [],
  };
  const caseArb = fc
    .nat({ max: ops.length - 1 })
    .chain((i) => argumentsArb(ops[i]!.field.args, idPool).map((args) => ({ op: ops[i]!, args })));
  // Every operation at least cases / (2 × operations) times, the rest drawn at random.
  const samples = fc.sample(caseArb, { numRuns: o.cases, seed: o.seed });
  for (const [index, { op, args }] of samples.entries()) {
    if (index % 50 === 0) await refreshPool();
    const name = `${op.kind}.${op.field.name}`;
    report.perOperation[name] = (report.perOperation[name] ?? 0) + 1;
    const isIngest = op.kind === "mutation" && op.field.name.startsWith("ingest");
    const before = isIngest ? await countTrends(o.db) : 0;
    const res = await fetch(`${o.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${o.key}` },
      body: JSON.stringify({ query: document(op, args), variables: args }),
    });
    const text = await res.text();
    let body: {
      data?: Record<string, unknown> | null;
      errors?: { message: string; extensions?: { code?: string } }[];
    };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      report.failures.push({
        operation: name,
        kind: "NOT_JSON",
        detail: `${res.status} ${text.slice(0, 200)}`,
        variables: preview(args),
      });
      continue;
    }
    const code = body.errors?.[0]?.extensions?.code ?? (body.errors?.length ? "UNCODED" : "OK");
    report.outcomes[code] = (report.outcomes[code] ?? 0) + 1;
    if (
      body.errors?.some(
        (e) => e.extensions?.code === "INTERNAL_SERVER_ERROR" || !e.extensions?.code,
      )
    )
      report.failures.push({
        operation: name,
        kind: "INTERNAL_SERVER_ERROR",
        detail: body.errors
          .map((e) => e.message)
          .join("; ")
          .slice(0, 300),
        variables: preview(args),
      });
    else if (res.status >= 500)
      report.failures.push({
        operation: name,
        kind: "HTTP_5XX",
        detail: `${res.status} ${text.slice(0, 200)}`,
        variables: preview(args),
      });
    if (isIngest) {
      const after = await countTrends(o.db);
      if (body.errors?.length && after !== before)
        report.failures.push({
          operation: name,
          kind: "PARTIAL_WRITE",
          detail: `${after - before} trend(s) written by a request that failed`,
          variables: preview(args),
        });
      report.acceptedItems += after - before;
    }
    report.cases += 1;
    o.onProgress?.(report.cases, o.cases);
  }

  const deadline = Date.now() + (o.settleTimeoutMs ?? 120_000);
  for (;;) {
    const open = await o.db
      .selectFrom("enriched_trends")
      .select(["id", "status"])
      .where("status", "not in", SETTLED as never[])
      .execute();
    report.unsettled = open;
    if (open.length === 0 || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  return report;
}

function preview(args: Record<string, unknown>): string {
  const json = JSON.stringify(args, (_k, v: unknown) =>
    typeof v === "string" && v.length > 80 ? `${v.slice(0, 40)}…(${v.length} chars)` : v,
  );
  return json.length > 400 ? `${json.slice(0, 400)}…` : json;
}
