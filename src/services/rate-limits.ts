import type { Redis } from "ioredis";

import { DomainError } from "../domain/domain-error.js";
import type { Logger } from "../observability/logger.js";
import type { StreamKeys } from "../streams/stream-names.js";
import { TokenBucket } from "./token-bucket.js";

export type LimitedAction = "ingest" | "similarText";

/**
 * Per-key rate limits kept in Redis as token buckets, so every gateway process counts
 * against the same budget: ingest (per item) and `similarTrends(text:)` (each call embeds text,
 * the gateway's most expensive read). Over the limit answers RATE_LIMITED with `retryAfter`
 * (seconds). When Redis cannot answer, the request goes through and a warning is logged:
 * ingest itself needs Redis, and refusing reads for a counter outage would be worse.
 */
export class RateLimits {
  private readonly limiters = new Map<LimitedAction, { bucket: TokenBucket; prefix: string }>();

  constructor(
    private readonly deps: {
      redis: Redis;
      keys: StreamKeys;
      logger: Logger;
      perMinute: Record<LimitedAction, number>;
    },
  ) {
    for (const [action, points] of Object.entries(deps.perMinute) as [LimitedAction, number][]) {
      if (points <= 0) continue;
      this.limiters.set(action, {
        bucket: new TokenBucket(deps.redis, { capacity: points, periodMs: 60_000 }),
        prefix: deps.keys.key(`ratelimit:${action}`),
      });
    }
  }

  /** Charges `points` to the key for `action`; throws RATE_LIMITED when its budget is spent. */
  async charge(action: LimitedAction, keyId: string, points = 1): Promise<void> {
    const limiter = this.limiters.get(action);
    if (!limiter) return;
    let result;
    try {
      result = await limiter.bucket.take(`${limiter.prefix}:${keyId}`, points);
    } catch (error) {
      this.deps.logger.warn(
        { err: error, action },
        "rate limit store unavailable; request let through",
      );
      return;
    }
    if (!result.taken) {
      const retryAfter = Math.max(1, Math.ceil(result.waitMs / 1000));
      throw new DomainError(
        "RATE_LIMITED",
        `${action}: at most ${this.deps.perMinute[action]} per minute for this key; retry in ${retryAfter} s`,
        {
          retryAfter,
          limit: this.deps.perMinute[action],
        },
      );
    }
  }
}
