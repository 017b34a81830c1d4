import {
  type DocumentNode,
  type GraphQLError,
  type GraphQLSchema,
  parse,
  validate,
  type ValidationRule,
} from "graphql";
import { LRUCache } from "lru-cache";

/**
 * Parses and validates each distinct subscription document once, for graphql-ws's `parse` and
 * `validate` options. Thousands of moderators send the same `escalationCreated` query: parsed
 * per socket, each would hold its own AST (with its token list) for as long as it stays
 * subscribed, and pay the parse and the validation again. graphql-js never mutates a document,
 * so one AST can serve them all; SharedSubscriptions then keys results by that same object.
 * Queries that fail to parse are not cached (the error is thrown again, as graphql-ws expects).
 */
export class DocumentCache {
  private readonly documents: LRUCache<string, DocumentNode>;
  private readonly validated = new WeakMap<DocumentNode, readonly GraphQLError[]>();

  constructor(
    private readonly rules: readonly ValidationRule[],
    options: { maxEntries?: number; maxQueryChars?: number } = {},
  ) {
    this.documents = new LRUCache({
      max: options.maxEntries ?? 500,
      // Bounded by text size too: a client may send many distinct large queries.
      maxSize: options.maxQueryChars ?? 4_000_000,
      sizeCalculation: (_doc, query) => Math.max(1, query.length),
    });
  }

  readonly parse = ((source: string | { body: string }) => {
    const query = typeof source === "string" ? source : source.body;
    let document = this.documents.get(query);
    if (!document) {
      document = parse(query);
      this.documents.set(query, document);
    }
    return document;
  }) as typeof parse;

  /** The schema is always the gateway's one schema; the rules are fixed at construction. */
  readonly validate = ((schema: GraphQLSchema, document: DocumentNode) => {
    let errors = this.validated.get(document);
    if (!errors) {
      errors = validate(schema, document, this.rules);
      this.validated.set(document, errors);
    }
    return errors;
  }) as unknown as typeof validate;
}
