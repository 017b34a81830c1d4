import { createHash } from "node:crypto";

import type { Redis } from "ioredis";

/**
 * A Lua script run with EVALSHA, loaded on first use. Kept off `redis.defineCommand` because the
 * connection belongs to the caller and is shared by several consumers.
 */
export class LuaScript {
  private readonly sha: string;

  constructor(private readonly source: string) {
    this.sha = createHash("sha1").update(source).digest("hex");
  }

  async run(redis: Redis, keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      // NOSCRIPT is the reply code Redis defines for "not loaded yet" (after a restart or flush).
      if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
      return redis.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}
