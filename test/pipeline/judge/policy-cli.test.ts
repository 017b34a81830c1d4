import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { seedJudged } from "../../support/seed-judged.js";
import { createTestEnv, type TestEnv } from "../../support/test-env.js";

/** `trendgate judge simulate|calibrate` as a user runs them: a real process against a seeded history. */
const run = promisify(execFile);
let env: TestEnv;
let dir: string;

beforeAll(async () => {
  env = await createTestEnv();
  dir = mkdtempSync(path.join(tmpdir(), "judge-cli-"));
  const n = (k: number) => Array.from({ length: k });
  await seedJudged(env.db, [
    ...n(30).map(() => ({ toxicity: 0.05, confidence: 0.9, outcome: "READY" as const })),
    ...n(8).map(() => ({
      toxicity: 0.1,
      confidence: 0.5,
      outcome: "ESCALATED" as const,
      decision: "APPROVE" as const,
    })),
    ...n(2).map(() => ({
      toxicity: 0.1,
      confidence: 0.5,
      outcome: "ESCALATED" as const,
      decision: "REJECT" as const,
    })),
  ]);
}, 60_000);
afterAll(async () => {
  await env?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function cli(args: string[]) {
  try {
    const { stdout, stderr } = await run(process.execPath, ["bin/trendgate.js", ...args], {
      env: { ...process.env, LOG_LEVEL: "silent", DATABASE_URL: env.config.DATABASE_URL },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe("trendgate judge", () => {
  it("should print what a proposed policy would do beside the active one, as JSON", async () => {
    const file = path.join(dir, "lenient.json");
    writeFileSync(
      file,
      JSON.stringify({
        thresholds: { minConfidence: 0.4, maxToxicity: 0.8, toxicityCeiling: 0.97 },
      }),
    );
    const r = await cli(["judge", "simulate", "--policy", file, "--json"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(report).toMatchObject({
      items: 40,
      labelled: 10,
      active: { published: 30, escalated: 10 },
      proposed: { published: 40, escalated: 0, moderatorRejectedPublished: 2 },
      escalationsRemoved: 10,
    });
  }, 60_000);

  it("should refuse to calibrate with fewer than 200 decisions, say why, and exit 3", async () => {
    const r = await cli(["judge", "calibrate", "--target-leak", "0.01"]);
    expect(r.code).toBe(3);
    expect(r.stdout).toContain("no proposal: only 10 labelled decisions; at least 200 are needed");
  }, 60_000);

  it("should name the malformed line of a labels file and exit non-zero", async () => {
    const file = path.join(dir, "labels.jsonl");
    writeFileSync(file, `${JSON.stringify({ text: "fine", label: "clean" })}\n{"text": "oops"\n`);
    const r = await cli(["judge", "calibrate", "--labels", file]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(/^trendgate: .*labels\.jsonl line 2: not (valid )?JSON/);
  }, 60_000);

  it("should refuse a policy file that does not validate, naming the field", async () => {
    const file = path.join(dir, "bad.json");
    writeFileSync(file, JSON.stringify({ thresholds: { minConfidence: "high" } }));
    const r = await cli(["judge", "simulate", "--policy", file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("policy.thresholds.minConfidence");
  }, 60_000);
});
