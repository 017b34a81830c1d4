/**
 * Thrown by a handler for a job that can never succeed (unknown id, invalid payload): the
 * runtime dead-letters it at once instead of retrying. `MalformedEntryError` from
 * `streams/envelope.ts` is treated the same way.
 */
export class PermanentError extends Error {
  readonly code: string = "PERMANENT";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "PermanentError";
  }
}

/**
 * An entry delivered more times than `maxAttempts` without ever completing: its handler kept
 * crashing or hanging the process that ran it (a poison entry), so it goes to the dead letters.
 */
export class DeliveryLimitError extends Error {
  readonly code = "DELIVERY_LIMIT";
  constructor(
    readonly deliveries: number,
    maxAttempts: number,
  ) {
    super(
      `delivered ${deliveries} times (limit ${maxAttempts}) without completing; its consumers crashed or stalled`,
    );
    this.name = "DeliveryLimitError";
  }
}

// SQLSTATE classes whose errors come from the data or the schema, not from the moment: 22 data
// exception (22P02 invalid json, 22021 bad encoding), 23 integrity constraint violation, 42
// syntax error or access rule violation (a missing column). Retrying them five times only
// delays the dead letter (issue 12); 40001/40P01 (serialization, deadlock), 08 (connection)
// and 57 (shutdown) stay retried.
const DETERMINISTIC_SQLSTATE = /^(22|23|42)[0-9A-Z]{3}$/;

/**
 * Whether an error can never succeed on retry: a {@link PermanentError} or a Postgres error of a
 * deterministic SQLSTATE class (pg's DatabaseError carries it in `code`).
 */
export function isDeterministicFailure(error: Error): boolean {
  if (error instanceof PermanentError) return true;
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" && DETERMINISTIC_SQLSTATE.test(code) && "severity" in error;
}
