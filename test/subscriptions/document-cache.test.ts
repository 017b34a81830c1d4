import {
  GraphQLError,
  GraphQLObjectType,
  GraphQLSchema,
  GraphQLString,
  specifiedRules,
} from "graphql";
import { describe, expect, it } from "vitest";

import { DocumentCache } from "../../src/subscriptions/document-cache.js";

const schema = new GraphQLSchema({
  query: new GraphQLObjectType({ name: "Query", fields: { hello: { type: GraphQLString } } }),
});

describe("DocumentCache", () => {
  it("should hand every subscriber of the same query the same document, validated once", () => {
    let validations = 0;
    const counting = [...specifiedRules, () => (validations++, {})];
    const cache = new DocumentCache(counting);
    const a = cache.parse("{ hello }");
    const b = cache.parse("{ hello }");
    expect(b).toBe(a);
    expect(cache.validate(schema, a)).toEqual([]);
    expect(cache.validate(schema, b)).toEqual([]);
    expect(validations).toBe(1);
    expect(cache.parse("{ hello hello }")).not.toBe(a);
  });

  it("should throw the syntax error again for a query that does not parse, and report validation errors", () => {
    const cache = new DocumentCache(specifiedRules);
    expect(() => cache.parse("{ hello")).toThrow(GraphQLError);
    expect(() => cache.parse("{ hello")).toThrow(/Syntax Error/);
    const errors = cache.validate(schema, cache.parse("{ nope }"));
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toMatch(/Cannot query field "nope"/);
  });

  it("should forget the least recently used documents past its bound", () => {
    const cache = new DocumentCache(specifiedRules, { maxEntries: 2 });
    const first = cache.parse("{ a: hello }");
    cache.parse("{ b: hello }");
    cache.parse("{ c: hello }");
    expect(cache.parse("{ a: hello }")).not.toBe(first);
  });
});
