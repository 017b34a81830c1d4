/**
 * What one item of a batch stage writes when it moves on (the batch queries of enrich, embed
 * and judge take a list of these): checked against the budget it was read with, charged, its
 * provenance entry, and its outbox events in order.
 */
export interface StageBatchWrite {
  trendId: string;
  traceId: string;
  /** The budget the item was read with: if it changed, the item is not written. */
  readSpent: number;
  cost: number;
  provenance: { actor: string; input: unknown; output: unknown };
  /** Its outbox events in order (the trend update, then the next stage's job). */
  events: { stream: string; envelope: unknown }[];
}
