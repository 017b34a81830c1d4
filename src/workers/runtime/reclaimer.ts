import type { Redis } from "ioredis";

import { LuaScript } from "./lua-script.js";

// JUSTID: taking the entry over must not count as a delivery yet; the consumer counts one when
// it actually claims the entry to run it (RetrySchedule.claim). Entries parked for a retry are
// left to the retry schedule (their idle time grows while they wait, which is not a stall).
// Entries trimmed from the stream come back in the third element; their bookkeeping is dropped.
const AUTOCLAIM = new LuaScript(`
local r = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], 'COUNT', ARGV[5], 'JUSTID')
local ids = {}
for _, id in ipairs(r[2]) do
  if not redis.call('ZSCORE', KEYS[2], id) then ids[#ids + 1] = id end
end
local deleted = r[3] or {}
for _, id in ipairs(deleted) do
  redis.call('HDEL', KEYS[3], id)
  redis.call('ZREM', KEYS[2], id)
end
return { r[1], ids, deleted }
`);

// Checked and deleted in one script: XGROUP DELCONSUMER drops the consumer's pending entries
// for good, so the "owns nothing" check must not race with a read by that consumer.
// XINFO's idle alone cannot tell a dead consumer from a live one waiting on an empty stream
// (Redis 7.0 refreshes it only when a read returns entries), so a consumer also needs no
// heartbeat within the threshold. ARGV[3] is the caller, which is alive by definition.
const REMOVE_DEAD = new LuaScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local threshold = tonumber(ARGV[2])
local removed = {}
local consumers = redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])
for _, c in ipairs(consumers) do
  local info = {}
  for i = 1, #c, 2 do info[c[i]] = c[i + 1] end
  local name = info['name']
  local beat = redis.call('ZSCORE', KEYS[2], name)
  local silent = (not beat) or (now - tonumber(beat) > threshold)
  if name ~= ARGV[3] and tonumber(info['pending']) == 0 and tonumber(info['idle']) > threshold and silent then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], name)
    redis.call('ZREM', KEYS[2], name)
    removed[#removed + 1] = name
  end
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - threshold * 10)
return removed
`);

const HEARTBEAT = new LuaScript(`
local t = redis.call('TIME')
redis.call('ZADD', KEYS[1], tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000), ARGV[1])
return 1
`);

// A consumer that stops cleanly and owns nothing leaves no ghost behind in XINFO CONSUMERS.
const LEAVE = new LuaScript(`
redis.call('ZREM', KEYS[2], ARGV[2])
local p = redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2])
if #p == 0 then
  redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
  return 1
end
return 0
`);

/**
 * Rebalancing for one group: takes over entries left pending by dead or stuck consumers
 * (XAUTOCLAIM after `claimIdleMs`) and removes consumers that are gone for good.
 */
export class Reclaimer {
  private cursor = "0-0";

  constructor(
    private readonly redis: Redis,
    private readonly keys: {
      streamKey: string;
      dueKey: string;
      failuresKey: string;
      heartbeatKey: string;
    },
    private readonly group: string,
    private readonly consumer: string,
    private readonly claimIdleMs: number,
  ) {}

  /**
   * Claims (to this consumer, without counting a delivery) up to `count` entries idle longer
   * than `claimIdleMs`, continuing the previous scan. `done` is true once the scan wrapped
   * around the whole pending list.
   */
  async claimIdle(count: number): Promise<{ ids: string[]; deleted: string[]; done: boolean }> {
    const [next, ids, deleted] = (await AUTOCLAIM.run(
      this.redis,
      [this.keys.streamKey, this.keys.dueKey, this.keys.failuresKey],
      [this.group, this.consumer, this.claimIdleMs, this.cursor, Math.max(1, count)],
    )) as [string, string[], string[]];
    this.cursor = next;
    return { ids, deleted, done: next === "0-0" };
  }

  /**
   * XAUTOCLAIM also takes this consumer's own entries; for those still running here, put their
   * idle time back, so a reclaim round does not act as a heartbeat that hides a stuck handler.
   */
  async restoreIdle(entries: { entryId: string; idleMs: number }[]): Promise<void> {
    if (entries.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const e of entries) {
      pipeline.xclaim(
        this.keys.streamKey,
        this.group,
        this.consumer,
        0,
        e.entryId,
        "IDLE",
        Math.max(0, Math.round(e.idleMs)),
        "JUSTID",
      );
    }
    await pipeline.exec();
  }

  /**
   * Deletes consumers (not this one) that own no pending entry, are idle longer than `idleMs`
   * and sent no heartbeat for as long.
   */
  async removeDeadConsumers(idleMs: number): Promise<string[]> {
    return (await REMOVE_DEAD.run(
      this.redis,
      [this.keys.streamKey, this.keys.heartbeatKey],
      [this.group, idleMs, this.consumer],
    )) as string[];
  }

  /** Registers the consumer in the group at once (visible to health before its first entry). */
  async join(): Promise<void> {
    await this.redis.xgroup("CREATECONSUMER", this.keys.streamKey, this.group, this.consumer);
    await this.heartbeat();
  }

  /** Tells the other consumers of the group this one is alive. */
  async heartbeat(): Promise<void> {
    await HEARTBEAT.run(this.redis, [this.keys.heartbeatKey], [this.consumer]);
  }

  /** On a clean stop: forgets the heartbeat and leaves the group if nothing is pending here. */
  async leave(): Promise<boolean> {
    return (
      (await LEAVE.run(
        this.redis,
        [this.keys.streamKey, this.keys.heartbeatKey],
        [this.group, this.consumer],
      )) === 1
    );
  }
}
