export type EmbedderErrorCode =
  "EMBEDDER_HTTP_ERROR" | "EMBEDDER_TIMEOUT" | "EMBEDDER_BAD_RESPONSE" | "EMBEDDER_CLOSED";

/**
 * An embedding call that failed. Callers branch on `code` and `retryable` (the embedding worker
 * retries with backoff only when `retryable`, then dead-letters), never on the message.
 */
export class EmbedderError extends Error {
  override readonly name = "EmbedderError";
  readonly code: EmbedderErrorCode;
  readonly retryable: boolean;
  /** HTTP status of the provider's answer, when there was one. */
  readonly status: number | undefined;

  constructor(
    code: EmbedderErrorCode,
    message: string,
    options: { retryable: boolean; status?: number; cause?: unknown },
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable;
    this.status = options.status;
  }
}
