import fc from "fast-check";
import {
  type GraphQLArgument,
  type GraphQLInputType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isScalarType,
} from "graphql";

/**
 * fast-check arbitraries for GraphQL arguments, derived from the built schema: every argument of
 * every operation gets values of its declared type with the edge cases that broke real systems
 * (issue 12) — lone surrogates, U+0000, bidi controls, zero-width characters, emoji sequences,
 * 50k-character strings, numbers at and past the limits — and, now and then, a value of the
 * wrong type or a missing required one, which must come back as BAD_USER_INPUT, never a 500.
 */

export const EDGE_STRINGS: readonly string[] = [
  "",
  " ",
  "\u0000",
  "nul\u0000inside",
  "\uD83D",
  "lone \uDE00 low",
  "😀".repeat(300),
  "👨‍👩‍👧‍👦 family, 🏳️‍🌈 flag, 👍🏽 tone",
  "\u202Eevil\u202C \u2066isolate\u2069 \u200F",
  "zero\u200Bwidth\u200C\u200D\uFEFF\u2060",
  "e\u0301 combining \u0301\u0301\u0301",
  "x".repeat(50_000),
  `${"word ".repeat(9_999)}😀`,
  "'; DROP TABLE enriched_trends; --",
  "%s%n%x {{7*7}} ${7*7}",
  "<script>alert(1)</script>",
  "null",
  "-1",
  "1e309",
  "00000000-0000-0000-0000-000000000000",
  "\\u0000 \\ud800 (escaped text, not characters)",
  "\r\n\t\u000B\u001F\u007F",
  "trend:ingest:stream",
  "1700000000000-0",
];

export const stringArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...EDGE_STRINGS) },
  { weight: 3, arbitrary: fc.string({ unit: "binary", maxLength: 60 }) },
  { weight: 2, arbitrary: fc.string({ unit: "grapheme", maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 20 }) },
);

const intArb = fc.oneof(
  fc.constantFrom(
    0,
    -1,
    1,
    2,
    100,
    101,
    500,
    501,
    5000,
    2 ** 31 - 1,
    -(2 ** 31),
    2 ** 31,
    2 ** 53,
    -(2 ** 53),
    1.5,
  ),
  fc.integer(),
);
const floatArb = fc.oneof(
  fc.constantFrom(0, -0, 1, -1, 1e308, -1e308, 5e-324, 0.5),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);
const dateArb = fc.oneof(
  fc.constantFrom(
    "2024-01-01T00:00:00Z",
    "1970-01-01T00:00:00.000Z",
    "9999-12-31T23:59:59Z",
    "2024-02-30T00:00:00Z",
    "yesterday",
    "0",
    "",
  ),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
);
const jsonArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.dictionary(stringArb, fc.oneof(stringArb, fc.integer(), fc.boolean(), fc.constant(null)), {
    maxKeys: 4,
  }),
  fc.jsonValue({ maxDepth: 3 }),
  fc.constant({ deep: { deeper: { deepest: ["\u0000", "\uD800"] } } }),
);
const wrongTypeArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer(),
  fc.boolean(),
  fc.constant({}),
  fc.constant([]),
  fc.constant({ nested: [1, "x"] }),
  stringArb,
  fc.double({ noNaN: true }),
);

/**
 * Plausible values for fields whose generic values would almost never pass validation, so the
 * campaign also gets items accepted (with edge-case bodies) and follows them through the
 * pipeline. Drawn three times in four; the generic arbitrary keeps the rest.
 */
const FIELD_HINTS: Record<string, fc.Arbitrary<unknown>> = {
  "TrendInput.source": fc.constantFrom("fuzz", "news-wire", "feed:rss/1", "user@host", "ünïcödé"),
  "TrendInput.externalId": fc.uuid(),
  "TrendInput.url": fc.constantFrom("https://example.com/a", "http://127.0.0.1/x?q=1#f", null),
  "TrendInput.publishedAt": fc
    .date({ min: new Date("2000-01-01"), max: new Date("2030-01-01"), noInvalidDate: true })
    .map((d) => d.toISOString()),
  "TrendInput.metadata": fc.constantFrom(
    {},
    { lang: "en" },
    { k: "\u0000 text", emoji: "😀" },
    null,
  ),
};

