import type { Db } from "../../db/database.js";
import type { JudgePolicyRow } from "../../db/types.js";
import { badInput } from "../../domain/domain-error.js";
import type { Enricher } from "../../nlp/enricher.js";
import type { ActiveJudgePolicy } from "./active-policy.js";
import { loadJudgedItems } from "./history-queries.js";
import { type JudgePolicy, policySchema } from "./judge-policy.js";
import { judgeStats, type JudgeStatsBucket } from "./judge-stats-queries.js";
import type { LabelledRow } from "./labelled-rows.js";
import {
  type CalibrationFigures,
  type LabelledExample,
  proposeThresholds,
} from "./policy-calibration.js";
import { appendPolicyVersion, latestPolicyVersion, policyHistory } from "./policy-queries.js";
import { type PolicySimulation, simulatePolicy } from "./policy-simulation.js";

/** How far back simulation and calibration look when not told (and what apply simulates on). */
export const DEFAULT_HISTORY_DAYS = 30;

export interface SimulationReport extends PolicySimulation {
  since: Date;
  activeVersion: number;
  durationMs: number;
}

export interface CalibrationProposal {
  targetLeak: number;
  /** Labelled examples used: moderator decisions (audit samples included) plus file rows. */
  decisions: number;
  moderatorDecisions: number;
  auditDecisions: number;
  labelledRows: number;
  policy: JudgePolicy | null;
  refusedReason: string | null;
  activeVersion: number;
  active: CalibrationFigures;
  proposed: CalibrationFigures | null;
  /** The proposal replayed on the Judge's history beside the active policy. */
  simulation: SimulationReport | null;
}

/**
 * The Judge policy's lifecycle: the active version, its history, applying a new one (an audited
 * operator action carrying its simulation), simulating a proposal on history, proposing
 * thresholds from labelled decisions, and the Judge's figures over time. Resolvers and the CLI
 * call this; SQL lives in the query modules, the arithmetic in pure modules.
 */
export class JudgePolicyService {
  constructor(
    private readonly deps: {
      db: Db;
      active: ActiveJudgePolicy;
      /** Scores --labels rows; loaded only when rows are given. */
      enricher?: () => Promise<Enricher>;
      now?: () => Date;
    },
  ) {}

  /** The version in force (the configured policy is stored as the first one if none is). */
  async activeVersion(): Promise<JudgePolicyRow> {
    await this.deps.active.current();
    const row = await latestPolicyVersion(this.deps.db);
    if (!row) throw new Error("no judge policy version stored");
    return row;
  }

  async history(first: number): Promise<JudgePolicyRow[]> {
    await this.deps.active.current();
    return policyHistory(this.deps.db, Math.min(Math.max(first, 1), 500));
  }

  /**
   * Stores `input` as the next version with who applied it, why, and its simulation on the last
   * {@link DEFAULT_HISTORY_DAYS} days. An invalid policy or an empty justification changes nothing.
   */
  async apply(
    input: unknown,
    justification: string,
    by: { keyId: string; name: string },
  ): Promise<JudgePolicyRow> {
    const policy = validatePolicyInput(input);
    if (justification.trim() === "")
      throw badInput("justification", "must say why the policy changes");
    const simulation = await this.simulateParsed(policy);
    const row = await appendPolicyVersion(this.deps.db, {
      policy,
      origin: "operator",
      createdBy: by,
      justification: justification.trim(),
      simulation,
    });
    this.deps.active.invalidate();
    return row;
  }

  /** Re-decides judged items since `since` with `input` beside the active policy; no writes. */
  async simulate(input: unknown, since?: Date | null): Promise<SimulationReport> {
    return this.simulateParsed(validatePolicyInput(input), since ?? undefined);
  }

  async calibrate(options: {
    targetLeak: number;
    labels?: readonly LabelledRow[];
    since?: Date;
  }): Promise<CalibrationProposal> {
    if (!(options.targetLeak > 0 && options.targetLeak < 1))
      throw badInput("targetLeak", "must be between 0 and 1 (exclusive)");
    const { version, policy: active } = await this.deps.active.current();
    const since = options.since ?? this.defaultSince();
    const items = await loadJudgedItems(this.deps.db, since);
    const decided: LabelledExample[] = [];
    for (const item of items) {
      if (!item.moderatorDecision) continue;
      decided.push({
        source: item.source,
        title: item.title,
        body: item.body,
        toxicityScore: item.toxicityScore,
        confidence: item.confidence,
        toxic: item.moderatorDecision === "REJECT",
        origin: item.issueType === "audit_sample" ? "audit" : "moderator",
      });
    }
    const fromFile = await this.scoreRows(options.labels ?? []);
    const examples = [...decided, ...fromFile];
    const proposal = await proposeThresholds(examples, active, options.targetLeak);
    const auditDecisions = decided.filter((e) => e.origin === "audit").length;
    return {
      targetLeak: options.targetLeak,
      decisions: examples.length,
      moderatorDecisions: decided.length - auditDecisions,
      auditDecisions,
      labelledRows: fromFile.length,
      policy: proposal.policy,
      refusedReason: proposal.refusedReason,
      activeVersion: version,
      active: proposal.active,
      proposed: proposal.proposed,
      simulation: proposal.policy ? await this.simulateParsed(proposal.policy, since) : null,
    };
  }

  async stats(since: Date | null | undefined, bucketMinutes: number): Promise<JudgeStatsBucket[]> {
    if (!Number.isInteger(bucketMinutes) || bucketMinutes < 1 || bucketMinutes > 7 * 24 * 60) {
      throw badInput("bucketMinutes", "must be a whole number of minutes from 1 to 10080");
    }
    const from = since ?? new Date(this.now().getTime() - 24 * 3600_000);
    return judgeStats(this.deps.db, from, bucketMinutes);
  }

  private async simulateParsed(proposed: JudgePolicy, since?: Date): Promise<SimulationReport> {
    const started = performance.now();
    const { version, policy: active } = await this.deps.active.current();
    const from = since ?? this.defaultSince();
    const items = await loadJudgedItems(this.deps.db, from);
    const result = simulatePolicy(items, active, proposed);
    return {
      since: from,
      activeVersion: version,
      ...result,
      durationMs: Math.round((performance.now() - started) * 10) / 10,
    };
  }

  private async scoreRows(rows: readonly LabelledRow[]): Promise<LabelledExample[]> {
    if (rows.length === 0) return [];
    if (!this.deps.enricher) throw new Error("labelled rows need an enricher");
    const enricher = await this.deps.enricher();
    const out: LabelledExample[] = [];
    for (const row of rows) {
      const e = await enricher.enrich({ source: "labels", body: row.text });
      out.push({
        source: "labels",
        title: null,
        body: e.normalizedBody,
        toxicityScore: e.toxicityScore,
        confidence: e.confidence,
        toxic: row.label === "toxic",
        origin: "file",
      });
    }
    return out;
  }

  private defaultSince(): Date {
    return new Date(this.now().getTime() - DEFAULT_HISTORY_DAYS * 24 * 3600_000);
  }

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }
}

/** Parses a policy from the API; BAD_USER_INPUT names the first bad field (`policy.thresholds.minConfidence`). */
export function validatePolicyInput(input: unknown): JudgePolicy {
  const parsed = policySchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const unknownKeys = issue.code === "unrecognized_keys" ? issue.keys : [];
  const path = [...issue.path, ...unknownKeys.slice(0, 1)].map(String);
  throw badInput(["policy", ...path].join("."), issue.message);
}
