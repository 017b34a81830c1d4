import { initGraphQLTada } from "gql.tada";

import type { introspection } from "./graphql-env.d.js";

/**
 * Typed documents: result and variable types come from schema.graphql through
 * `gql.tada generate output` (run by `npm run build:web`), so a schema change that breaks the
 * console fails its build.
 */
export const graphql = initGraphQLTada<{
  introspection: introspection;
  scalars: { DateTime: string; JSON: unknown };
  // Fragments spread in place: the console is one small app, not a tree of co-located components.
  disableMasking: true;
}>();

export type { FragmentOf, ResultOf, TadaDocumentNode, VariablesOf } from "gql.tada";