/** Values real rows answer to, so ID arguments reach resolvers' found paths too. */
export interface IdPool {
  ids(): readonly string[];
}

export function arbitraryFor(
  type: GraphQLInputType,
  pool: IdPool,
  depth = 0,
): fc.Arbitrary<unknown> {
  const valid = validArbitrary(type, pool, depth);
  // One value in twelve has the wrong type (or a null where one is not allowed).
  return fc.oneof(
    { weight: 11, arbitrary: valid },
    {
      weight: 1,
      arbitrary: isNonNullType(type) ? fc.oneof(wrongTypeArb, fc.constant(null)) : wrongTypeArb,
    },
  );
}

function validArbitrary(
  type: GraphQLInputType,
  pool: IdPool,
  depth: number,
): fc.Arbitrary<unknown> {
  if (isNonNullType(type)) return arbitraryFor(type.ofType, pool, depth);
  const nullable = (a: fc.Arbitrary<unknown>) =>
    fc.oneof({ weight: 8, arbitrary: a }, { weight: 1, arbitrary: fc.constant(null) });
  if (isListType(type))
    return nullable(
      fc.array(arbitraryFor(type.ofType, pool, depth + 1), { maxLength: depth > 0 ? 2 : 4 }),
    );
  if (isEnumType(type))
    return nullable(
      fc.oneof(
        {
          weight: 6,
          arbitrary: fc.constantFrom(...type.getValues().map((v) => v.value as string)),
        },
        { weight: 1, arbitrary: stringArb },
      ),
    );
  if (isInputObjectType(type)) {
    const fields = Object.values(type.getFields());
    const shape: Record<string, fc.Arbitrary<unknown>> = {};
    for (const f of fields) {
      const generic = arbitraryFor(f.type, pool, depth + 1);
      const hint = FIELD_HINTS[`${type.name}.${f.name}`];
      shape[f.name] = hint
        ? fc.oneof({ weight: 3, arbitrary: hint }, { weight: 1, arbitrary: generic })
        : generic;
    }
    const required = fields
      .filter((f) => isNonNullType(f.type) && f.defaultValue === undefined)
      .map((f) => f.name);
    return nullable(
      fc.oneof(
        { weight: 8, arbitrary: fc.record(shape, { requiredKeys: required }) },
        // A required field missing, or a field the type does not have.
        { weight: 1, arbitrary: fc.record(shape, { requiredKeys: [] }) },
        {
          weight: 1,
          arbitrary: fc
            .record(shape, { requiredKeys: required })
            .map((v) => ({ ...v, notAField: 1 })),
        },
      ),
    );
  }
  if (isScalarType(type)) {
    switch (type.name) {
      case "String":
        return nullable(stringArb);
      case "ID":
        return nullable(
          fc.oneof(
            { weight: 3, arbitrary: fc.nat().map((i) => pick(pool.ids(), i)) },
            { weight: 2, arbitrary: stringArb },
            { weight: 1, arbitrary: fc.uuid() },
          ),
        );
      case "Int":
        return nullable(intArb);
      case "Float":
        return nullable(floatArb);
      case "Boolean":
        return nullable(fc.boolean());
      case "DateTime":
        return nullable(dateArb);
      case "JSON":
      case "JSONObject":
        return nullable(jsonArb);
      default:
        return nullable(fc.oneof(stringArb, intArb));
    }
  }
  return fc.constant(null);
}

function pick(values: readonly string[], i: number): string {
  return values.length ? values[i % values.length]! : "00000000-0000-0000-0000-000000000000";
}

/** Arguments of one field: each present argument with a value (optional ones sometimes omitted). */
export function argumentsArb(
  args: readonly GraphQLArgument[],
  pool: IdPool,
): fc.Arbitrary<Record<string, unknown>> {
  const shape: Record<string, fc.Arbitrary<unknown>> = {};
  for (const a of args) shape[a.name] = arbitraryFor(a.type, pool);
  const required = args
    .filter((a) => isNonNullType(a.type) && a.defaultValue === undefined)
    .map((a) => a.name);
  return fc.record(shape, { requiredKeys: required });
}
