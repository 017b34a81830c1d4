import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import type { PublishRequest } from "../../src/mcp/publish-client.js";

export function publishRequest(overrides: Partial<PublishRequest> = {}): PublishRequest {
  return {
    trendId: randomUUID(),
    title: "Solar kites",
    summary: "Kites that charge phones are trending.",
    topics: ["energy", "gadgets"],
    url: "https://example.com/kites",
    idempotencyKey: `publish:${randomUUID()}`,
    approvalPath: "judge",
    ...overrides,
  };
}

/** Parsed lines of a JSONL file; [] when it does not exist. */
export async function readJsonl(path: string): Promise<Record<string, unknown>[]> {
  const text = await readFile(path, "utf8").catch(() => "");
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** A fresh directory under the OS temp dir and its removal, for afterAll. */
export async function tempDir(): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), "trendgate-mcp-"));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** Pids of this process's children that run the bundled adapter. */
export function adapterChildPids(): Set<number> {
  let out = "";
  try {
    out = execFileSync("ps", ["-o", "pid=,args=", "--ppid", String(process.pid)], {
      encoding: "utf8",
    });
  } catch {
    // ps exits 1 when there are no children.
  }
  return new Set(
    out
      .split("\n")
      .filter((line) => line.includes("publish-adapter-main"))
      .map((line) => Number(line.trim().split(/\s+/)[0])),
  );
}
