import type { Redis } from "ioredis";

import { fieldsToRecord } from "../../streams/envelope.js";
import { type FailureRecord, parseFailureRecord } from "./failure-record.js";
import { LuaScript } from "./lua-script.js";

/** An entry this consumer now owns in the group, with what Redis knows of its history. */
export interface ClaimedEntry {
  entryId: string;
  fields: Record<string, string>;
  /** Times the group delivered it (XPENDING delivery count), this delivery included. */
  deliveries: number;
  failure: FailureRecord | undefined;
}

// Due times use the Redis clock so consumers on hosts with skewed clocks agree on them.
const PARK = new LuaScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
return 1
`);

// Popping (ZREM) is what makes one consumer, not several, take a due entry.
const POP_DUE = new LuaScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
if #ids > 0 then redis.call('ZREM', KEYS[1], unpack(ids)) end
local nxt = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local wait = -1
if nxt[2] then wait = math.max(0, tonumber(nxt[2]) - now) end
return { ids, wait }
`);

// XCLAIM with min-idle 0 takes the entry from whoever holds it and counts a delivery. An entry
// that was acknowledged meanwhile, or trimmed from the stream (Redis 7 drops it from the PEL),
// comes back empty: it is reported as gone and its failure record dropped.
const CLAIM = new LuaScript(`
local out = {}
for i = 3, #ARGV do
  local id = ARGV[i]
  local claimed = redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, id)
  local entry = claimed[1]
  if entry and entry[2] then
    local p = redis.call('XPENDING', KEYS[1], ARGV[1], id, id, 1)
    local state = redis.call('HGET', KEYS[2], id)
    out[#out + 1] = { id, entry[2], p[1][4], state or '' }
  else
    redis.call('HDEL', KEYS[2], id)
    out[#out + 1] = { id, {}, 0, '' }
  end
end
return out
`);

/**
 * Retries without re-adding to the stream: a failed entry stays pending in the group (other
 * groups reading the same stream never see the retry), its due time goes into a sorted set and
 * its failure count into a hash, both keyed per stream and group. Any consumer of the group pops
 * due entries and XCLAIMs them to itself, so a retry survives the crash of the consumer that
 * scheduled it, and the entries behind a failing one keep flowing meanwhile.
 */
export class RetrySchedule {
  constructor(
    private readonly redis: Redis,
    private readonly streamKey: string,
    /** ZSET entry id → due time (Redis clock, ms). */
    readonly dueKey: string,
    /** HASH entry id → FailureRecord JSON. */
    readonly failuresKey: string,
    private readonly group: string,
    private readonly consumer: string,
  ) {}

  /** Records a failure and makes the entry due again in `delayMs`. */
  async park(entryId: string, delayMs: number, record: FailureRecord): Promise<void> {
    await PARK.run(
      this.redis,
      [this.dueKey, this.failuresKey],
      [entryId, Math.max(0, Math.round(delayMs)), JSON.stringify(record)],
    );
  }

  /**
   * Takes up to `limit` due entries out of the schedule. `nextDueInMs` is how long until the
   * next one still scheduled is due (undefined when none is), so the reader can block no longer.
   */
  async popDue(limit: number): Promise<{ ids: string[]; nextDueInMs: number | undefined }> {
    const [ids, wait] = (await POP_DUE.run(this.redis, [this.dueKey], [limit])) as [
      string[],
      number,
    ];
    return { ids, nextDueInMs: wait < 0 ? undefined : wait };
  }

  /** XCLAIMs these entries to this consumer; `gone` are those no longer pending in the group. */
  async claim(ids: string[]): Promise<{ claimed: ClaimedEntry[]; gone: string[] }> {
    if (ids.length === 0) return { claimed: [], gone: [] };
    const rows = (await CLAIM.run(
      this.redis,
      [this.streamKey, this.failuresKey],
      [this.group, this.consumer, ...ids],
    )) as [string, string[], number, string][];
    const claimed: ClaimedEntry[] = [];
    const gone: string[] = [];
    for (const [entryId, flat, deliveries, state] of rows) {
      if (deliveries === 0) {
        gone.push(entryId);
        continue;
      }
      claimed.push({
        entryId,
        fields: fieldsToRecord(flat),
        deliveries,
        failure: parseFailureRecord(state),
      });
    }
    return { claimed, gone };
  }

  /** Drops the failure record and schedule of entries that are done (acknowledged). */
  forget(pipeline: ReturnType<Redis["multi"]>, entryId: string): void {
    pipeline.hdel(this.failuresKey, entryId).zrem(this.dueKey, entryId);
  }
}
