import { VectorStoreError } from "./vector-store.js";

/**
 * Maps what weaviate-ts-client v2 throws onto stable codes. The client gives no error classes:
 * REST failures are plain Errors whose message starts "usage error (<status>)", GraphQL failures
 * are graphql-request ClientErrors with `response.status`, and a refused connection is fetch's
 * TypeError with the socket error as `cause`. The status in the REST message is the only place
 * that client puts it, hence the one pattern match on message text.
 */
export function toVectorStoreError(error: unknown, action: string): VectorStoreError {
  if (error instanceof VectorStoreError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const status = httpStatusOf(error);
  if (status === undefined) {
    const network =
      error instanceof TypeError && (error as { cause?: unknown }).cause !== undefined;
    return network
      ? new VectorStoreError(
          "VECTOR_STORE_UNAVAILABLE",
          `Weaviate unreachable during ${action}: ${causeText(error)}`,
          {
            cause: error,
          },
        )
      : new VectorStoreError("VECTOR_STORE_FAILED", `Weaviate ${action} failed: ${message}`, {
          cause: error,
        });
  }
  const data = { status };
  if (status >= 500 || status === 408 || status === 429) {
    return new VectorStoreError(
      "VECTOR_STORE_UNAVAILABLE",
      `Weaviate ${action} failed with ${status}: ${message}`,
      {
        cause: error,
        data,
      },
    );
  }
  if (status === 400 || status === 422) {
    return new VectorStoreError(
      "VECTOR_STORE_BAD_INPUT",
      `Weaviate rejected ${action}: ${message}`,
      {
        cause: error,
        data,
      },
    );
  }
  return new VectorStoreError(
    "VECTOR_STORE_FAILED",
    `Weaviate ${action} failed with ${status}: ${message}`,
    {
      cause: error,
      data,
    },
  );
}

function httpStatusOf(error: unknown): number | undefined {
  const response = (error as { response?: { status?: unknown; errors?: unknown } } | undefined)
    ?.response;
  if (response && typeof response.status === "number") {
    // GraphQL answers 200 with an `errors` list for a bad query; that is not a transport problem.
    return response.status === 200 && response.errors ? 422 : response.status;
  }
  const match = error instanceof Error ? /^usage error \((\d{3})\)/.exec(error.message) : null;
  return match ? Number(match[1]) : undefined;
}

function causeText(error: Error): string {
  const cause = (error as { cause?: unknown }).cause;
  const code = (cause as { code?: unknown } | undefined)?.code;
  return typeof code === "string" ? code : cause instanceof Error ? cause.message : error.message;
}
