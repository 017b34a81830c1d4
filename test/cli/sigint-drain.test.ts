import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { AuthService } from "../../src/services/auth-service.js";
import { GROUPS, STREAMS } from "../../src/streams/stream-names.js";
import { createTestEnv, type TestEnv } from "../support/test-env.js";

let env: TestEnv;
let dir: string;
beforeAll(async () => {
  env = await createTestEnv();
  dir = await mkdtemp(path.join(tmpdir(), "trendgate-sigint-"));
});
afterAll(async () => {
  await env?.close();
  await rm(dir, { recursive: true, force: true });
});

/** `trendgate start` in its own process group, as a terminal runs it; resolves once it is up. */
function start(): Promise<{
  child: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<number | null>;
}> {
  const child = spawn(process.execPath, ["bin/trendgate.js", "start", "--port", "0"], {
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      DATABASE_URL: env.config.DATABASE_URL,
      STREAM_PREFIX: env.prefix,
      LOG_LEVEL: "debug",
      BOOTSTRAP_KEYS: "false",
      VECTOR_STORE_PATH: path.join(dir, "vectors"),
      PUBLISH_JSONL_PATH: path.join(dir, "published.jsonl"),
    },
  });
  let out = "";
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => resolve(code)),
  );
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const up = /Trendgate is up: (http:\/\/\S+)\/graphql/.exec(out);
      if (up) resolve({ child, url: up[1]!, output: () => out, exited });
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", (chunk: Buffer) => (out += chunk.toString()));
    void exited.then((code) => reject(new Error(`exited ${code} before it was up:\n${out}`)));
  });
}

describe("one SIGINT drains", { timeout: 120_000 }, () => {
  it("should finish in-flight work and exit 0 when Ctrl-C reaches it twice (terminal + npm forwarding)", async () => {
    const { child, url, output, exited } = await start();
    const key = (await new AuthService(env.db, "").createKey("integrator", "sigint")).key;
    const ingested = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        fetch(`${url}/graphql`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
          body: JSON.stringify({
            query: `mutation { ingestTrend(input: { source: "sigint", externalId: "s-${i}", body: "Markets rallied today after the central bank held rates." }) { id } }`,
          }),
        }).then((r) => r.json() as Promise<{ data?: { ingestTrend: { id: string } } }>),
      ),
    );
    expect(ingested.every((r) => r.data?.ingestTrend.id)).toBe(true);

    // The terminal sends SIGINT to the whole foreground group; npm then forwards its own copy,
    // which lands once the first is being handled (two signals pending at once would merge).
    process.kill(-child.pid!, "SIGINT");
    while (!output().includes("shutting down"))
      await new Promise((r) => child.stdout!.once("data", r));
    process.kill(child.pid!, "SIGINT");
    const code = await exited;

    const log = output();
    expect(code).toBe(0);
    expect(log.match(/shutting down: finishing in-flight work/g)).toHaveLength(1);
    expect(log).not.toContain("second signal");
    expect(log).toContain("same signal delivered twice");
    // Drained: nothing was left delivered-but-unacknowledged in any stage's group.
    for (const [stream, group] of [
      [STREAMS.ingest, GROUPS.etl],
      [STREAMS.embeddingJobs, GROUPS.embedding],
      [STREAMS.judgeJobs, GROUPS.judge],
      [STREAMS.publishJobs, GROUPS.publisher],
    ] as const) {
      const summary = (await env.redis.xpending(env.keys.key(stream), group).catch(() => [0])) as [
        number,
      ];
      expect(summary[0], `${stream} pending`).toBe(0);
    }
  });
});
