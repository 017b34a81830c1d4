import {
  type BlacklistedTerm,
  type LiteralNode,
  type Node,
  type ParsedPattern,
  type SimpleTransformerContainer,
  SyntaxKind,
  type TransformerContainer,
} from "obscenity";

/**
 * A cheap, exact test for "obscenity's RegExpMatcher cannot find anything in this text", so the
 * matcher's full pass (whitelist scan, then one regex per term: ~0.2 ms on a news item, most of
 * it for texts with no match at all) runs only on texts that may hold a term.
 *
 * Exact because it repeats what RegExpMatcher.getAllMatches does before matching: the same
 * blacklist transformers applied code point by code point (as its TransformerSet does), and the
 * same term regexes (as its compilePatternToRegExp builds them), joined into one alternation.
 * getAllMatches reports a match only where one of those regexes matches the transformed text;
 * the whitelist can only remove matches. So when the alternation finds nothing, getAllMatches
 * returns []. When it finds something, the caller runs the real matcher, which decides.
 */
export class ProfanityPrefilter {
  private readonly pattern: RegExp | undefined;
  /** The simple (stateless) transformers before the first stateful one, composed, for ASCII. */
  private readonly asciiHead = new Int32Array(128);
  private readonly headLength: number;

  constructor(
    terms: readonly BlacklistedTerm[],
    private readonly transformers: readonly TransformerContainer[],
  ) {
    const sources = terms.map((t) => regExpSource(t.pattern));
    // A pattern this copy cannot compile as obscenity does: never skip the matcher.
    this.pattern = sources.includes(undefined)
      ? undefined
      : new RegExp(sources.map((s) => `(?:${s})`).join("|"), "s");
    let head = 0;
    while (head < transformers.length && isSimple(transformers[head])) head++;
    this.headLength = head;
    for (let c = 0; c < 128; c++) this.asciiHead[c] = this.applyHead(c) ?? -1;
  }

  /** False when the matcher would certainly find no term in `input`. */
  mayMatch(input: string): boolean {
    if (!this.pattern) return true;
    return this.pattern.test(this.transform(input));
  }

  /** The text the matcher's blacklist regexes run over (RegExpMatcher.applyTransformers). */
  transform(input: string): string {
    // Stateful transformers (collapseDuplicates) are made fresh per text, as the matcher resets them.
    const stateful = this.transformers.map((t) => (isSimple(t) ? undefined : t.factory()));
    const out: number[] = [];
    for (let i = 0; i < input.length; i++) {
      let char = input.charCodeAt(i);
      // A surrogate pair is one code point, as obscenity's CharacterIterator reads it.
      if (char >= 0xd800 && char <= 0xdbff && i + 1 < input.length) {
        const next = input.charCodeAt(i + 1);
        if (next >= 0xdc00 && next <= 0xdfff) {
          char = (char - 0xd800) * 0x400 + (next - 0xdc00) + 0x10000;
          i++;
        }
      }
      let value: number | undefined = char < 128 ? this.asciiHead[char] : this.applyHead(char);
      if (value === -1) value = undefined;
      for (let k = this.headLength; k < this.transformers.length && value !== undefined; k++) {
        const t = this.transformers[k];
        value = isSimple(t) ? t.transform(value) : stateful[k]?.transform(value);
      }
      if (value !== undefined) out.push(value);
    }
    return String.fromCodePoint(...out);
  }

  private applyHead(char: number): number | undefined {
    let value: number | undefined = char;
    for (let k = 0; k < this.headLength && value !== undefined; k++) {
      const t = this.transformers[k];
      if (isSimple(t)) value = t.transform(value);
    }
    return value;
  }
}

function isSimple(t: TransformerContainer | undefined): t is SimpleTransformerContainer {
  return t !== undefined && "transform" in t;
}

const REGEXP_SPECIAL = new Set([
  "[",
  ".",
  "*",
  "+",
  "?",
  "^",
  "$",
  "{",
  "}",
  "(",
  ")",
  "|",
  "\\",
  "]",
]);

/** The source of obscenity's compilePatternToRegExp(pattern), or undefined for a node it would not write. */
function regExpSource(pattern: ParsedPattern): string | undefined {
  let source = pattern.requireWordBoundaryAtStart ? "\\b" : "";
  for (const node of pattern.nodes) {
    const part = nodeSource(node);
    if (part === undefined) return undefined;
    source += part;
  }
  return pattern.requireWordBoundaryAtEnd ? `${source}\\b` : source;
}

function nodeSource(node: Node): string | undefined {
  switch (node.kind) {
    case SyntaxKind.Literal:
      return literalSource(node);
    case SyntaxKind.Optional: {
      const child = nodeSource(node.childNode);
      return child === undefined ? undefined : `(?:${child})?`;
    }
    case SyntaxKind.Wildcard:
      return ".";
    default:
      return undefined;
  }
}

function literalSource(node: LiteralNode): string {
  let source = "";
  for (const code of node.chars) {
    const char = String.fromCodePoint(code);
    source += REGEXP_SPECIAL.has(char) ? `\\${char}` : char;
  }
  return source;
}
