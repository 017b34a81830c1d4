/**
 * Text that Postgres accepts, whatever an integrator or a model produced.
 *
 * Two kinds of JavaScript string break a write: a lone UTF-16 surrogate (a cut emoji), which
 * JSON.stringify escapes as `\ud83d` and a jsonb column then refuses with 22P02 "invalid input
 * syntax for type json" (issue 12: emoji tweets and a 300-emoji body stuck in RECEIVED), and
 * U+0000, which neither text (22021) nor jsonb (22P05) columns can hold. Lone surrogates become
 * U+FFFD, as a UTF-8 decoder would show them; U+0000 is removed (an invisible character carries
 * no meaning, so refusing the whole item for it would only lose work).
 */

// A high surrogate not followed by a low one, or a low surrogate not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
// eslint-disable-next-line no-control-regex
const NUL = /\u0000/g;

/** The string with lone surrogates replaced by U+FFFD and U+0000 removed. */
export function toValidText(text: string): string {
  return text.replace(LONE_SURROGATE, "\uFFFD").replace(NUL, "");
}

/** Whether {@link toValidText} would leave the string as it is. */
export function isValidText(text: string): boolean {
  LONE_SURROGATE.lastIndex = 0;
  NUL.lastIndex = 0;
  const ok = !LONE_SURROGATE.test(text) && !NUL.test(text);
  LONE_SURROGATE.lastIndex = 0;
  NUL.lastIndex = 0;
  return ok;
}

/**
 * JSON for a json/jsonb column: every string (keys included) made valid first, so no value a
 * stage computes can turn a whole transaction into a 22P02 or 22P05.
 */
export function toValidJson(value: unknown): string {
  // Fast path: JSON.stringify writes a lone surrogate as \udXXX and U+0000 as \u0000, so JSON
  // without either escape came from valid strings only and is what the copy would give. (A
  // literal backslash-u in the text shows as \\u…, may match, and only costs the slow path.)
  const json = JSON.stringify(value ?? null) ?? "null";
  if (!ESCAPED_INVALID.test(json)) return json;
  return JSON.stringify(validDeep(value ?? null)) ?? "null";
}

const ESCAPED_INVALID = /\\u(?:0000|d[89a-f])/i;

function validDeep(value: unknown): unknown {
  if (typeof value === "string") return toValidText(value);
  if (Array.isArray(value)) return value.map(validDeep);
  if (value === null || typeof value !== "object" || value instanceof Date) return value;
  // toJSON-bearing objects (Dates handled above) serialize as they would without us.
  if (typeof (value as { toJSON?: unknown }).toJSON === "function") return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [toValidText(k), validDeep(v)]));
}

const graphemes = new Intl.Segmenter(undefined, { granularity: "grapheme" });

/**
 * The longest prefix of `text` of at most `maxChars` UTF-16 code units that ends on a grapheme
 * boundary: never half a surrogate pair, never a family emoji without its last member, never a
 * letter without its combining accent.
 */
export function truncateGraphemes(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  if (maxChars <= 0) return "";
  let end = 0;
  // Segments are visited from the start, so only the prefix is segmented.
  for (const { index, segment } of graphemes.segment(text)) {
    if (index + segment.length > maxChars) break;
    end = index + segment.length;
  }
  return text.slice(0, end);
}
