import { ErrorCode, McpError } from "@modelcontextprotocol/sdk/types.js";

import { PublishError } from "./publish-error.js";

/** How the MCP client's failures map onto {@link PublishError}: what to retry, what to refuse. */

/**
 * A broken pipe, a closed connection or a refused HTTP connect, as opposed to an answer.
 * The SDK raises these as McpError(ConnectionClosed) or as plain errors from the transport.
 */
export function isTransportFailure(err: unknown): boolean {
  if (err instanceof McpError) return err.code === ErrorCode.ConnectionClosed;
  return err instanceof Error;
}

export function toPublishError(err: unknown): PublishError {
  if (err instanceof PublishError) return err;
  if (err instanceof McpError) {
    if (err.code === ErrorCode.RequestTimeout || err.code === ErrorCode.ConnectionClosed) {
      return new PublishError(
        "PUBLISH_ADAPTER_UNAVAILABLE",
        err.message,
        true,
        { mcpCode: err.code },
        { cause: err },
      );
    }
    if (err.code === ErrorCode.InternalError) {
      return new PublishError(
        "PUBLISH_REJECTED",
        err.message,
        true,
        { mcpCode: err.code },
        { cause: err },
      );
    }
    // Servers on older SDKs raise invalid arguments as a JSON-RPC error rather than isError.
    return new PublishError(
      "PUBLISH_REJECTED",
      err.message,
      false,
      { mcpCode: err.code },
      { cause: err },
    );
  }
  return new PublishError(
    "PUBLISH_ADAPTER_UNAVAILABLE",
    `publish adapter connection failed: ${(err as Error).message}`,
    true,
    {},
    { cause: err },
  );
}
