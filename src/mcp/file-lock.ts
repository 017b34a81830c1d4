import { randomUUID } from "node:crypto";
import { promises as fs, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { dirname } from "node:path";

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
  /** Give up (FileLockError) after this long. */
  timeoutMs?: number;
  /**
   * A lock whose holder is a dead process on this host, or (for holders on other hosts that
   * share the volume, whose pids we cannot check) that is older than this, is broken.
   */
  staleMs?: number;
}

const HOST = hostname();

/**
 * Runs `fn` while holding an exclusive lock file (`open(O_CREAT|O_EXCL)`), so several processes
 * that append to one file take turns. Node 20 has no flock(2), and a lock file works on every
 * local filesystem without a native addon.
 *
 * The lock file holds `host pid token`. A holder that crashed leaves it behind; the next process
 * sees the dead pid and breaks it by renaming it aside, then checks that what it renamed is the
 * stale lock it judged (not a fresh one another process took in between) and otherwise puts it
 * back with link(2), which cannot overwrite.
 */
export async function withFileLock<T>(
  lockPath: string,
  fn: () => Promise<T>,
  options: FileLockOptions = {},
): Promise<T> {
  const token = `${HOST} ${process.pid} ${randomUUID()}`;
  const staleMs = options.staleMs ?? 60_000;
  await acquire(lockPath, token, options.timeoutMs ?? 10_000, staleMs);
  const acquiredAt = Date.now();
  try {
    return await fn();
  } finally {
    release(lockPath, token, Date.now() - acquiredAt > staleMs / 2);
  }
}

async function acquire(lockPath: string, token: string, timeoutMs: number, staleMs: number) {
  const deadline = Date.now() + timeoutMs;
  let delay = 1;
  for (;;) {
    try {
      // Synchronous create/unlink: one syscall each instead of a thread-pool round trip per
      // step, which on this kind of disk was a large share of a publish (see the bench).
      writeFileSync(lockPath, token, { flag: "wx" });
      return;
    } catch (err) {
      if (errnoCode(err) === "ENOENT") {
        await fs.mkdir(dirname(lockPath), { recursive: true });
        continue;
      }
      if (errnoCode(err) !== "EEXIST") throw err;
    }
    const holder = await readHolder(lockPath);
    if (holder === undefined) continue; // released between our open and read
    if (isStale(holder, staleMs)) {
      await breakStale(lockPath, holder.content);
      continue;
    }
    if (Date.now() >= deadline) throw new FileLockError(lockPath, timeoutMs);
    // Jittered backoff: holders keep the lock for well under a millisecond on the JSONL path.
    await sleep(delay * (0.5 + Math.random()));
    delay = Math.min(delay * 2, 25);
  }
}

interface Holder {
  content: string;
  host: string;
  pid: number;
  ageMs: number;
}

async function readHolder(lockPath: string): Promise<Holder | undefined> {
  try {
    const [content, stat] = await Promise.all([fs.readFile(lockPath, "utf8"), fs.stat(lockPath)]);
    const [host = "", pid = ""] = content.split(" ");
    return { content, host, pid: Number(pid), ageMs: Date.now() - stat.mtimeMs };
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return undefined;
    throw err;
  }
}

function isStale(holder: Holder, staleMs: number): boolean {
  // An empty file is a holder caught between open and write; only age can tell it is dead.
  if (holder.host === HOST && Number.isInteger(holder.pid) && holder.pid > 0) {
    return !processAlive(holder.pid);
  }
  return holder.ageMs > staleMs;
}

async function breakStale(lockPath: string, staleContent: string): Promise<void> {
  const aside = `${lockPath}.stale-${randomUUID()}`;
  try {
    await fs.rename(lockPath, aside);
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return;
    throw err;
  }
  const moved = await fs.readFile(aside, "utf8").catch(() => staleContent);
  if (moved !== staleContent) {
    // We moved a live lock someone took after our check: hand it back unless a third process
    // has locked since, in which case its holder keeps a lock that no longer guards anything
    // for at most one critical section; accepted, as this needs a crash plus a three-way race.
    await fs.link(aside, lockPath).catch(() => undefined);
  }
  await fs.unlink(aside).catch(() => undefined);
}

function release(lockPath: string, token: string, heldLong: boolean): void {
  // A lock held for less than half the stale age cannot have been broken (same host: we are
  // alive; other hosts: it is not old enough), so it is still ours. Held longer, check first:
  // the file may now be someone else's lock.
  if (heldLong && readFileOrUndefined(lockPath) !== token) return;
  try {
    unlinkSync(lockPath);
  } catch {
    // Already gone: nothing to release.
  }
}

function readFileOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errnoCode(err) === "EPERM";
  }
}

function errnoCode(err: unknown): string | undefined {
  return typeof err === "object" && err !== null && "code" in err
    ? String((err as { code: unknown }).code)
    : undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
