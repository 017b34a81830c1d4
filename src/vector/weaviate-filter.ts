import type { WhereFilter } from "weaviate-ts-client";

import type { CheckedFilter } from "./vector-input.js";

export type WeaviateWhere =
  { matchesNothing: true } | { matchesNothing: false; where: WhereFilter | undefined };

/**
 * Translates a VectorFilter into a Weaviate `where` filter. Status uses an `Or` of `Equal`s rather
 * than `ContainsAny`, which older Weaviate versions (before 1.21) do not accept on text fields.
 * source/status are declared with `tokenization: "field"`, so `Equal` compares whole values
 * instead of words.
 */
export function toWeaviateWhere(filter: CheckedFilter): WeaviateWhere {
  const operands: WhereFilter[] = [];
  if (filter.source !== undefined)
    operands.push({ path: ["source"], operator: "Equal", valueText: filter.source });
  if (filter.status !== undefined) {
    const statuses = [...new Set(filter.status)];
    if (statuses.length === 0) return { matchesNothing: true };
    const equals = statuses.map((s): WhereFilter => ({
      path: ["status"],
      operator: "Equal",
      valueText: s,
    }));
    operands.push(equals.length === 1 ? equals[0]! : { operator: "Or", operands: equals });
  }
  if (filter.createdAfterMs !== undefined) {
    operands.push({
      path: ["createdAt"],
      operator: "GreaterThan",
      valueDate: new Date(filter.createdAfterMs).toISOString(),
    });
  }
  if (filter.createdBeforeMs !== undefined) {
    operands.push({
      path: ["createdAt"],
      operator: "LessThan",
      valueDate: new Date(filter.createdBeforeMs).toISOString(),
    });
  }
  for (const id of new Set(filter.excludeIds))
    operands.push({ path: ["id"], operator: "NotEqual", valueText: id });
  if (operands.length === 0) return { matchesNothing: false, where: undefined };
  return {
    matchesNothing: false,
    where: operands.length === 1 ? operands[0] : { operator: "And", operands },
  };
}

/** Filter matching any of the given object ids (for batch delete). */
export function idsWhere(ids: readonly string[]): WhereFilter {
  const equals = ids.map((id): WhereFilter => ({ path: ["id"], operator: "Equal", valueText: id }));
  return equals.length === 1 ? equals[0]! : { operator: "Or", operands: equals };
}

/**
 * Weaviate reports `distance` (cosine distance = 1 − cosine similarity for a class whose
 * vectorIndexConfig.distance is "cosine") and, for cosine only, `certainty` = 1 − distance / 2.
 */
export function cosineFromAdditional(additional: {
  distance?: unknown;
  certainty?: unknown;
}): number {
  if (typeof additional.distance === "number") return 1 - additional.distance;
  if (typeof additional.certainty === "number") return 2 * additional.certainty - 1;
  return Number.NaN;
}
