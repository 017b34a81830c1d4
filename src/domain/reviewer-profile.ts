import { badInput } from "./domain-error.js";

/**
 * What routing knows of a reviewer (issue 14, item 1): the languages they read (ISO 639-1 codes;
 * none listed = any language), their skills (free labels the Judge policy's
 * `review.requiredSkill` names) and their capacity (escalations they may hold claimed at once).
 */
export interface ReviewerProfile {
  languages: readonly string[];
  skills: readonly string[];
  capacity: number;
}

export const DEFAULT_CAPACITY = 3;
export const MAX_CAPACITY = 1000;

export const ANY_REVIEWER: ReviewerProfile = {
  languages: [],
  skills: [],
  capacity: DEFAULT_CAPACITY,
};

/** ISO 639-1: two lowercase letters (the language detector's codes). */
const LANGUAGE = /^[a-z]{2}$/;
/** Skills travel in CLI flags and `+`-joined lists: no commas, colons, `+` or spaces. */
const SKILL = /^[a-z0-9][a-z0-9_.-]{0,63}$/;

/** One way to read a list from a flag or an entry: split, trim, lowercase, drop empties and duplicates. */
export function splitList(
  value: string | readonly string[] | undefined,
  separator: RegExp = /[,+]/,
): string[] {
  const parts = typeof value === "string" ? value.split(separator) : (value ?? []);
  return [...new Set(parts.map((p) => p.trim().toLowerCase()).filter(Boolean))];
}

/**
 * Validates and normalises a profile from any source (CLI, configured keys, tests); throws
 * BAD_USER_INPUT naming the field. Missing parts take the defaults of {@link ANY_REVIEWER}.
 */
export function reviewerProfile(input: {
  languages?: string | readonly string[];
  skills?: string | readonly string[];
  capacity?: number | string;
}): ReviewerProfile {
  const languages = splitList(input.languages);
  const badLanguage = languages.find((l) => !LANGUAGE.test(l));
  if (badLanguage !== undefined)
    throw badInput(
      "languages",
      `"${badLanguage}" is not an ISO 639-1 code (two letters, e.g. en, de)`,
    );
  const skills = splitList(input.skills);
  const badSkill = skills.find((s) => !SKILL.test(s));
  if (badSkill !== undefined)
    throw badInput("skills", `"${badSkill}": a skill holds a-z, 0-9, _ . - (at most 64)`);
  const capacity =
    input.capacity === undefined || input.capacity === ""
      ? DEFAULT_CAPACITY
      : Number(input.capacity);
  if (!Number.isInteger(capacity) || capacity < 1 || capacity > MAX_CAPACITY) {
    throw badInput("capacity", `must be a whole number from 1 to ${MAX_CAPACITY}`);
  }
  return { languages, skills, capacity };
}
