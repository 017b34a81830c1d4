import type { Redis } from "ioredis";

import type { StreamKeys } from "../streams/stream-names.js";
import { readGroupHealth } from "../workers/runtime/group-health.js";
import { SCALABLE_STAGES, type ScalableStage, STAGE_STREAMS } from "./stages.js";

/** What the autoscaler knows about one stage at one moment. */
export interface StageLoad {
  stage: ScalableStage;
  lag: number;
  pending: number;
  /** Consumers that talked to the group recently: the workers actually pulling. */
  liveConsumers: number;
  /** Entries the group has finished, ever (entries-read minus pending). */
  completed: number;
  /** Entries ever added to the stream (XINFO STREAM entries-added, Redis 7). */
  added: number;
  atMs: number;
}

type Flat = (string | number | null | Flat)[];

function pairs(flat: Flat): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = flat[i + 1];
  return out;
}

/**
 * Lag, pending and consumers come from readGroupHealth (what pipelineHealth and /metrics show);
 * the two running totals that give rates come from XINFO, which readGroupHealth does not keep.
 * A group that does not exist yet (no worker ever started) has everything in the stream as lag.
 */
export async function readStageLoad(
  redis: Redis,
  keys: StreamKeys,
  liveIdleMs: number,
): Promise<StageLoad[]> {
  const streams = SCALABLE_STAGES.map((s) => STAGE_STREAMS[s].stream);
  const health = await readGroupHealth(redis, keys, streams);
  const counters = redis.pipeline();
  for (const stream of streams)
    counters.call("XINFO", "STREAM", keys.key(stream)).call("XINFO", "GROUPS", keys.key(stream));
  const results = (await counters.exec()) ?? [];
  const atMs = Date.now();
  return SCALABLE_STAGES.map((stage, i) => {
    const { stream, group } = STAGE_STREAMS[stage];
    const s = health.find((h) => h.stream === stream);
    const g = s?.groups.find((x) => x.name === group);
    const [streamError, streamInfo] = results[2 * i] ?? [];
    const [groupsError, groupsInfo] = results[2 * i + 1] ?? [];
    const info = streamError ? {} : pairs(streamInfo as Flat);
    const groupInfo = groupsError
      ? undefined
      : (groupsInfo as Flat[]).map(pairs).find((x) => String(x["name"]) === group);
    const added = Number(info["entries-added"] ?? s?.length ?? 0);
    const entriesRead = groupInfo ? Number(groupInfo["entries-read"] ?? 0) : 0;
    const pending = g?.pending ?? 0;
    // lag is null when Redis cannot compute it (entries deleted mid-range); the counters can.
    const lag = g ? (g.lag ?? Math.max(0, added - entriesRead)) : (s?.length ?? 0);
    return {
      stage,
      lag,
      pending,
      liveConsumers: g ? g.consumers.filter((c) => c.idleMs <= liveIdleMs).length : 0,
      completed: Math.max(0, entriesRead - pending),
      added,
      atMs,
    };
  });
}

/**
 * Turns successive StageLoad samples into rates. The per-worker rate is only learned while the
 * stage had a backlog: an idle worker finishing 2 entries/s says nothing about what it could do.
 * Smoothed (EMA) so one slow interval (a GC pause, a model load) does not double the pool.
 */
export class RateTracker {
  private last = new Map<ScalableStage, StageLoad>();
  private perWorker = new Map<ScalableStage, number>();

  constructor(private readonly smoothing = 0.5) {}

  update(
    load: StageLoad,
    workers: number,
  ): { completionRate: number; arrivalRate: number; ratePerWorker: number | null } {
    const prev = this.last.get(load.stage);
    this.last.set(load.stage, load);
    if (!prev || load.atMs <= prev.atMs)
      return {
        completionRate: 0,
        arrivalRate: 0,
        ratePerWorker: this.perWorker.get(load.stage) ?? null,
      };
    const seconds = (load.atMs - prev.atMs) / 1000;
    const completionRate = Math.max(0, load.completed - prev.completed) / seconds;
    const arrivalRate = Math.max(0, load.added - prev.added) / seconds;
    const busy = prev.lag + prev.pending > 0 && load.lag + load.pending > 0;
    if (busy && workers > 0 && completionRate > 0) {
      const measured = completionRate / workers;
      const old = this.perWorker.get(load.stage);
      this.perWorker.set(
        load.stage,
        old === undefined ? measured : old + this.smoothing * (measured - old),
      );
    }
    return { completionRate, arrivalRate, ratePerWorker: this.perWorker.get(load.stage) ?? null };
  }
}
