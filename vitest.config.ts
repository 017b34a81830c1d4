import { createRequire } from "node:module";

import { defineConfig } from "vitest/config";

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // One copy of graphql, or type-graphql and Apollo disagree about GraphQLSchema's realm.
    alias: { graphql: require.resolve("graphql") },
  },
  test: {
    include: ["test/**/*.test.ts"],
    setupFiles: ["test/setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Each file has its own database and stream prefix, so files run in parallel.
    fileParallelism: true,
    maxWorkers: 2,
    server: { deps: { inline: ["kysely"] } },
  },
});
