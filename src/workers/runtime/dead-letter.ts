import type { Redis } from "ioredis";

/** Everything a dead-letter entry records (docs/PROTOCOL.md, "Dead-letter entries"). */
export interface DeadLetter {
  /** The source entry's fields as read. */
  fields: Record<string, string>;
  sourceStreamName: string;
  sourceId: string;
  group: string;
  consumer: string;
  /** Attempts made in this group, the failing one included. */
  attempts: number;
  deliveries: number;
  error: Error;
  errorCode: string;
  firstFailedAt: string;
  lastFailedAt: string;
}

/**
 * Moves an entry to its dead-letter stream: XADD there and XACK the source in one MULTI, so an
 * entry is never lost (acked without a dead letter) nor kept twice (dead letter while still
 * pending). The failure record and retry schedule go in the same transaction.
 */
export async function writeDeadLetter(
  redis: Redis,
  target: { deadLetterKey: string; streamKey: string; dueKey: string; failuresKey: string },
  letter: DeadLetter,
): Promise<string> {
  const { fields } = letter;
  const entry: string[] = [
    "envelope",
    fields.envelope ?? "",
    // The original `attempt` field, so a dead letter replays as an ordinary stream entry.
    "attempt",
    fields.attempt ?? "1",
    "attempts",
    String(letter.attempts),
    "deliveries",
    String(letter.deliveries),
    "error",
    letter.error.message,
    "error_code",
    letter.errorCode,
    "source_stream",
    letter.sourceStreamName,
    "source_id",
    letter.sourceId,
    "group",
    letter.group,
    "consumer",
    letter.consumer,
    "first_failed_at",
    letter.firstFailedAt,
    "last_failed_at",
    letter.lastFailedAt,
  ];
  // Without an envelope there is nothing else to replay; keep every field for the operator.
  if (fields.envelope === undefined) entry.push("raw_fields", JSON.stringify(fields));
  const results = await redis
    .multi()
    .xadd(target.deadLetterKey, "*", ...entry)
    .xack(target.streamKey, letter.group, letter.sourceId)
    .hdel(target.failuresKey, letter.sourceId)
    .zrem(target.dueKey, letter.sourceId)
    .exec();
  if (!results) throw new Error("dead-letter transaction was discarded");
  for (const [error] of results) if (error) throw error;
  return results[0]![1] as string;
}
