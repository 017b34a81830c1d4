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
