import { z } from "zod";

import { ISSUE_TYPES, type IssueType } from "../../db/types.js";
import { compileLinearPattern, matchesLinearPattern } from "./linear-pattern.js";

/**
 * Default reject-outright threshold on the calibrated P(toxic): the lowest ceiling that rejected
 * at most 0.75 % of the clean tweets out-of-fold (0.74 %, against 0.82 % at 0.99 and 1.37 % at
 * 0.97; a margin under the 1 % target for samples of ~1,000 clean items), chosen by
 * src/nlp/train/train-toxicity.ts for toxicity-v4; src/nlp/README.md has the grid and what it
 * costs in escalations.
 */
export const DEFAULT_TOXICITY_CEILING = 0.991;

/** Issue type keys as the API spells them (TOXICITY) or as stored (toxicity); kept lowercase. */
const byIssueType = <T extends z.ZodTypeAny>(value: T) =>
  z
    .record(z.string(), value)
    .superRefine((map, ctx) => {
      for (const key of Object.keys(map)) {
        if (!(ISSUE_TYPES as readonly string[]).includes(key.toLowerCase())) {
          ctx.addIssue({
            code: "custom",
            path: [key],
            message: `unknown issue type (one of ${ISSUE_TYPES.join(", ")})`,
          });
        }
      }
    })
    .transform(
      (map) =>
        Object.fromEntries(Object.entries(map).map(([k, v]) => [k.toLowerCase(), v])) as Partial<
          Record<IssueType, z.infer<T>>
        >,
    );

const skillLabel = z.string().trim().min(1).max(64);

/**
 * Who reviews what (issue 14): how many agreeing reviews an issue type needs (default 1), which
 * skill its reviewers must hold (default none), and which skill decides, finally, when reviewers
 * disagree (null: reviews go on until `requiredReviews` of them agree).
 */
export const reviewSchema = z
  .object({
    requiredReviews: byIssueType(z.number().int().min(1).max(9)).default({}),
    requiredSkill: byIssueType(skillLabel).default({}),
    escalateDisagreementTo: skillLabel.nullable().default(null),
  })
  .strict();

export type ReviewPolicy = z.infer<typeof reviewSchema>;

/**
 * The Judge's rules (DESIGN.md): a policy violation rejects the item and opens an incident; an
 * unsure or toxic item goes to a human; everything else is READY. Pure: the worker feeds it the
 * enriched trend and writes what it decides.
 */
export const policySchema = z
  .object({
    version: z.string().default("1"),
    thresholds: z
      .object({
        /** Below this confidence a human decides. */
        minConfidence: z.number().min(0).max(1).default(0.6),
        /** Above this toxicity a human decides. */
        maxToxicity: z.number().min(0).max(1).default(0.8),
        /** At or above this toxicity the item is rejected outright (a policy violation). */
        toxicityCeiling: z.number().min(0).max(1).default(DEFAULT_TOXICITY_CEILING),
      })
      .strict()
      .default({ minConfidence: 0.6, maxToxicity: 0.8, toxicityCeiling: DEFAULT_TOXICITY_CEILING }),
    blockedTerms: z.array(z.string().min(1)).default([]),
    /** Regular expressions (RE2 syntax: linear time, no backreferences or lookaround; case-insensitive). */
    blockedPatterns: z.array(z.string().min(1)).default([]),
    blockedSources: z.array(z.string().min(1)).default([]),
    review: reviewSchema.default({
      requiredReviews: {},
      requiredSkill: {},
      escalateDisagreementTo: null,
    }),
  })
  .strict()
  .superRefine((policy, ctx) => {
    policy.blockedPatterns.forEach((pattern, index) => {
      try {
        compileLinearPattern(pattern);
      } catch (error) {
        ctx.addIssue({
          code: "custom",
          path: ["blockedPatterns", index],
          message: `not a regular expression RE2 runs in linear time (no backreferences or lookaround): ${(error as Error).message}`,
        });
      }
    });
    if (policy.thresholds.toxicityCeiling < policy.thresholds.maxToxicity) {
      ctx.addIssue({
        code: "custom",
        path: ["thresholds", "toxicityCeiling"],
        message: "must be at least thresholds.maxToxicity",
      });
    }
  });

export type JudgePolicy = z.infer<typeof policySchema>;

/**
 * The automatic decision's boundary: an item whose calibrated P(toxic) reaches it is never
 * published without a human. Fixed, not a policy knob: `confidence` is calibrated as the chance
 * that the decision "publish below 0.5, reject at or above" is upheld, so moving it would
 * silently break what `confidence` means.
 */
