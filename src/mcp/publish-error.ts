export type PublishErrorCode =
  "PUBLISH_ADAPTER_UNAVAILABLE" | "PUBLISH_REJECTED" | "PUBLISH_BAD_RESPONSE";

/**
 * A publish that did not happen. Branch on `code` and `retryable`:
 * - PUBLISH_ADAPTER_UNAVAILABLE: could not reach the adapter (spawn failed, connection lost,
 *   timeout); retryable.
 * - PUBLISH_REJECTED: the tool answered with an error (bad input: not retryable; webhook
 *   5xx/429 or a disk/lock failure: retryable, as the adapter says in its error `_meta`).
 * - PUBLISH_BAD_RESPONSE: the adapter answered, but not like a publish tool (no such tool, no
 *   externalRef); not retryable.
 */
export class PublishError extends Error {
  constructor(
    readonly code: PublishErrorCode,
    message: string,
    readonly retryable: boolean,
    readonly data: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "PublishError";
  }
}
