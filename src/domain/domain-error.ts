/**
 * The error family that crosses the API edge. Services throw these; the GraphQL layer maps
 * `code` to `extensions.code` and REST maps it to an HTTP status, once, at the edge.
 * Callers branch on `code` (or `instanceof`), never on message text.
 */
export type ErrorCode =
  | "BAD_USER_INPUT"
  | "NOT_FOUND"
  | "FORBIDDEN"
  | "UNAUTHENTICATED"
  | "CONFLICT"
  | "BACKPRESSURE"
  | "RATE_LIMITED"
  | "UNAVAILABLE";

export const HTTP_STATUS_OF: Record<ErrorCode, number> = {
  BAD_USER_INPUT: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  BACKPRESSURE: 429,
  RATE_LIMITED: 429,
  UNAVAILABLE: 503,
};

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Machine-readable details (field names, retry hints) that travel in `extensions`. */
    readonly data: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "DomainError";
  }

  /** Whether a client may retry the same request later (BACKPRESSURE, RATE_LIMITED, UNAVAILABLE). */
  get retryable(): boolean {
    return (
      this.code === "BACKPRESSURE" || this.code === "RATE_LIMITED" || this.code === "UNAVAILABLE"
    );
  }
}

export const badInput = (field: string, message: string) =>
  new DomainError("BAD_USER_INPUT", `${field}: ${message}`, { field });
export const notFound = (what: string, id: string) =>
  new DomainError("NOT_FOUND", `${what} ${id} not found`, { id });
export const conflict = (message: string, data: Record<string, unknown> = {}) =>
  new DomainError("CONFLICT", message, data);
