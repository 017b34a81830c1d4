import { readFile } from "node:fs/promises";

import type { Config } from "../../config.js";
import { openDatabase } from "../../db/database.js";
import { badInput } from "../../domain/domain-error.js";
import type { Enricher } from "../../nlp/enricher.js";
import { createLogger } from "../../observability/logger.js";
import { migrate } from "../../startup-checks.js";
import { loadEnricher } from "../stage-deps.js";
import { ActiveJudgePolicy } from "./active-policy.js";
import { readConfiguredPolicy } from "./configured-policy.js";
import {
  type CalibrationProposal,
  JudgePolicyService,
  type SimulationReport,
} from "./judge-policy-service.js";
import { parseLabelledJsonl } from "./labelled-rows.js";
import type { CalibrationFigures } from "./policy-calibration.js";

/** `trendgate judge simulate` and `trendgate judge calibrate`: thin over {@link JudgePolicyService}. */

export interface SimulateOptions {
  policy: string;
  since?: Date;
  json?: boolean;
}

export interface CalibrateOptions {
  targetLeak: number;
  labels?: string;
  json?: boolean;
}

export async function runJudgeSimulate(config: Config, opts: SimulateOptions): Promise<void> {
  const policy = await readJson(opts.policy, "--policy");
  await withPolicyService(config, async (service) => {
    const report = await service.simulate(policy, opts.since);
    write(opts.json ? JSON.stringify(report) : formatSimulation(report));
  });
}

export async function runJudgeCalibrate(config: Config, opts: CalibrateOptions): Promise<void> {
  const labels = opts.labels
    ? parseLabelledJsonl(await readText(opts.labels, "--labels"), opts.labels)
    : undefined;
  await withPolicyService(config, async (service) => {
    const proposal = await service.calibrate({ targetLeak: opts.targetLeak, labels });
    write(opts.json ? JSON.stringify(proposal) : formatCalibration(proposal));
    // A refusal is an answer, not a crash, but a script should be able to tell.
    if (!proposal.policy) process.exitCode = 3;
  });
}

async function withPolicyService(
  config: Config,
  fn: (service: JudgePolicyService) => Promise<void>,
): Promise<void> {
  const logger = createLogger("warn");
  const configured = readConfiguredPolicy(config, logger);
  await migrate(config, logger);
  const database = openDatabase(config.DATABASE_URL, { max: 2 });
  let enricher: Promise<Enricher> | undefined;
  try {
    const active = new ActiveJudgePolicy({ db: database.db, ...configured, logger });
    await fn(
      new JudgePolicyService({
        db: database.db,
        active,
        enricher: () => (enricher ??= loadEnricher(config)),
      }),
    );
  } finally {
    if (enricher) await (await enricher).close?.().catch(() => undefined);
    await database.close();
  }
}

export function formatSimulation(r: SimulationReport): string {
  const rows: [string, string | number, string | number][] = [
    ["published (no human)", r.active.published, r.proposed.published],
    ["rejected (no human)", r.active.rejected, r.proposed.rejected],
    ["escalated", r.active.escalated, r.proposed.escalated],
    ["escalation rate", pct(r.active.escalationRate), pct(r.proposed.escalationRate)],
    [
      "moderator REJECTED, would publish",
      r.active.moderatorRejectedPublished,
      r.proposed.moderatorRejectedPublished,
    ],
    [
      "moderator APPROVED, would reject",
      r.active.moderatorApprovedRejected,
      r.proposed.moderatorApprovedRejected,
    ],
  ];
  return [
    `${r.items} judged items since ${r.since.toISOString()} (${r.labelled} with a moderator decision), replayed in ${r.durationMs} ms`,
    table(["", `active (v${r.activeVersion})`, "proposed"], rows),
    `escalations removed: ${r.escalationsRemoved}   added: ${r.escalationsAdded}   decisions changed: ${r.changed}`,
    `recorded at the time: ${r.recorded.published} published, ${r.recorded.rejected} rejected, ${r.recorded.escalated} escalated`,
  ].join("\n");
}

export function formatCalibration(p: CalibrationProposal): string {
  const head = `${p.decisions} labelled decisions (${p.moderatorDecisions} moderator, ${p.auditDecisions} audit samples, ${p.labelledRows} label rows); target leak ${p.targetLeak}`;
  if (!p.policy)
    return [
      head,
      `no proposal: ${p.refusedReason}`,
      figuresTable(p.active, null, p.activeVersion),
    ].join("\n");
  const t = p.policy.thresholds;
  const lines = [
    head,
    `proposed thresholds: minConfidence ${t.minConfidence}, maxToxicity ${t.maxToxicity}, toxicityCeiling ${t.toxicityCeiling}`,
    figuresTable(p.active, p.proposed, p.activeVersion),
  ];
  if (p.simulation) lines.push("", "on the Judge's history:", formatSimulation(p.simulation));
  lines.push("", "policy JSON (apply with applyJudgePolicy):", JSON.stringify(p.policy));
  return lines.join("\n");
}

function figuresTable(
  active: CalibrationFigures,
  proposed: CalibrationFigures | null,
  version: number,
): string {
  const cell = (f: CalibrationFigures | null, pick: (f: CalibrationFigures) => number) =>
    f ? pct(pick(f)) : "-";
  return table(
    ["on labelled decisions", `active (v${version})`, "proposed"],
    [
      ["escalated", cell(active, (f) => f.escalatedRate), cell(proposed, (f) => f.escalatedRate)],
      [
        "toxic published",
        cell(active, (f) => f.toxicPublishedRate),
        cell(proposed, (f) => f.toxicPublishedRate),
      ],
      [
        "clean rejected",
        cell(active, (f) => f.cleanRejectedRate),
        cell(proposed, (f) => f.cleanRejectedRate),
      ],
    ],
  );
}

function table(header: string[], rows: (string | number)[][]): string {
  const all = [header, ...rows].map((r) => r.map(String));
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  return all
    .map((r) =>
      r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  "),
    )
    .join("\n");
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
const write = (text: string) => process.stdout.write(`${text}\n`);

async function readText(path: string, option: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    throw badInput(option, `cannot read ${path}: ${(error as Error).message}`);
  }
}

async function readJson(path: string, option: string): Promise<unknown> {
  const text = await readText(path, option);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw badInput(option, `${path} is not JSON: ${(error as Error).message}`);
  }
}
