import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { type AppHarness, startHarness } from "../support/app-harness.js";

let h: AppHarness;
beforeAll(async () => {
  // No workers: paging reads what ingest wrote, and one ingestTrends call shares one now().
  h = await startHarness({ workers: [] });
});
afterAll(async () => h?.close());

const PAGE = /* GraphQL */ `
  query Page($after: String) {
    trends(first: 50, after: $after, filter: { source: "paging" }) {
      edges {
        cursor
        node {
          id
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`;

describe("trends paging", () => {
  it("should return every item of batches that share a timestamp, each once", async () => {
    const posted: string[] = [];
    for (let batch = 0; batch < 3; batch++) {
      const inputs = Array.from({ length: 100 }, (_, i) => ({
        source: "paging",
        externalId: `p-${batch}-${i}`,
        title: `Paging item ${batch}-${i}`,
        body: "A short body for a paging check.",
      }));
      const r = await h.gql<{ ingestTrends: { id: string }[] }>(
        `mutation($inputs: [TrendInput!]!) { ingestTrends(inputs: $inputs) { id } }`,
        { inputs },
        h.keys.integrator,
      );
      expect(r.errors).toBeUndefined();
      posted.push(...r.data!.ingestTrends.map((t) => t.id));
    }

    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 20; page++) {
      const r: {
        data?: {
          trends: {
            edges: { node: { id: string } }[];
            pageInfo: { hasNextPage: boolean; endCursor: string | null };
          };
        };
      } = await h.gql(PAGE, { after }, h.keys.integrator);
      const trends = r.data!.trends;
      seen.push(...trends.edges.map((e) => e.node.id));
      if (!trends.pageInfo.hasNextPage) break;
      after = trends.pageInfo.endCursor;
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.sort()).toEqual([...posted].sort());
  });
});
