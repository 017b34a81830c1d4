import { createRequire } from "node:module";
import { configDefaults, defineConfig } from "vitest/config";

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // One copy of graphql, or type-graphql and Apollo disagree about GraphQLSchema's realm.
    alias: { graphql: require.resolve("graphql") },
  },
  test: {
    include: ["test/**/*.test.ts"],
    // The issue-12 campaigns at CI size take minutes together (over the 60 s CI budget), so they
    // run on demand: `CAMPAIGNS=1 npx vitest run test/campaigns` (README, "Campaigns").
    exclude: [...configDefaults.exclude, ...(process.env.CAMPAIGNS ? [] : ["test/campaigns/**"])],
    setupFiles: ["test/setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Each file has its own database and stream prefix, so files run in parallel.
    fileParallelism: true,
    maxWorkers: 2,
    server: { deps: { inline: ["kysely"] } },
  },
});
