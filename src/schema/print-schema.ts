import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

import { lexicographicSortSchema, printSchema } from "graphql";

import { buildTrendgateSchema } from "./build-schema.js";

/** The SDL clients generate types from, checked in at the repo root as schema.graphql. */
export async function printTrendgateSchema(): Promise<string> {
  return `${printSchema(lexicographicSortSchema(await buildTrendgateSchema()))}\n`;
}

export const SCHEMA_FILE = fileURLToPath(new URL("../../schema.graphql", import.meta.url));

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(SCHEMA_FILE, await printTrendgateSchema());
  console.log(`wrote ${SCHEMA_FILE}`);
}
