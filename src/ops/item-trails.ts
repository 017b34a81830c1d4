import pg from "pg";

import { LoadtestError } from "./loadtest-error.js";
import type { GqlResponse } from "./loadtest-report.js";

/** One item's status and the times of its provenance steps, for per-stage latency. */
export interface Trail {
  id: string;
  status: string;
  steps: { step: string; at: number }[];
}

export async function trailsFromSql(databaseUrl: string, ids: string[]): Promise<Trail[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const out: Trail[] = [];
    for (let i = 0; i < ids.length; i += 5000) {
      const chunk = ids.slice(i, i + 5000);
      const trends = await client.query<{ id: string; status: string }>(
        "SELECT id, status FROM enriched_trends WHERE id = ANY($1::uuid[])",
        [chunk],
      );
      const entries = await client.query<{ trend_id: string; step: string; created_at: Date }>(
        "SELECT trend_id, step, created_at FROM provenance_log WHERE trend_id = ANY($1::uuid[]) ORDER BY created_at, id",
        [chunk],
      );
      const byTrend = new Map<string, Trail>(
        trends.rows.map((r) => [r.id, { id: r.id, status: r.status, steps: [] }]),
      );
      for (const e of entries.rows)
        byTrend.get(e.trend_id)?.steps.push({ step: e.step, at: e.created_at.getTime() });
      out.push(...byTrend.values());
    }
    return out;
  } finally {
    await client.end();
  }
}

export async function trailsFromGraphql(
  gql: <T>(
    query: string,
    variables?: Record<string, unknown>,
  ) => Promise<GqlResponse<T> & { status: number }>,
  ids: string[],
): Promise<Trail[]> {
  const out: Trail[] = [];
  const batches: string[][] = [];
  // Aliased trend(id) fields: the gateway allows 15 aliases per operation (graphql-armor).
  for (let i = 0; i < ids.length; i += 10) batches.push(ids.slice(i, i + 10));
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < batches.length) {
        const batch = batches[next++]!;
        const fields = batch
          .map((_, j) => `t${j}: trend(id: $id${j}) { id status provenance { step createdAt } }`)
          .join(" ");
        const query = `query(${batch.map((_, j) => `$id${j}: ID!`).join(", ")}) { ${fields} }`;
        const res = await gql<
          Record<
            string,
            { id: string; status: string; provenance: { step: string; createdAt: string }[] } | null
          >
        >(query, Object.fromEntries(batch.map((id, j) => [`id${j}`, id])));
        if (!res.data)
          throw new LoadtestError(
            "LOADTEST_UNREACHABLE",
            `reading provenance failed: ${res.errors?.[0]?.message ?? res.status}`,
          );
        for (const value of Object.values(res.data)) {
          if (!value) continue;
          out.push({
            id: value.id,
            status: value.status,
            steps: value.provenance.map((p) => ({ step: p.step, at: Date.parse(p.createdAt) })),
          });
        }
      }
    }),
  );
  return out;
}
