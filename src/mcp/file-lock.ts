import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

import { lock } from "proper-lockfile";

/** The lock could not be taken in time; the caller may retry later. */
export class FileLockError extends Error {
  readonly code = "FILE_LOCK_TIMEOUT";
  readonly retryable = true;
  constructor(
    readonly lockPath: string,
    timeoutMs: number,
  ) {
    super(`could not lock ${lockPath} within ${timeoutMs} ms`);
    this.name = "FileLockError";
  }
}

export interface FileLockOptions {
  /** Give up (FileLockError) after this long. Default 10 s. */
  timeoutMs?: number;
  /**
   * A lock whose holder stopped refreshing it this long ago (a crashed process, on this host or
   * another sharing the volume) is broken. The holder refreshes it every staleMs / 2 however long
   * it holds it, so this need not cover the critical section. Default 10 s, at least 5 s.
   */
  staleMs?: number;
}

/**
 * Runs `fn` while holding an exclusive cross-process lock at `lockPath` (proper-lockfile: an
 * atomic mkdir whose mtime the holder keeps fresh), so several processes that append to one file
 * take turns. Node 20 has no flock(2); this works on every local and network filesystem without a
 * native addon.
 *
 * proper-lockfile's own retries count attempts; the loop here keeps a deadline instead, with a
 * short jittered backoff because holders keep the lock for about a millisecond on the JSONL path.
 */
export async function withFileLock<T>(
  lockPath: string,
  fn: () => Promise<T>,
  options: FileLockOptions = {},
): Promise<T> {
  const release = await acquire(lockPath, options.timeoutMs ?? 10_000, options.staleMs ?? 10_000);
  try {
    return await fn();
  } finally {
    // ERELEASED / ENOTACQUIRED: the lock was judged stale and taken over meanwhile; nothing to free.
    await release().catch(() => undefined);
  }
}

async function acquire(
  lockPath: string,
  timeoutMs: number,
  staleMs: number,
): Promise<() => Promise<void>> {
  const deadline = Date.now() + timeoutMs;
  let delay = 1;
  for (;;) {
    try {
      return await lock(lockPath, {
        lockfilePath: lockPath,
        realpath: false,
        stale: Math.max(staleMs, 5000),
        // A lock lost to a takeover (this process could not refresh it for longer than stale,
        // e.g. frozen) would by default throw from a timer and end the process. As with any
        // lease, the critical section then in progress ran unguarded; ending the process
        // afterwards would not undo that, so it is left to finish.
        onCompromised: () => undefined,
      });
    } catch (err) {
      const code = errnoCode(err);
      if (code === "ENOENT") {
        await mkdir(dirname(lockPath), { recursive: true });
        continue;
      }
      if (code !== "ELOCKED") throw err;
    }
    if (Date.now() >= deadline) throw new FileLockError(lockPath, timeoutMs);
    await sleep(delay * (0.5 + Math.random()));
    delay = Math.min(delay * 2, 25);
  }
}

function errnoCode(err: unknown): string | undefined {
  return typeof err === "object" && err !== null && "code" in err
    ? String((err as { code: unknown }).code)
    : undefined;
}
