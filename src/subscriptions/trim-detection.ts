import type { Redis } from "ioredis";

import type { StreamEvent } from "./stream-event.js";
import { compareStreamIds, previousStreamId } from "./stream-id.js";

/**
 * Detecting entries trimmed from a stream before a subscriber saw them, so the subscriber gets an
 * explicit TRIMMED gap instead of a silent loss. Reads go in one MULTI with the check, so a trim
 * cannot slip in between.
 */

export type StreamEntry = [id: string, fields: string[]];

/** What trim detection needs from XINFO STREAM, plus whether the cursor entry still exists. */
export interface TrimState {
  firstId: string | undefined;
  lastGeneratedId: string | undefined;
  /** Redis 7+; undefined before, when removal cannot be told apart from a never-written id. */
  removed: number | undefined;
  cursorExists: boolean;
}

/**
 * One XRANGE page, read in one MULTI with what trim detection needs, so a trim cannot slip in
 * between the check and the read.
 */
export async function readPage(
  redis: Redis,
  key: string,
  cursor: string,
  count: number,
): Promise<{ trim: TrimState; entries: StreamEntry[] }> {
  const results = await redis
    .multi()
    .xinfo("STREAM", key)
    .xrange(key, cursor, cursor)
    .xrange(key, `(${cursor}`, "+", "COUNT", count)
    .exec();
  if (!results) throw new Error("MULTI was aborted");
  const [info, self, range] = results as [Error | null, unknown][];
  return { trim: trimState(info!, self!), entries: replyOf(range!) as StreamEntry[] };
}

export async function readTrimState(redis: Redis, key: string, cursor: string): Promise<TrimState> {
  const results = await redis.multi().xinfo("STREAM", key).xrange(key, cursor, cursor).exec();
  if (!results) throw new Error("MULTI was aborted");
  const [info, self] = results as [Error | null, unknown][];
  return trimState(info!, self!);
}

function replyOf([error, reply]: [Error | null, unknown]): unknown {
  if (error) throw error;
  return reply;
}

function trimState(info: [Error | null, unknown], self: [Error | null, unknown]): TrimState {
  const cursorExists = (replyOf(self) as unknown[]).length > 0;
  // A stream nobody has written to yet has no key: nothing can have been trimmed.
  if (info[0] && /no such key/i.test(info[0].message)) {
    return { firstId: undefined, lastGeneratedId: undefined, removed: 0, cursorExists };
  }
  const flat = replyOf(info) as unknown[];
  const field = (name: string) => {
    const i = flat.indexOf(name);
    return i >= 0 && i % 2 === 0 ? flat[i + 1] : undefined;
  };
  const entriesAdded = field("entries-added");
  return {
    firstId: (field("first-entry") as StreamEntry | null | undefined)?.[0],
    lastGeneratedId: field("last-generated-id") as string | undefined,
    removed: typeof entriesAdded === "number" ? entriesAdded - Number(field("length")) : undefined,
    cursorExists,
  };
}

/**
 * A TRIMMED gap when entries after `cursor` may have been removed before delivery. Trimming
 * removes from the head, so while the cursor's own entry is still there nothing after it was
 * trimmed. Once it is gone, the ids between it and the first remaining entry (`before`) are
 * reported, provided the stream has removed anything at all (Redis 7 `entries-added` >
 * `length`). `max-deleted-entry-id` would be the natural signal, but Redis 7.0 only moves it
 * on XDEL, not on XADD MAXLEN / XTRIM, so it cannot see trimming.
 * If the cursor entry itself was XDELed and nothing else removed, this over-reports: a "may
 * have missed" gap, never a silent loss.
 */
export function trimGap(
  stream: string,
  cursor: string,
  trim: TrimState,
  before?: string,
): StreamEvent | undefined {
  if (trim.cursorExists || trim.removed === 0) return undefined;
  // Before Redis 7 nothing says whether anything was ever removed; "from the start" is then
  // taken at its word rather than reported as a gap on every subscription.
  if (trim.removed === undefined && cursor === "0-0") return undefined;
  const next = before ?? trim.firstId;
  const missedTo = next !== undefined ? previousStreamId(next) : trim.lastGeneratedId;
  if (missedTo === undefined || compareStreamIds(missedTo, cursor) <= 0) return undefined;
  return {
    kind: "gap",
    stream,
    cursor: missedTo,
    reason: "TRIMMED",
    missedFrom: cursor,
    missedTo,
    message:
      `Entries of ${stream} after ${cursor} up to ${missedTo} were trimmed from the stream before ` +
      `they were delivered; re-query the current state (e.g. the escalations or trends queries) ` +
      `for what changed in that range. Delivery continues with the entries that remain.`,
  };
}
