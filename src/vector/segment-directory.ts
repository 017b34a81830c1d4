import { randomBytes } from "node:crypto";
import { link, mkdir, open, readdir, readFile, rename, stat, unlink } from "node:fs/promises";
import { join } from "node:path";

import { VectorStoreError } from "./vector-store.js";

/**
 * The files of one embedded store:
 *
 *   <path>/store.json            { "format": 1, "dimension": 512 }, created once, never rewritten
 *   <path>/segments/*.seg        immutable segment files (segment-codec.ts)
 *   <path>/segments/*.tmp        a segment being written; never read
 *   <path>/segments/compact.lock held by the one process compacting
 *
 * Writers never lock: each write is a new file that appears under its final name by rename(2),
 * which is atomic, so a reader sees a whole segment or none of it, and two writers cannot
 * overwrite each other. Only compaction takes a lock, and only against other compactions.
 */
export interface StoreMeta {
  format: 1;
  dimension: number;
}

export interface SegmentFile {
  name: string;
  bytes: number;
}

const SEGMENT_SUFFIX = ".seg";
/** Segments written by upsert/delete are named "s-…", compacted ones "c-…". */
export const WRITTEN_PREFIX = "s-";
export const COMPACTED_PREFIX = "c-";
const TEMP_SUFFIX = ".tmp";
const LOCK_NAME = "compact.lock";

function unavailable(action: string, cause: unknown): VectorStoreError {
  return new VectorStoreError(
    "VECTOR_STORE_UNAVAILABLE",
    `vector store could not ${action}: ${String(cause)}`,
    {
      cause,
    },
  );
}

function errnoCode(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && "code" in error
    ? String(error.code)
    : undefined;
}

export class SegmentDirectory {
  readonly segmentsPath: string;
  readonly #metaPath: string;

  constructor(readonly path: string) {
    this.segmentsPath = join(path, "segments");
    this.#metaPath = join(path, "store.json");
  }

  async ensure(): Promise<void> {
    try {
      await mkdir(this.segmentsPath, { recursive: true });
    } catch (error) {
      throw unavailable(`create ${this.segmentsPath}`, error);
    }
  }

