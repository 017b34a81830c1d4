import type { Redis } from "ioredis";

/**
 * Creates the consumer group if it does not exist, reading from the stream's first entry, so
 * entries added before any consumer started are processed too. MKSTREAM lets a worker start
 * before anything was produced. Safe to call from every process at once.
 */
export async function ensureGroup(redis: Redis, streamKey: string, group: string): Promise<void> {
  try {
    await redis.xgroup("CREATE", streamKey, group, "0", "MKSTREAM");
  } catch (error) {
    // BUSYGROUP is Redis's reply code for "already exists": another process won the race.
    if (!isRedisError(error, "BUSYGROUP")) throw error;
  }
}

/** Whether `error` is a Redis error reply with this code (the first word of the reply). */
export function isRedisError(error: unknown, code: string): boolean {
  return error instanceof Error && error.message.startsWith(code);
}
