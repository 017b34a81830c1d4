import { truncateGraphemes } from "../domain/valid-text.js";

/**
 * Text normalization shared by every NLP step: the enricher, the classifiers' training scripts
 * and the embedders all see the same cleaned text, so a model never meets markup at run time
 * that it did not meet in training.
 */

const NAMED_ENTITIES: Readonly<Record<string, string>> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: " ",
  ensp: " ",
  emsp: " ",
  thinsp: " ",
  hellip: "…",
  mdash: "—",
  ndash: "–",
  lsquo: "‘",
  rsquo: "’",
  sbquo: "‚",
  ldquo: "“",
  rdquo: "”",
  bdquo: "„",
  laquo: "«",
  raquo: "»",
  bull: "•",
  middot: "·",
  copy: "©",
  reg: "®",
  trade: "™",
  deg: "°",
  euro: "€",
  pound: "£",
  yen: "¥",
  cent: "¢",
  sect: "§",
  para: "¶",
  times: "×",
  divide: "÷",
  plusmn: "±",
  frac12: "½",
  frac14: "¼",
  frac34: "¾",
  iexcl: "¡",
  iquest: "¿",
  shy: "",
  zwnj: "",
  zwj: "",
  szlig: "ß",
  AElig: "Æ",
  aelig: "æ",
  Oslash: "Ø",
  oslash: "ø",
  ETH: "Ð",
  eth: "ð",
  THORN: "Þ",
  thorn: "þ",
};

// Latin letters with diacritics (&eacute;, &Uuml;, &ccedil;, ...), built from combining marks
// rather than listed one by one.
const ACCENTS: Readonly<Record<string, string>> = {
  acute: "\u0301",
  grave: "\u0300",
  circ: "\u0302",
  tilde: "\u0303",
  uml: "\u0308",
  ring: "\u030A",
  cedil: "\u0327",
};
const ACCENTED: Record<string, string> = {};
for (const letter of "aeiouycnAEIOUYCN") {
  for (const [accent, mark] of Object.entries(ACCENTS)) {
    const composed = `${letter}${mark}`.normalize("NFC");
    if (composed.length === 1) ACCENTED[`${letter}${accent}`] = composed;
  }
}

// Elements whose content is never readable text.
const INVISIBLE_BLOCKS = /<(script|style|noscript|template|svg|head)\b[^>]*>[\s\S]*?<\/\1\s*>/gi;
const COMMENTS = /<!--[\s\S]*?-->/g;
const CDATA = /<!\[CDATA\[([\s\S]*?)\]\]>/g;
// A tag: `<` followed by a letter, `/` or `!`, so "a < b" in plain text survives.
const TAG = /<\/?[a-zA-Z!][^<>]*>/g;
// Markdown links and images keep their visible text only.
const MD_LINK = /!?\[([^\]\n]*)\]\((?:[^()\s]+|\([^()]*\))*(?:\s+"[^"]*")?\)/g;
const MD_EMPHASIS = /(\*\*|__)(?=\S)([^\n]*?\S)\1/g;
const ENTITY = /&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|[a-zA-Z][a-zA-Z0-9]{1,31});/g;
// Zero-width and BOM characters split words invisibly and defeat lexicons ("k\u200bill").
const INVISIBLE_CHARS = /[\u200B-\u200D\u2060\uFEFF\u00AD]/g;
// Control characters other than whitespace.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u0008\u000B\u000E-\u001F\u007F]/g;

function decodeEntity(match: string, body: string): string {
  if (body.startsWith("#")) {
    const code =
      body[1] === "x" || body[1] === "X"
        ? parseInt(body.slice(2), 16)
        : parseInt(body.slice(1), 10);
    if (
      !Number.isFinite(code) ||
      code <= 0 ||
      code > 0x10ffff ||
      (code >= 0xd800 && code <= 0xdfff)
    )
      return " ";
    return String.fromCodePoint(code);
  }
  return NAMED_ENTITIES[body] ?? ACCENTED[body] ?? NAMED_ENTITIES[body.toLowerCase()] ?? match;
}

/** Removes HTML/XML markup and light Markdown, keeping only the readable text. */
export function stripMarkup(input: string): string {
  return (
    input
      .replace(COMMENTS, " ")
      .replace(CDATA, " $1 ")
      .replace(INVISIBLE_BLOCKS, " ")
      // Tags become a space so "<p>one</p><p>two</p>" does not read as "onetwo".
      .replace(TAG, " ")
      .replace(MD_LINK, "$1")
      .replace(MD_EMPHASIS, "$2")
      // Decoded after tags are gone, so an escaped "&lt;b&gt;" stays visible text.
      .replace(ENTITY, decodeEntity)
  );
}

/**
 * Cuts `text` to at most `maxChars` UTF-16 code units at a word boundary. Falls back to a hard
 * cut when the only boundary would throw away more than half; that cut never falls inside a
 * grapheme (no half surrogate pair, no emoji sequence cut short).
 */
export function cutAtWordBoundary(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  if (maxChars <= 0) return "";
  // The character right after the cut tells whether the cut already falls between words.
  if (/\s/.test(text.charAt(maxChars))) return text.slice(0, maxChars).trimEnd();
  const head = text.slice(0, maxChars);
  const lastSpace = head.search(/\s\S*$/);
  if (lastSpace >= maxChars / 2) return head.slice(0, lastSpace).trimEnd();
  return truncateGraphemes(text, maxChars).trimEnd();
}

/**
 * Strips HTML/markup (tags removed, entities decoded), applies Unicode NFC, collapses every run
 * of whitespace to one space, trims, and cuts to `maxChars` at a word boundary.
 */
export function normalizeText(input: string, maxChars: number): string {
  const text = stripMarkup(input)
    .normalize("NFC")
    .replace(INVISIBLE_CHARS, "")
    .replace(CONTROL_CHARS, " ")
    .replace(/\s+/g, " ")
    .trim();
  return cutAtWordBoundary(text, Math.max(0, Math.floor(maxChars)));
}