export const LEANS_TOXIC = 0.5;

export class PolicyError extends Error {
  readonly code = "POLICY_INVALID";
  constructor(message: string) {
    super(message);
    this.name = "PolicyError";
  }
}

/** Validates a policy object; throws {@link PolicyError} naming each bad path. */
export function parsePolicy(input: unknown): JudgePolicy {
  const parsed = policySchema.safeParse(input);
  if (!parsed.success) {
    throw new PolicyError(
      `invalid judge policy: ${parsed.error.issues
        .map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`)
        .join("; ")}`,
    );
  }
  return parsed.data;
}

export function defaultPolicy(
  overrides: { minConfidence?: number; maxToxicity?: number } = {},
): JudgePolicy {
  return parsePolicy({
    thresholds: {
      minConfidence: overrides.minConfidence ?? 0.6,
      maxToxicity: overrides.maxToxicity ?? 0.8,
      toxicityCeiling: Math.max(DEFAULT_TOXICITY_CEILING, overrides.maxToxicity ?? 0.8),
    },
  });
}

export interface JudgeInput {
  source: string;
  title: string | null;
  body: string;
  toxicityScore: number;
  confidence: number;
}

export type JudgeDecision =
  | { outcome: "REJECTED"; rule: string; reason: string }
  | { outcome: "ESCALATED"; rule: string; reason: string; issueType: IssueType }
  | { outcome: "READY"; rule: string; reason: string };

/** Applies the policy; the first rule that fires decides, in the order of DESIGN.md. */
export function judge(input: JudgeInput, policy: JudgePolicy): JudgeDecision {
  const { thresholds } = policy;
  if (policy.blockedSources.includes(input.source)) {
    return {
      outcome: "REJECTED",
      rule: "blocked_source",
      reason: `source "${input.source}" is blocked`,
    };
  }
  const text = `${input.title ?? ""}\n${input.body}`;
  const lower = text.toLowerCase();
  const term = policy.blockedTerms.find((t) => containsWord(lower, t.toLowerCase()));
  if (term !== undefined) {
    return { outcome: "REJECTED", rule: "blocked_term", reason: `contains blocked term "${term}"` };
  }
  const pattern = policy.blockedPatterns.find((p) => matchesLinearPattern(p, text));
  if (pattern !== undefined) {
    return {
      outcome: "REJECTED",
      rule: "blocked_pattern",
      reason: `matches blocked pattern /${pattern}/`,
    };
  }
  if (input.toxicityScore >= thresholds.toxicityCeiling) {
    return {
      outcome: "REJECTED",
      rule: "toxicity_ceiling",
      reason: `toxicity ${fmt(input.toxicityScore)} >= ceiling ${fmt(thresholds.toxicityCeiling)}`,
    };
  }
  if (input.toxicityScore > thresholds.maxToxicity) {
    return {
      outcome: "ESCALATED",
      issueType: "toxicity",
      rule: "toxicity_threshold",
      reason: `toxicity ${fmt(input.toxicityScore)} > ${fmt(thresholds.maxToxicity)}`,
    };
  }
  if (input.confidence < thresholds.minConfidence) {
    return {
      outcome: "ESCALATED",
      issueType: "low_confidence",
      rule: "confidence_threshold",
      reason: `confidence ${fmt(input.confidence)} < ${fmt(thresholds.minConfidence)}`,
    };
  }
  // toxicityScore is a calibrated P(toxic): at 0.5 or more the model thinks the item more likely
  // toxic than not, so publishing it automatically would be a bet against the model. Below the
  // ceiling it is not clear enough to reject either: a human decides.
  if (input.toxicityScore >= LEANS_TOXIC) {
    return {
      outcome: "ESCALATED",
      issueType: "toxicity",
      rule: "leans_toxic",
      reason: `toxicity ${fmt(input.toxicityScore)} >= ${fmt(LEANS_TOXIC)}: more likely toxic than not`,
    };
  }
  return {
    outcome: "READY",
    rule: "within_thresholds",
    reason: `confidence ${fmt(input.confidence)} >= ${fmt(thresholds.minConfidence)} and toxicity ${fmt(input.toxicityScore)} < ${fmt(LEANS_TOXIC)}`,
  };
}

function containsWord(haystack: string, needle: string): boolean {
  const escaped = needle.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`(^|[^\\p{L}\\p{N}])${escaped}($|[^\\p{L}\\p{N}])`, "u").test(haystack);
}

const fmt = (n: number) => n.toFixed(3);
