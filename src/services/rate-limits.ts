import type { Redis } from "ioredis";
import { RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";
import { DomainError } from "../domain/domain-error.js";
import type { Logger } from "../observability/logger.js";
import type { StreamKeys } from "../streams/stream-names.js";

export type LimitedAction = "ingest" | "similarText";

/**
 * Per-key rate limits kept in Redis (rate-limiter-flexible), so every gateway process counts
 * against the same budget: ingest (per item) and `similarTrends(text:)` (each call embeds text,
 * the gateway's most expensive read). Over the limit answers RATE_LIMITED with `retryAfter`
 * (seconds). When Redis cannot answer, the request goes through and a warning is logged:
 * ingest itself needs Redis, and refusing reads for a counter outage would be worse.
 */
export class RateLimits {
  private readonly limiters = new Map<LimitedAction, RateLimiterRedis>();

  constructor(
    private readonly deps: { redis: Redis; keys: StreamKeys; logger: Logger; perMinute: Record<LimitedAction, number> },
  ) {
    for (const [action, points] of Object.entries(deps.perMinute) as [LimitedAction, number][]) {
      if (points <= 0) continue;
      this.limiters.set(
        action,
        new RateLimiterRedis({ storeClient: deps.redis, keyPrefix: deps.keys.key(`ratelimit:${action}`), points, duration: 60 }),
      );
    }
  }

  /** Charges `points` to the key for `action`; throws RATE_LIMITED when its budget is spent. */
  async charge(action: LimitedAction, keyId: string, points = 1): Promise<void> {
    const limiter = this.limiters.get(action);
    if (!limiter) return;
    try {
      await limiter.consume(keyId, points);
    } catch (error) {
      if (error instanceof RateLimiterRes) {
        const retryAfter = Math.max(1, Math.ceil(error.msBeforeNext / 1000));
        throw new DomainError("RATE_LIMITED", `${action}: at most ${this.deps.perMinute[action]} per minute for this key; retry in ${retryAfter} s`, {
          retryAfter,
          limit: this.deps.perMinute[action],
        });
      }
      this.deps.logger.warn({ err: error, action }, "rate limit store unavailable; request let through");
    }
  }
}
