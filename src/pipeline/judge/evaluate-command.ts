import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";

import { Presets, SingleBar } from "cli-progress";

import { createOfflineEnricher } from "../../nlp/enricher.js";
import { evaluate, type Evaluation, judgeRows } from "./evaluate.js";
import { reliabilitySvg, workloadSvg } from "./evaluation-charts.js";
import { defaultPolicy, type JudgePolicy, parsePolicy, PolicyError } from "./judge-policy.js";
import { readLabelledJsonl } from "./labelled-rows.js";

export interface EvaluateOptions {
  labels: string;
  policy?: string;
  json?: boolean;
  out?: string;
}

export interface EvaluateIo {
  stdout: (text: string) => void;
  stderr: NodeJS.WriteStream | { isTTY?: boolean; write: (text: string) => boolean };
}

/** Below this many rows a run takes a second or two: no progress bar. */
const PROGRESS_MIN_ROWS = 500;

/**
 * `trendgate judge evaluate`: the real offline enrichment and judge() over a labelled file, no
 * database. Prints the figures (table, or one JSON object with --json); with --out, also writes
 * the full report (JSON) and two SVG charts next to it.
 */
export async function runJudgeEvaluate(
  opts: EvaluateOptions,
  io: EvaluateIo = { stdout: (t) => process.stdout.write(t), stderr: process.stderr },
): Promise<Evaluation> {
  const rows = await readLabelledJsonl(opts.labels);
  const policy = opts.policy ? await readPolicyFile(opts.policy) : defaultPolicy();
  const enricher = await createOfflineEnricher();
  const bar =
    io.stderr.isTTY && rows.length >= PROGRESS_MIN_ROWS
      ? new SingleBar(
          {
            format: "judge evaluate {bar} {value}/{total} rows {eta_formatted}",
            stream: io.stderr as NodeJS.WriteStream,
          },
          Presets.shades_classic,
        )
      : undefined;
  bar?.start(rows.length, 0);
  let judged;
  try {
    judged = await judgeRows(rows, enricher, policy, (done) => {
      if (done % 50 === 0 || done === rows.length) bar?.update(done);
    });
  } finally {
    bar?.stop();
    await enricher.close?.();
  }
  const evaluation = evaluate(judged, policy);
  const charts = opts.out
    ? await writeOutputs(opts.out, evaluation, policy, opts.labels)
    : undefined;
  io.stdout(
    opts.json
      ? `${JSON.stringify({ ...summary(evaluation), ...(charts ? { charts } : {}) })}\n`
      : formatTable(evaluation, charts),
  );
  return evaluation;
}

async function readPolicyFile(file: string): Promise<JudgePolicy> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new PolicyError(
      `cannot read policy file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  try {
    return parsePolicy(JSON.parse(text));
  } catch (error) {
    if (error instanceof PolicyError) throw error;
    throw new PolicyError(`policy file ${file} is not valid JSON: ${(error as Error).message}`);
  }
}

/** The figures without the per-bin and per-threshold series (those go to --out). */
export function summary(e: Evaluation): Omit<Evaluation, "reliability" | "workload"> {
  const { reliability: _r, workload: _w, ...rest } = e;
  return rest;
}

/** OUT → OUT (full JSON report), OUT-minus-extension.reliability.svg and .workload.svg. */
async function writeOutputs(
  out: string,
  evaluation: Evaluation,
  policy: JudgePolicy,
  labels: string,
): Promise<{ report: string; reliability: string; workload: string }> {
  const stem = out.replace(/\.json$/i, "");
  const files = {
    report: out,
    reliability: `${stem}.reliability.svg`,
    workload: `${stem}.workload.svg`,
  };
  await mkdir(path.dirname(path.resolve(out)), { recursive: true });
  const note = `trendgate judge evaluate --labels ${path.basename(labels)} · ${evaluation.items} items (${evaluation.toxic} toxic) · policy ${policy.version}`;
  await writeFile(files.report, `${JSON.stringify({ ...evaluation, policy }, null, 2)}\n`);
  await writeFile(files.reliability, reliabilitySvg(evaluation, note));
  await writeFile(files.workload, workloadSvg(evaluation, policy.thresholds.minConfidence, note));
  return files;
}

export function formatTable(
  e: Evaluation,
  charts?: { report: string; reliability: string; workload: string },
): string {
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(4) : "–");
  const lines = [
    `items ${e.items} (${e.toxic} toxic, ${e.clean} clean) · policy ${e.policy_version}`,
    "",
    "figure                 value",
    `escalated_rate         ${f(e.escalated_rate)}`,
    `toxic_published_rate   ${f(e.toxic_published_rate)}`,
    `clean_rejected_rate    ${f(e.clean_rejected_rate)}`,
    `toxicity_auc           ${f(e.toxicity_auc)}`,
    `ece                    ${f(e.ece)}   (confidence vs automatic decision upheld, 10 bins)`,
    `toxicity_ece           ${f(e.toxicity_ece)}`,
    "",
    "rule                  outcome    items   share  toxic_share  escalated  toxic_pub  clean_rej  mean_conf  upheld  ece",
    ...e.rules.map((r) =>
      [
        r.rule.padEnd(21),
        r.outcome.padEnd(10),
        String(r.items).padStart(5),
        f(r.share).padStart(7),
        f(r.toxic_share).padStart(12),
        f(r.escalated_rate).padStart(10),
        f(r.toxic_published_rate).padStart(10),
        f(r.clean_rejected_rate).padStart(10),
        f(r.mean_confidence).padStart(10),
        f(r.upheld_rate).padStart(7),
        f(r.ece).padStart(7),
      ].join(" "),
    ),
  ];
  if (charts)
    lines.push(
      "",
      `report ${charts.report}`,
      `reliability diagram ${charts.reliability}`,
      `workload vs leak ${charts.workload}`,
    );
  return `${lines.join("\n")}\n`;
}
