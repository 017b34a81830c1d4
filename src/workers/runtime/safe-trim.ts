import type { Redis } from "ioredis";

import { LuaScript } from "./lua-script.js";

// One atomic step, so no entry can be added or delivered between measuring and trimming.
// `safe` is the smallest id some group has not acknowledged: its oldest pending entry, or the
// entry after its last-delivered id. Entries below it are done everywhere.
//   - If at least maxLen entries sit at or above `safe`, cut exactly there (XTRIM MINID): the
//     acknowledged history goes, no unacknowledged entry does.
//   - Otherwise the newest maxLen entries already cover every unacknowledged one, and MAXLEN
//     keeps maxLen entries of history for subscriptions to resume from.
// A group named in ARGV but missing (its stage never started) has acknowledged nothing: no trim.
// Exact trims (no `~`): the cut is where this computes it, and it runs once per sweep, not per XADD.
const TRIM = new LuaScript(`
local key = KEYS[1]
local maxLen = tonumber(ARGV[1])
local len = redis.call('XLEN', key)
if len <= maxLen then return {0, 'short'} end
local function parse(id)
  local dash = string.find(id, '-')
  return tonumber(string.sub(id, 1, dash - 1)), tonumber(string.sub(id, dash + 1))
end
local function less(a, b)
  local am, as = parse(a)
  local bm, bs = parse(b)
  return am < bm or (am == bm and as < bs)
end
local groups = redis.call('XINFO', 'GROUPS', key)
local seen = {}
local safe = nil
local backlog = 0
for _, g in ipairs(groups) do
  local info = {}
  for i = 1, #g, 2 do info[g[i]] = g[i + 1] end
  seen[info['name']] = true
  local pending = redis.call('XPENDING', key, info['name'])
  local candidate
  if tonumber(pending[1]) > 0 then
    candidate = pending[2]
  else
    local ms, seq = parse(info['last-delivered-id'])
    candidate = string.format('%.0f-%.0f', ms, seq + 1)
  end
  if safe == nil or less(candidate, safe) then
    safe = candidate
    local lag = info['lag']
    backlog = tonumber(pending[1]) + (type(lag) == 'number' and lag or 0)
  end
end
for i = 2, #ARGV do
  if not seen[ARGV[i]] then return {0, 'missing-group'} end
end
if safe == nil then
  return {redis.call('XTRIM', key, 'MAXLEN', maxLen), 'maxlen'}
end
local atOrAbove = backlog
if atOrAbove < maxLen then
  atOrAbove = #redis.call('XRANGE', key, safe, '+', 'COUNT', maxLen)
end
if atOrAbove >= maxLen then
  return {redis.call('XTRIM', key, 'MINID', safe), 'minid'}
end
return {redis.call('XTRIM', key, 'MAXLEN', maxLen), 'maxlen'}
`);

export interface TrimResult {
  removed: number;
  /** "short" (nothing to trim), "maxlen", "minid" (a backlog held the cut), "missing-group". */
  mode: string;
}

/**
 * Trims a work stream without dropping work: only entries every consumer group (and every
 * group in `groups`, created or not) has acknowledged are removed, and of those the newest
 * `maxLen` entries of the stream are kept as history for subscriptions. Replaces
 * `XADD MAXLEN ~`, which trimmed undelivered entries when a stage stalled (issue 12).
 */
export async function trimAcknowledged(
  redis: Redis,
  streamKey: string,
  maxLen: number,
  groups: string[],
): Promise<TrimResult> {
  try {
    const [removed, mode] = (await TRIM.run(redis, [streamKey], [maxLen, ...groups])) as [
      number,
      string,
    ];
    return { removed, mode };
  } catch (error) {
    // XINFO GROUPS on a stream nobody created yet.
    if (error instanceof Error && /no such key/i.test(error.message))
      return { removed: 0, mode: "short" };
    throw error;
  }
}
