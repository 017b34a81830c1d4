/**
 * Records what the enricher and its models output for the golden corpus, so a speed-up can be
 * checked to change nothing (test/nlp/enrich-golden.test.ts). Re-run only when a model or the
 * enrichment contract changes on purpose:
 *
 *   npx tsx test/nlp/golden/record-enrich-golden.ts
 */
import { writeFileSync } from "node:fs";

import { goldenRecord } from "./enrich-golden-record.js";
import { enrichCorpus } from "./enrich-corpus.js";

const inputs = enrichCorpus();
const records = [];
for (const input of inputs) records.push(await goldenRecord(input));
const file = new URL("./enrich-golden.json", import.meta.url);
writeFileSync(file, `${JSON.stringify(records)}\n`);
console.log(`${records.length} records → ${file.pathname}`);