  async readMeta(): Promise<StoreMeta | undefined> {
    let text: string;
    try {
      text = await readFile(this.#metaPath, "utf8");
    } catch (error) {
      if (errnoCode(error) === "ENOENT") return undefined;
      throw unavailable(`read ${this.#metaPath}`, error);
    }
    const meta = JSON.parse(text) as Partial<StoreMeta>;
    if (meta.format !== 1 || !Number.isInteger(meta.dimension)) {
      throw new VectorStoreError(
        "VECTOR_STORE_CORRUPT",
        `${this.#metaPath} is not a format-1 store description`,
      );
    }
    return meta as StoreMeta;
  }

  /**
   * Creates store.json unless it exists, and returns what is on disk. link(2) fails with EEXIST
   * instead of replacing, so of two processes creating the store with different dimensions
   * exactly one wins and the other learns it.
   */
  async createMeta(dimension: number): Promise<StoreMeta> {
    await this.ensure();
    const temp = `${this.#metaPath}.${randomBytes(6).toString("hex")}${TEMP_SUFFIX}`;
    try {
      await writeDurably(
        temp,
        Buffer.from(JSON.stringify({ format: 1, dimension } satisfies StoreMeta)),
      );
      await link(temp, this.#metaPath);
      await syncDirectory(this.path);
    } catch (error) {
      if (errnoCode(error) !== "EEXIST") throw unavailable(`create ${this.#metaPath}`, error);
    } finally {
      await unlink(temp).catch(() => undefined);
    }
    const meta = await this.readMeta();
    if (!meta) throw unavailable(`read back ${this.#metaPath}`, new Error("missing after create"));
    return meta;
  }

  async list(): Promise<string[]> {
    try {
      return (await readdir(this.segmentsPath)).filter((n) => n.endsWith(SEGMENT_SUFFIX)).sort();
    } catch (error) {
      if (errnoCode(error) === "ENOENT") return [];
      throw unavailable(`list ${this.segmentsPath}`, error);
    }
  }

  async listWithSizes(): Promise<SegmentFile[]> {
    const files: SegmentFile[] = [];
    for (const name of await this.list()) {
      try {
        files.push({ name, bytes: (await stat(join(this.segmentsPath, name))).size });
      } catch (error) {
        if (errnoCode(error) !== "ENOENT") throw unavailable(`stat ${name}`, error);
      }
    }
    return files;
  }

  /** undefined when the file is gone: another process compacted it away after we listed it. */
  async read(name: string): Promise<Buffer | undefined> {
    try {
      return await readFile(join(this.segmentsPath, name));
    } catch (error) {
      if (errnoCode(error) === "ENOENT") return undefined;
      throw unavailable(`read segment ${name}`, error);
    }
  }

  /** The first `bytes` bytes of a segment (or all of it if shorter); undefined when it is gone. */
  async readHead(name: string, bytes: number): Promise<Buffer | undefined> {
    let handle;
    try {
      handle = await open(join(this.segmentsPath, name), "r");
    } catch (error) {
      if (errnoCode(error) === "ENOENT") return undefined;
      throw unavailable(`open segment ${name}`, error);
    }
    try {
      const buffer = Buffer.alloc(bytes);
      const { bytesRead } = await handle.read(buffer, 0, bytes, 0);
      return buffer.subarray(0, bytesRead);
    } catch (error) {
      throw unavailable(`read segment ${name}`, error);
    } finally {
      await handle.close();
    }
  }

  /**
   * Writes a segment durably and publishes it atomically: data and file are fsynced before the
   * rename, so after a crash a segment is either complete under its name or absent.
   */
  async write(content: Buffer, hint: string): Promise<string> {
    await this.ensure();
    const name = `${hint}-${randomBytes(4).toString("hex")}${SEGMENT_SUFFIX}`;
    const target = join(this.segmentsPath, name);
    const temp = `${target}${TEMP_SUFFIX}`;
    try {
      await writeDurably(temp, content);
      await rename(temp, target);
      await syncDirectory(this.segmentsPath);
      return name;
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw unavailable(`write segment ${name}`, error);
    }
  }

  async remove(names: readonly string[]): Promise<void> {
    for (const name of names) {
      await unlink(join(this.segmentsPath, name)).catch((error: unknown) => {
        if (errnoCode(error) !== "ENOENT") throw unavailable(`remove segment ${name}`, error);
      });
    }
    await syncDirectory(this.segmentsPath);
  }

  /** Temp files a crashed writer left behind; only ones old enough that no live writer owns them. */
  async removeStaleTemps(olderThanMs: number): Promise<void> {
    const names = await readdir(this.segmentsPath).catch(() => [] as string[]);
    for (const name of names.filter((n) => n.endsWith(TEMP_SUFFIX))) {
      const path = join(this.segmentsPath, name);
      const info = await stat(path).catch(() => undefined);
      if (info && Date.now() - info.mtimeMs > olderThanMs)
        await unlink(path).catch(() => undefined);
    }
  }

  /**
   * Takes the compaction lock if free. A lock whose owner process is gone, or that is older than
   * staleMs, is broken: a compactor that crashed must not stop compaction forever.
   */
  async tryLock(staleMs: number): Promise<(() => Promise<void>) | undefined> {
    const path = join(this.segmentsPath, LOCK_NAME);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const handle = await open(path, "wx");
        await handle.writeFile(JSON.stringify({ pid: process.pid, at: new Date().toISOString() }));
        await handle.close();
        return () => unlink(path).catch(() => undefined);
      } catch (error) {
        if (errnoCode(error) !== "EEXIST") throw unavailable("take the compaction lock", error);
        if (!(await isStaleLock(path, staleMs))) return undefined;
        await unlink(path).catch(() => undefined);
      }
    }
    return undefined;
  }
}

async function isStaleLock(path: string, staleMs: number): Promise<boolean> {
  try {
    const [info, text] = await Promise.all([stat(path), readFile(path, "utf8")]);
    if (Date.now() - info.mtimeMs > staleMs) return true;
    const pid = Number((JSON.parse(text || "{}") as { pid?: unknown }).pid);
    if (!Number.isInteger(pid) || pid <= 0) return false;
    process.kill(pid, 0);
    return false;
  } catch (error) {
    // ESRCH: the owner is dead. ENOENT: released meanwhile. A half-written lock (bad JSON) is
    // judged by its age only, so it stays unbroken until staleMs has passed.
    const code = errnoCode(error);
    return code === "ESRCH";
  }
}

async function writeDurably(path: string, content: Buffer): Promise<void> {
  const handle = await open(path, "wx");
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function syncDirectory(path: string): Promise<void> {
  // fsync on a directory makes the rename durable on Linux; some platforms refuse it, harmlessly.
  const handle = await open(path, "r").catch(() => undefined);
  if (!handle) return;
  try {
    await handle.sync();
  } catch {
    // EINVAL/EPERM on filesystems that do not support it.
  } finally {
    await handle.close();
  }
}
