/** What the runtime remembers about an entry's failed attempts in one group (kept in Redis). */
export interface FailureRecord {
  /** Failed attempts so far; the next attempt is `failures + 1`. */
  failures: number;
  firstFailedAt: string;
  lastFailedAt: string;
  error: string;
  code: string;
}

export function parseFailureRecord(raw: string | null | undefined): FailureRecord | undefined {
  if (!raw) return undefined;
  try {
    const value = JSON.parse(raw) as Partial<FailureRecord>;
    if (typeof value.failures !== "number") return undefined;
    return {
      failures: value.failures,
      firstFailedAt: String(value.firstFailedAt ?? ""),
      lastFailedAt: String(value.lastFailedAt ?? ""),
      error: String(value.error ?? ""),
      code: String(value.code ?? ""),
    };
  } catch {
    // A record we cannot read only costs the entry its retry count, not the entry.
    return undefined;
  }
}

/** The stable code of an error thrown by a handler, for logs and dead-letter entries. */
export function errorCode(error: Error): string {
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" && code.length > 0 ? code : "HANDLER_ERROR";
}

/** Handlers may throw anything; the runtime works with Errors. */
export function toError(value: unknown): Error {
  return value instanceof Error
    ? value
    : new Error(typeof value === "string" ? value : JSON.stringify(value));
}
