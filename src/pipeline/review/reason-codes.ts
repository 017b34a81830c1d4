import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

import { z } from "zod";

import { badInput } from "../../domain/domain-error.js";

/**
 * The reason-code taxonomy (issue 14, item 5): why a reviewer decided as they did, as a stable
 * code that travels with the decision into provenance, the publication, webhooks and the
 * `hitl:resolution` event. The default set is the EU DSA statement-of-reasons categories
 * (data/reason-codes.json); REASON_CODES_PATH replaces it with a deployment's own file.
 */
export type ReviewDecision = "APPROVE" | "REJECT";

const codeSchema = z.object({
  code: z.string().regex(/^[A-Z][A-Z0-9_]{1,63}$/, "must be UPPER_SNAKE_CASE, 2-64 characters"),
  label: z.string().min(1),
  description: z.string().optional(),
  dsaCategory: z.string().optional(),
  /** The decisions the code may justify. */
  decisions: z.array(z.enum(["APPROVE", "REJECT"])).min(1),
});

const taxonomySchema = z.object({
  version: z.string().min(1),
  source: z.string().optional(),
  codes: z.array(codeSchema).min(1),
});

export type ReasonCode = z.infer<typeof codeSchema>;
export type ReasonCodeTaxonomyFile = z.infer<typeof taxonomySchema>;

/** The code a deadline's default action records (reserved: accepted from `system:deadline` only). */
export const DEADLINE_REASON_CODE = "DEADLINE_DEFAULT";

export const DEFAULT_REASON_CODES_PATH = fileURLToPath(
  new URL("./data/reason-codes.json", import.meta.url),
);

/** A taxonomy file that cannot be used; raised at start, so a bad file stops the process. */
export class ReasonCodesError extends Error {
  readonly code = "REASON_CODES_INVALID";
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`REASON_CODES_PATH ${path}: ${message}`);
    this.name = "ReasonCodesError";
  }
}

export class ReasonCodeTaxonomy {
  private readonly byCode: ReadonlyMap<string, ReasonCode>;

  constructor(readonly file: ReasonCodeTaxonomyFile) {
    this.byCode = new Map(file.codes.map((c) => [c.code, c]));
  }

  get version(): string {
    return this.file.version;
  }

  list(decision?: ReviewDecision): ReasonCode[] {
    return this.file.codes.filter((c) => !decision || c.decisions.includes(decision));
  }

  get(code: string): ReasonCode | undefined {
    return this.byCode.get(code);
  }

  /**
   * The one validation of a decision's reason code: REJECT requires a known code, a code given
   * with APPROVE must be known too, and a code must fit the decision. Returns the code to store
   * (null for an APPROVE without one); throws BAD_USER_INPUT (field `input.reasonCode`).
   */
  validate(decision: ReviewDecision, reasonCode: string | null | undefined): string | null {
    const code = reasonCode?.trim() || null;
    if (code === null) {
      if (decision === "REJECT")
        throw badInput(
          "input.reasonCode",
          "a REJECT needs a reason code (see the reasonCodes query)",
        );
      return null;
    }
    const known = this.byCode.get(code);
    if (!known)
      throw badInput(
        "input.reasonCode",
        `unknown reason code "${code.slice(0, 64)}" (see the reasonCodes query)`,
      );
    if (code === DEADLINE_REASON_CODE)
      throw badInput("input.reasonCode", `${code} is reserved for the deadline's default action`);
    if (!known.decisions.includes(decision)) {
      throw badInput(
        "input.reasonCode",
        `${code} does not justify ${decision} (it applies to ${known.decisions.join(", ")})`,
      );
    }
    return code;
  }
}

/** Parses a taxonomy document; codes must be unique. */
export function parseReasonCodes(json: unknown, path = "reason codes"): ReasonCodeTaxonomy {
  const parsed = taxonomySchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ReasonCodesError(path, `${issue.path.join(".") || "(root)"}: ${issue.message}`);
  }
  const seen = new Set<string>();
  for (const c of parsed.data.codes) {
    if (seen.has(c.code)) throw new ReasonCodesError(path, `code ${c.code} appears twice`);
    seen.add(c.code);
  }
  return new ReasonCodeTaxonomy(parsed.data);
}

/** Reads REASON_CODES_PATH (or the shipped DSA set); throws {@link ReasonCodesError}. */
export function loadReasonCodes(path: string | undefined): ReasonCodeTaxonomy {
  const file = path ?? DEFAULT_REASON_CODES_PATH;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new ReasonCodesError(file, `cannot read it as JSON (${(error as Error).message})`);
  }
  return parseReasonCodes(json, file);
}
