import { unwrapResolverError } from "@apollo/server/errors";
import type { GraphQLFormattedError } from "graphql";

import { DomainError } from "../domain/domain-error.js";

/** A subscription could not deliver everything since the client's cursor; the client re-queries. */
export class SubscriptionGapError extends Error {
  readonly code = "SUBSCRIPTION_GAP";
  constructor(
    message: string,
    readonly data: { reason: string; cursor: string; missedFrom?: string; missedTo?: string },
  ) {
    super(message);
    this.name = "SubscriptionGapError";
  }
}

/**
 * Maps errors to what crosses the wire, once, for HTTP and WebSocket alike: domain errors keep
 * their stable `code` and data; unexpected errors are masked so internals do not leak.
 */
export function formatError(
  formatted: GraphQLFormattedError,
  error: unknown,
): GraphQLFormattedError {
  const original = unwrapResolverError(error);
  if (original instanceof DomainError) {
    return {
      message: original.message,
      locations: formatted.locations,
      path: formatted.path,
      extensions: { ...original.data, code: original.code, retryable: original.retryable },
    };
  }
  if (original instanceof SubscriptionGapError) {
    return {
      message: original.message,
      path: formatted.path,
      extensions: { code: original.code, ...original.data },
    };
  }
  const code = formatted.extensions?.code;
  if (code === undefined || code === "INTERNAL_SERVER_ERROR") {
    return {
      message: "internal error",
      locations: formatted.locations,
      path: formatted.path,
      extensions: { code: "INTERNAL_SERVER_ERROR" },
    };
  }
  return formatted;
}
