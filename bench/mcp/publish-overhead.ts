/**
 * What MCP costs the publisher: the same publishes through the bundled adapter over stdio and
 * through createInProcessPublisher (same sink, no process, no protocol), in one run.
 *
 *   npx tsx bench/mcp/publish-overhead.ts [items=2000] [concurrency=8] [rounds=3]
 *
 * The machine is shared, so every cell is measured `rounds` times and the median printed.
 * Each mode writes a fresh JSONL file in a temp dir. "new" publishes new keys (lock, scan,
 * append); "repeat" republishes the same keys, which the sink answers from memory, so the
 * stdio figure there is close to the bare protocol round trip.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { createInProcessPublisher } from "../../src/mcp/in-process-publisher.js";
import {
  connectMcpPublisher,
  type Publisher,
  type PublishRequest,
} from "../../src/mcp/publish-client.js";

const items = Number(process.argv[2] ?? 2000);
const concurrency = Number(process.argv[3] ?? 8);
const rounds = Number(process.argv[4] ?? 3);
const WARMUP = 200;

function requests(n: number): PublishRequest[] {
  return Array.from({ length: n }, (_, i) => ({
    trendId: randomUUID(),
    title: `Trend ${i}`,
    summary: "A short summary of an approved trend, about as long as the real ones tend to be.",
    topics: ["bench", "publish"],
    url: `https://example.com/trends/${i}`,
    idempotencyKey: `bench:${randomUUID()}`,
    approvalPath: "judge",
  }));
}

async function run(
  publisher: Publisher,
  reqs: PublishRequest[],
  parallel: number,
): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < reqs.length) await publisher.publish(reqs[next++]!);
    }),
  );
  return reqs.length / ((performance.now() - started) / 1000);
}

interface Row {
  mode: string;
  parallel: number;
  phase: "new" | "repeat";
  inProcess: number;
  stdio: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function main() {
  const dir = await mkdtemp(join(tmpdir(), "trendgate-bench-mcp-"));
  const rows: Row[] = [];
  try {
    for (const parallel of [1, concurrency]) {
      const mode = parallel === 1 ? "sequential" : `concurrency ${parallel}`;
      const samples = {
        inNew: [] as number[],
        inRepeat: [] as number[],
        stNew: [] as number[],
        stRepeat: [] as number[],
      };
      for (let round = 0; round < rounds; round++) {
        const inProcess = createInProcessPublisher({
          jsonlPath: join(dir, `in-process-${parallel}-${round}.jsonl`),
        });
        const stdio = await connectMcpPublisher({
          env: {
            PUBLISH_JSONL_PATH: join(dir, `stdio-${parallel}-${round}.jsonl`),
            LOG_LEVEL: "warn",
          },
        });
        try {
          for (const publisher of [inProcess, stdio])
            await run(publisher, requests(WARMUP), parallel);
          const fresh = requests(items);
          samples.inNew.push(await run(inProcess, fresh, parallel));
          samples.inRepeat.push(await run(inProcess, fresh, parallel));
          const stdioFresh = requests(items);
          samples.stNew.push(await run(stdio, stdioFresh, parallel));
          samples.stRepeat.push(await run(stdio, stdioFresh, parallel));
        } finally {
          await stdio.close();
          await inProcess.close();
        }
      }
      rows.push({
        mode,
        parallel,
        phase: "new",
        inProcess: median(samples.inNew),
        stdio: median(samples.stNew),
      });
      rows.push({
        mode,
        parallel,
        phase: "repeat",
        inProcess: median(samples.inRepeat),
        stdio: median(samples.stRepeat),
      });
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }

  const fmt = (n: number) => Math.round(n).toLocaleString("en-US").padStart(10);
  console.log(
    `publish overhead: ${items} items per cell, median of ${rounds} rounds, node ${process.version}, ${process.platform}`,
  );
  console.log(
    "mode              keys     in-process/s     stdio MCP/s   in-process ÷ MCP   MCP µs/item extra",
  );
  for (const r of rows) {
    const extraUs = (1 / r.stdio - 1 / r.inProcess) * 1e6;
    console.log(
      `${r.mode.padEnd(16)}  ${r.phase.padEnd(6)} ${fmt(r.inProcess)}      ${fmt(r.stdio)}   ${(r.inProcess / r.stdio).toFixed(1).padStart(10)}x   ${extraUs.toFixed(0).padStart(12)}`,
    );
  }
}

await main();
