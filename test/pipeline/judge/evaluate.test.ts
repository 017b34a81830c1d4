import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";

import { afterAll, describe, expect, it } from "vitest";

import { DomainError } from "../../../src/domain/domain-error.js";
import { runJudgeEvaluate } from "../../../src/pipeline/judge/evaluate-command.js";
import { PolicyError } from "../../../src/pipeline/judge/judge-policy.js";
import { parseLabelledJsonl } from "../../../src/pipeline/judge/labelled-rows.js";

// Short texts written for these tests (never dataset rows).
const ROWS = [
  { text: "The city council approved a new budget for public transit on Tuesday.", label: "clean" },
  {
    text: "Hospitals reported fewer flu cases this winter than last year, officials said.",
    label: "clean",
  },
  {
    text: "The striker scored twice as the club won the cup final in front of its fans.",
    label: "clean",
    source: "ignored",
  },
  { text: "Scientists found water vapour in the atmosphere of a distant planet.", label: "clean" },
  {
    text: "Shut up you stupid worthless bitch, nobody wants to hear your fucking opinion.",
    label: "toxic",
  },
  { text: "you are a f4gg0t and a b1tch", label: "toxic" },
  { text: "I will kill you", label: "toxic" },
  { text: "what a fucking idiot, go die in a hole you piece of shit", label: "toxic" },
];

const dir = mkdtempSync(path.join(tmpdir(), "judge-evaluate-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, content);
  return p;
}
const labels = file("labels.jsonl", `${ROWS.map((r) => JSON.stringify(r)).join("\n")}\n\n`);
const silent = { stdout: () => undefined, stderr: { isTTY: false, write: () => true } };

describe("labelled rows", () => {
  it("should skip blank lines and ignore extra fields", () => {
    const rows = parseLabelledJsonl(
      '{"text":"a","label":"clean","votes":3}\n\n{"text":"b","label":"toxic"}\n',
    );
    expect(rows).toEqual([
      { text: "a", label: "clean", line: 1 },
      { text: "b", label: "toxic", line: 3 },
    ]);
  });

  it("should read a file saved with a byte-order mark and CRLF line ends", () => {
    const rows = parseLabelledJsonl(
      '\uFEFF{"text":"a","label":"clean"}\r\n{"text":"b","label":"toxic"}\r\n\r\n',
    );
    expect(rows).toEqual([
      { text: "a", label: "clean", line: 1 },
      { text: "b", label: "toxic", line: 2 },
    ]);
  });

  it("should refuse a malformed line with BAD_USER_INPUT naming the line", () => {
    const cases: [string, RegExp][] = [
      ['{"text":"a","label":"clean"}\n{"text": "b", "label": "toxic"\n', /line 2: not valid JSON/],
      [
        '{"text":"a","label":"clean"}\n\n{"text":"b","label":"spam"}',
        /line 3: "label" must be "toxic" or "clean", got "spam"/,
      ],
      ['{"label":"clean"}', /line 1: "text" must be a string/],
      ["[1,2]", /line 1: expected an object/],
      ["\n\n", /no labelled rows/],
    ];
    for (const [content, message] of cases) {
      let error: unknown;
      try {
        parseLabelledJsonl(content, "f.jsonl");
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(DomainError);
      expect((error as DomainError).code).toBe("BAD_USER_INPUT");
      expect((error as Error).message).toMatch(message);
    }
  });
});

describe("judge evaluate", () => {
  it("should report the rates, per-rule figures that add up, and write the charts next to --out", async () => {
    let printed = "";
    const out = path.join(dir, "report", "run.json");
    const e = await runJudgeEvaluate(
      { labels, json: true, out },
      { ...silent, stdout: (t) => void (printed += t) },
    );
    const json = JSON.parse(printed) as Record<string, unknown>;
    for (const key of [
      "items",
      "escalated_rate",
      "toxic_published_rate",
      "clean_rejected_rate",
      "toxicity_auc",
      "ece",
      "rules",
    ]) {
      expect(json, key).toHaveProperty(key);
    }
    expect(json.items).toBe(ROWS.length);
    expect(json.reliability).toBeUndefined();
    // the toxicity model ranks every clear insult above every news sentence
    expect(e.toxicity_auc).toBe(1);
    expect(e.toxic_published_rate).toBe(0);
    expect(e.clean_rejected_rate).toBe(0);
    const sum = (k: "escalated_rate" | "toxic_published_rate" | "clean_rejected_rate") =>
      e.rules.reduce((s, r) => s + r[k], 0);
    expect(sum("escalated_rate")).toBeCloseTo(e.escalated_rate, 10);
    expect(e.rules.reduce((s, r) => s + r.items, 0)).toBe(ROWS.length);
    expect(e.workload[0]?.minConfidence).toBe(0);
    expect(e.workload.at(-1)?.minConfidence).toBe(1);
    // at minConfidence 1 nothing is published automatically
    expect(e.workload.at(-1)?.toxic_published_rate).toBe(0);
    const reliability = readFileSync(path.join(dir, "report", "run.reliability.svg"), "utf8");
    expect(reliability).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(reliability).toContain("ECE");
    expect(readFileSync(path.join(dir, "report", "run.workload.svg"), "utf8")).toContain(
      "minConfidence",
    );
    expect(JSON.parse(readFileSync(out, "utf8"))).toHaveProperty("reliability.confidence");
  });

  it("should judge with the policy file given", async () => {
    const policy = file(
      "policy.json",
      JSON.stringify({ version: "strict-7", blockedTerms: ["budget"] }),
    );
    let printed = "";
    const e = await runJudgeEvaluate(
      { labels, policy },
      { ...silent, stdout: (t) => void (printed += t) },
    );
    expect(e.policy_version).toBe("strict-7");
    expect(e.rules.find((r) => r.rule === "blocked_term")).toMatchObject({
      items: 1,
      outcome: "REJECTED",
    });
    expect(e.clean_rejected_rate).toBeCloseTo(1 / 4, 10);
    expect(printed).toContain("blocked_term");
    expect(printed).toContain("escalated_rate");
  });

  it("should refuse an invalid policy file naming the field", async () => {
    const policy = file("bad-policy.json", JSON.stringify({ thresholds: { minConfidence: 3 } }));
    await expect(runJudgeEvaluate({ labels, policy }, silent)).rejects.toThrow(PolicyError);
    await expect(
      runJudgeEvaluate({ labels, policy: file("nojson.json", "{") }, silent),
    ).rejects.toThrow(/not valid JSON/);
  });

  it("should exit non-zero from the CLI with one line naming the malformed line", async () => {
    const bad = file("bad.jsonl", '{"text":"fine","label":"clean"}\nnot json at all\n');
    const result = await promisify(execFile)(
      process.execPath,
      ["bin/trendgate.js", "judge", "evaluate", "--labels", bad],
      { timeout: 100_000 },
    ).then(
      () => ({ code: 0, stderr: "" }),
      (error: { code: number; stderr: string }) => error,
    );
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toContain(`${bad} line 2: not valid JSON`);
    // a fresh process compiles the sources and loads the models: slow on a busy machine
  }, 120_000);
});
