import type { Redis } from "ioredis";

import type { StreamKeys } from "../../streams/stream-names.js";

export interface ConsumerHealth {
  name: string;
  /** Entries delivered to this consumer and not acknowledged. */
  pending: number;
  /** Milliseconds since the consumer last talked to the group (XINFO CONSUMERS `idle`). */
  idleMs: number;
}

export interface GroupHealth {
  name: string;
  consumers: ConsumerHealth[];
  /** Delivered, not yet acknowledged (includes entries waiting for a retry). */
  pending: number;
  /** Entries not yet delivered to the group; null when Redis cannot tell (after deletions). */
  lag: number | null;
  lastDeliveredId: string;
  /** Age of the oldest pending entry, from its id's timestamp; null when nothing is pending. */
  oldestPendingAgeMs: number | null;
  /** Time since the oldest pending entry was last delivered; null when nothing is pending. */
  oldestPendingIdleMs: number | null;
  /** Pending entries waiting for a retry (the runtime's schedule). */
  retryScheduled: number;
}

export interface StreamHealth {
  /** Logical name. */
  stream: string;
  length: number;
  lastEntryId: string | null;
  groups: GroupHealth[];
}

type Flat = (string | number | null | Flat)[];

/**
 * Length, consumer groups, lag, pending entries and consumers of each stream, for the
 * `pipelineHealth` query and the metrics. A stream that does not exist yet reports as empty.
 */
export async function readGroupHealth(
  redis: Redis,
  keys: StreamKeys,
  streams: string[],
): Promise<StreamHealth[]> {
  const first = redis.pipeline();
  for (const stream of streams)
    first.call("XINFO", "STREAM", keys.key(stream)).call("XINFO", "GROUPS", keys.key(stream));
  const firstResults = (await first.exec()) ?? [];

  const partial = streams.map((stream, i) => {
    const [streamError, info] = firstResults[2 * i] ?? [];
    const [groupsError, groups] = firstResults[1 + 2 * i] ?? [];
    if (streamError || groupsError) {
      const error = (streamError ?? groupsError)!;
      // "ERR no such key": nothing was produced yet and no consumer created the stream.
      if (/no such key/i.test(error.message))
        return { stream, length: 0, lastEntryId: null, groups: [] as Record<string, unknown>[] };
      throw error;
    }
    const s = pairs(info as Flat);
    return {
      stream,
      length: Number(s["length"] ?? 0),
      lastEntryId: lastEntryId(s),
      groups: (groups as Flat[]).map(pairs),
    };
  });

  const second = redis.pipeline();
  for (const s of partial) {
    const key = keys.key(s.stream);
    for (const g of s.groups) {
      const name = String(g["name"]);
      second
        .call("XINFO", "CONSUMERS", key, name)
        .call("XPENDING", key, name)
        .call("XPENDING", key, name, "-", "+", 1)
        .zcard(keys.key(`${s.stream}:${name}:retry-due`));
    }
  }
  // The Redis clock, read after the pending lists, so an entry's age is never below its idle time.
  second.time();
  const secondResults = (await second.exec()) ?? [];
  const [timeError, time] = secondResults.at(-1) ?? [];
  if (timeError) throw timeError;
  const [seconds, micros] = time as [string, string];
  const nowMs = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  let at = 0;
  const next = (): unknown => {
    const [error, value] = secondResults[at++] ?? [];
    if (error) throw error;
    return value;
  };

  return partial.map((s) => ({
    stream: s.stream,
    length: s.length,
    lastEntryId: s.lastEntryId,
    groups: s.groups.map((g): GroupHealth => {
      const consumers = (next() as Flat[]).map(pairs).map((c) => ({
        name: String(c["name"]),
        pending: Number(c["pending"] ?? 0),
        idleMs: Number(c["idle"] ?? 0),
      }));
      const [count, smallestId] = next() as [number, string | null];
      const oldest = (next() as [string, string, number, number][])[0];
      const retryScheduled = Number(next());
      return {
        name: String(g["name"]),
        consumers,
        pending: Number(count ?? g["pending"] ?? 0),
        // Redis 7 reports lag; it is nil when it cannot be computed, and absent before 7.
        lag: g["lag"] === undefined || g["lag"] === null ? null : Number(g["lag"]),
        lastDeliveredId: String(g["last-delivered-id"] ?? "0-0"),
        oldestPendingAgeMs: smallestId ? Math.max(0, nowMs - idTimestamp(smallestId)) : null,
        oldestPendingIdleMs: oldest ? Number(oldest[2]) : null,
        retryScheduled,
      };
    }),
  }));
}

function pairs(flat: Flat): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) record[String(flat[i])] = flat[i + 1];
  return record;
}

function lastEntryId(info: Record<string, unknown>): string | null {
  const last = info["last-entry"];
  if (Array.isArray(last) && typeof last[0] === "string") return last[0];
  // An emptied stream keeps its last id; report it only while entries exist.
  return null;
}

function idTimestamp(id: string): number {
  return Number(id.split("-")[0]);
}
