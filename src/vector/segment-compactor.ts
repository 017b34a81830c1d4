import { compareStamps } from "./hybrid-clock.js";
import { decodeSegment, encodeSegment, type SegmentRecord } from "./segment-codec.js";
import { COMPACTED_PREFIX, type SegmentDirectory } from "./segment-directory.js";

export interface CompactionOptions {
  /** Compact once there are more mergeable (smaller than maxMergeBytes) segment files than this. */
  maxSegments: number;
  /**
   * Files at least this large are never merged again. Bounds the pause a compaction causes (its
   * decode runs on the event loop) and the rewrite cost; the file count stays ~total / this.
   */
  maxMergeBytes: number;
  /** How many of the largest segments a compaction leaves alone (size-tiered merging). */
  keepLargest: number;
  /** A compaction lock older than this is taken to belong to a hung process. */
  lockStaleMs: number;
}

export const DEFAULT_COMPACTION: CompactionOptions = {
  maxSegments: 16,
  maxMergeBytes: 64 * 1024 * 1024,
  keepLargest: 4,
  lockStaleMs: 10 * 60_000,
};
/** Keeps the merged-from list well inside SEGMENT_HEAD_BYTES. */
const MAX_INPUTS = 256;
const STALE_TEMP_MS = 60 * 60_000;

/**
 * Merges the smallest segments into one, keeping per id only the record with the largest stamp
 * (deletes included, as tombstones, so a late segment with an older upsert stays dead). Because
 * every record keeps its own stamp, readers may see the merged file and its inputs side by side
 * at any moment without changing what they compute. Leaving the largest files alone makes it
 * size-tiered: a bulk load rewrites each vector a few times, not once per compaction.
 *
 * Returns the number of files merged (0 when there was nothing to do or another process holds
 * the lock).
 */
export async function compactSegments(
  directory: SegmentDirectory,
  dimension: number,
  options: CompactionOptions = DEFAULT_COMPACTION,
): Promise<number> {
  if ((await directory.list()).length <= options.maxSegments) return 0;
  const release = await directory.tryLock(options.lockStaleMs);
  if (!release) return 0;
  try {
    const small = (await directory.listWithSizes())
      .filter((f) => f.bytes < options.maxMergeBytes)
      .sort((a, b) => a.bytes - b.bytes || a.name.localeCompare(b.name));
    if (small.length <= options.maxSegments) return 0;
    const take = Math.min(MAX_INPUTS, Math.max(2, small.length - options.keepLargest));
    const inputs = small.slice(0, take).map((f) => f.name);
    const latest = new Map<string, SegmentRecord>();
    const keep = (record: SegmentRecord) => {
      const current = latest.get(record.id);
      if (!current || compareStamps(record.stamp, current.stamp) > 0) latest.set(record.id, record);
    };
    const merged: string[] = [];
    for (const name of inputs) {
      const content = await directory.read(name);
      // Gone means a compactor before us (whose lock we broke as stale) already merged it.
      if (!content) continue;
      // The decoded vector is a view into `content`, which stays alive through `latest`.
      decodeSegment(content, name, dimension, { upsert: keep, delete: keep });
      merged.push(name);
    }
    if (merged.length < 2) return 0;
    await directory.write(
      encodeSegment([...latest.values()], dimension, merged),
      `${COMPACTED_PREFIX}${Date.now().toString(36)}`,
    );
    await directory.remove(merged);
    await directory.removeStaleTemps(STALE_TEMP_MS);
    return merged.length;
  } finally {
    await release();
  }
}
