import { ISSUE_TYPES, type IssueType } from "../../db/types.js";

/**
 * Deadline ladders (issue 14, item 4): per issue type, what happens while an escalation waits.
 * `ESCALATION_DEADLINES=TOXICITY:alert@15m,reassign:senior@30m,default:REJECT@2h;APPEAL:alert@1h`
 *
 * - a token `<ISSUE_TYPE>:<rung>` starts that type's ladder; tokens after it without a type
 *   prefix are its further rungs (`;` may separate ladders for readability);
 * - rungs: `alert@<d>` (operator alert + `escalation.deadline` webhook), `reassign:<skill>@<d>`
 *   (only reviewers with the skill may take it from then on), `default:<REJECT|APPROVE|KEEP_WAITING>@<d>`
 *   (the decision `system:deadline` records; KEEP_WAITING records that nobody decided and leaves
 *   it open). `<d>` is the escalation's age: `90s`, `15m`, `2h`, `1d` or milliseconds.
 * - rungs are in increasing age, at most one default, and it is the last rung.
 */
export type DefaultAction = "REJECT" | "APPROVE" | "KEEP_WAITING";

export type DeadlineRung =
  | { kind: "alert"; afterMs: number; rule: string }
  | { kind: "reassign"; skill: string; afterMs: number; rule: string }
  | { kind: "default"; action: DefaultAction; afterMs: number; rule: string };

export type DeadlineLadders = Partial<Record<IssueType, readonly DeadlineRung[]>>;

/** A ladder that does not parse; `token` is the piece at fault. */
export class DeadlineConfigError extends Error {
  readonly code = "DEADLINE_CONFIG_INVALID";
  constructor(
    readonly token: string,
    message: string,
  ) {
    super(`"${token}": ${message}`);
    this.name = "DeadlineConfigError";
  }
}

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

function parseDuration(token: string, text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!match)
    throw new DeadlineConfigError(
      token,
      `"${text}" is not a duration (90s, 15m, 2h, 1d or milliseconds)`,
    );
  const ms = Number(match[1]) * UNIT_MS[(match[2] ?? "ms") as keyof typeof UNIT_MS];
  if (!Number.isFinite(ms) || ms <= 0)
    throw new DeadlineConfigError(token, "a deadline must be after 0");
  return Math.round(ms);
}

function issueTypeOf(word: string): IssueType | undefined {
  const lower = word.toLowerCase();
  return (ISSUE_TYPES as readonly string[]).includes(lower) ? (lower as IssueType) : undefined;
}

function parseRung(token: string, text: string): DeadlineRung {
  const at = text.lastIndexOf("@");
  if (at < 0) throw new DeadlineConfigError(token, "a rung needs @<age>, e.g. alert@15m");
  const action = text.slice(0, at).trim();
  const afterMs = parseDuration(token, text.slice(at + 1));
  const [verb, argument, extra] = action.split(":").map((s) => s.trim());
  if (extra !== undefined) throw new DeadlineConfigError(token, "too many ':'");
  switch (verb?.toLowerCase()) {
    case "alert":
      if (argument !== undefined) throw new DeadlineConfigError(token, "alert takes no argument");
      return { kind: "alert", afterMs, rule: text.trim() };
    case "reassign":
      if (!argument || !/^[\w.-]{1,64}$/.test(argument))
        throw new DeadlineConfigError(token, "reassign needs a skill: reassign:<skill>@<age>");
      return { kind: "reassign", skill: argument, afterMs, rule: text.trim() };
    case "default": {
      const a = argument?.toUpperCase();
      if (a !== "REJECT" && a !== "APPROVE" && a !== "KEEP_WAITING") {
        throw new DeadlineConfigError(token, "default needs REJECT, APPROVE or KEEP_WAITING");
      }
      return { kind: "default", action: a, afterMs, rule: text.trim() };
    }
    default:
      throw new DeadlineConfigError(
        token,
        `unknown rung "${verb}" (alert, reassign:<skill>, default:<action>)`,
      );
  }
}

/** Parses ESCALATION_DEADLINES; throws {@link DeadlineConfigError} at the first bad token. */
export function parseDeadlineLadders(value: string): DeadlineLadders {
  const ladders: Partial<Record<IssueType, DeadlineRung[]>> = {};
  let current: DeadlineRung[] | undefined;
  for (const group of value.split(";")) {
    current = undefined;
    for (const raw of group.split(",")) {
      const token = raw.trim();
      if (!token) continue;
      const colon = token.indexOf(":");
      const type = colon > 0 ? issueTypeOf(token.slice(0, colon)) : undefined;
      let rungText = token;
      if (type) {
        if (ladders[type]) throw new DeadlineConfigError(token, `${type} has two ladders`);
        current = ladders[type] = [];
        rungText = token.slice(colon + 1);
      } else if (!current) {
        throw new DeadlineConfigError(
          token,
          `a ladder starts with an issue type (${ISSUE_TYPES.map((t) => t.toUpperCase()).join(", ")})`,
        );
      }
      const rung = parseRung(token, rungText);
      const previous = current.at(-1);
      if (previous?.kind === "default")
        throw new DeadlineConfigError(token, "the default action is the last rung");
      if (previous && rung.afterMs <= previous.afterMs)
        throw new DeadlineConfigError(token, "rungs must come in increasing age");
      current.push(rung);
    }
  }
  return ladders;
}

/** The rungs due at `ageMs` that have not fired, in order (`fired` = rung indexes already fired). */
export function dueRungs(
  ladder: readonly DeadlineRung[],
  ageMs: number,
  fired: ReadonlySet<number>,
): { index: number; rung: DeadlineRung }[] {
  return ladder.flatMap((rung, index) =>
    rung.afterMs <= ageMs && !fired.has(index) ? [{ index, rung }] : [],
  );
}
