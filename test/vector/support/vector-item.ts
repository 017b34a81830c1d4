import { randomUUID } from "node:crypto";

import type { VectorItem } from "../../../src/vector/vector-store.js";

/** A vector item with plausible metadata; tests override what they filter on. */
export function item(
  vector: number[],
  metadata: Partial<VectorItem["metadata"]> = {},
  id: string = randomUUID(),
): VectorItem {
  return {
    id,
    vector,
    metadata: {
      source: "reddit",
      status: "EMBEDDED",
      createdAt: "2025-03-01T12:00:00.000Z",
      ...metadata,
    },
  };
}
