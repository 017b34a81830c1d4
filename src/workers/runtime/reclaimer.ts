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
const REMOVE_DEAD = new LuaScript(`
local removed = {}
local consumers = redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])
for _, c in ipairs(consumers) do
  local info = {}
  for i = 1, #c, 2 do info[c[i]] = c[i + 1] end
  if info['name'] ~= ARGV[3] and tonumber(info['pending']) == 0 and tonumber(info['idle']) > tonumber(ARGV[2]) then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], info['name'])
    removed[#removed + 1] = info['name']
  end
end
return removed
`);

/**
 * Rebalancing for one group: takes over entries left pending by dead or stuck consumers
 * (XAUTOCLAIM after `claimIdleMs`) and removes consumers that are gone for good.
 */
export class Reclaimer {
  private cursor = "0-0";

  constructor(
    private readonly redis: Redis,
    private readonly keys: { streamKey: string; dueKey: string; failuresKey: string },
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
      pipeline.xclaim(this.keys.streamKey, this.group, this.consumer, 0, e.entryId, "IDLE", Math.max(0, Math.round(e.idleMs)), "JUSTID");
    }
    await pipeline.exec();
  }

  /** Deletes consumers (not this one) idle longer than `idleMs` that own no pending entry. */
  async removeDeadConsumers(idleMs: number): Promise<string[]> {
    return (await REMOVE_DEAD.run(this.redis, [this.keys.streamKey], [this.group, idleMs, this.consumer])) as string[];
  }
}
