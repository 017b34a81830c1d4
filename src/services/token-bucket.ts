import type { Redis } from "ioredis";

/**
 * A token bucket per key in Redis, refilled continuously: a key may spend up to `capacity` at once
 * and then `capacity` per `periodMs` on average, on Redis' clock so every gateway agrees. A fixed
 * window would let a key spend twice its budget across a window boundary.
 *
 * The script reads, refills, spends and stores in one step (scripts run atomically), and returns
 * {1, 0} when the cost was taken or {0, ms until it could be}.
 */
const TAKE = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local capacity = tonumber(ARGV[1])
local perMs = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at) * perMs)
local taken, waitMs = 0, 0
if tokens >= cost then
  tokens = tokens - cost
  taken = 1
else
  waitMs = math.ceil((cost - tokens) / perMs)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / perMs) + 1000)
return {taken, waitMs}
`;

export interface TakeResult {
  taken: boolean;
  /** When not taken: how long until the bucket holds the cost (may exceed the period when the cost is over capacity). */
  waitMs: number;
}

export class TokenBucket {
  constructor(
    private readonly redis: Redis,
    private readonly options: { capacity: number; periodMs: number },
  ) {}

  async take(key: string, cost = 1): Promise<TakeResult> {
    const perMs = this.options.capacity / this.options.periodMs;
    const [taken, waitMs] = (await this.redis.eval(
      TAKE,
      1,
      key,
      this.options.capacity,
      perMs,
      cost,
    )) as [number, number];
    return { taken: taken === 1, waitMs };
  }
}
