import type { Redis } from "ioredis";

import type { StreamKeys } from "./stream-names.js";

/** Trends with a job the group has not acknowledged, or undefined when there were too many to read. */
export type LiveJobs = Set<string> | undefined;

const PAGE = 1000;
// "trendId":"<uuid>" inside the envelope JSON; cheaper than parsing every envelope. Optional
// whitespace: the outbox relay forwards Postgres' jsonb text, which writes `"trendId": "…"`.
const TREND_ID = /"trendId"\s*:\s*"([0-9a-f-]{36})"/i;

/**
 * The trends that still have work on `stream` for `group`: entries not yet delivered to the
 * group (after its last-delivered-id) and entries delivered but not acknowledged (its pending
 * list, which includes entries waiting for a retry). Reads at most `limit` entries; beyond that
 * it answers undefined ("cannot tell"), and the caller must not assume a job is missing.
 * Without the group (its stage never started) every entry in the stream is live.
 */
export async function readLiveJobs(
  redis: Redis,
  keys: StreamKeys,
  stream: string,
  group: string,
  limit: number,
): Promise<LiveJobs> {
  const key = keys.key(stream);
  const trends = new Set<string>();
  let read = 0;
  const note = (fields: string[] | null | undefined) => {
    const envelope = fields?.[fields.indexOf("envelope") + 1];
    const match = envelope ? TREND_ID.exec(envelope) : null;
    if (match) trends.add(match[1]!.toLowerCase());
  };

  let lastDelivered = "0-0";
  let groupExists = false;
  try {
    const groups = (await redis.xinfo("GROUPS", key)) as unknown[][];
    for (const raw of groups) {
      const info: Record<string, unknown> = {};
      for (let i = 0; i + 1 < raw.length; i += 2) info[String(raw[i])] = raw[i + 1];
      if (info.name === group) {
        groupExists = true;
        lastDelivered = String(info["last-delivered-id"] ?? "0-0");
      }
    }
  } catch (error) {
    if (/no such key/i.test((error as Error).message)) return trends;
    throw error;
  }

  // Not yet delivered (or everything, without a group).
  let start = groupExists ? `(${lastDelivered}` : "-";
  for (;;) {
    const page = await redis.xrange(key, start, "+", "COUNT", PAGE);
    for (const [, fields] of page) note(fields);
    read += page.length;
    if (read > limit) return undefined;
    if (page.length < PAGE) break;
    start = `(${page.at(-1)![0]}`;
  }
  if (!groupExists) return trends;

  // Delivered, not acknowledged.
  let from = "-";
  for (;;) {
    const pending = (await redis.xpending(key, group, from, "+", PAGE)) as [
      string,
      string,
      number,
      number,
    ][];
    if (pending.length === 0) break;
    const fetch = redis.pipeline();
    for (const [id] of pending) fetch.xrange(key, id, id);
    for (const [error, entries] of (await fetch.exec()) ?? []) {
      if (error) throw error;
      for (const [, fields] of entries as [string, string[]][]) note(fields);
    }
    read += pending.length;
    if (read > limit) return undefined;
    if (pending.length < PAGE) break;
    from = `(${pending.at(-1)![0]}`;
  }
  return trends;
}
