import { promises as fs } from "node:fs";
import { dirname } from "node:path";

/** What every ledger line carries so a later scan can rebuild the idempotency index. */
export interface LedgerRecord {
  idempotencyKey: string;
  externalRef: string;
  [field: string]: unknown;
}

/**
 * An append-only JSONL file and the in-memory index `idempotencyKey → externalRef` built from
 * it. The file is the only durable state, so an adapter that restarts, or a second adapter on
 * the same file, rebuilds the same index by reading it.
 *
 * Not safe on its own against other writers: callers hold the file's lock around
 * {@link catchUp} + {@link append} (see publish-sink.ts). Reads are incremental: only bytes
 * past the last scanned offset are parsed, so the per-publish cost does not grow with the file.
 */
export class PublishLedger {
  private readonly refs = new Map<string, string>();
  private offset = 0;
  private inode: number | undefined;
  /** Bytes after the last newline: a line torn by a writer that crashed mid-write. */
  private tornTail = false;

  constructor(
    readonly path: string,
    private readonly onWarning: (message: string) => void = () => undefined,
  ) {}

  /** The reference already published under `key`, if this process has seen it. */
  get(key: string): string | undefined {
    return this.refs.get(key);
  }

  get size(): number {
    return this.refs.size;
  }

  /** Reads what other processes appended since the last call. */
  async catchUp(): Promise<void> {
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(this.path, "r");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") {
        this.reset();
        return;
      }
      throw err;
    }
    try {
      const stat = await handle.stat();
      // Replaced or truncated (rotation by an operator): forget and rescan from the start.
      if (stat.ino !== this.inode || stat.size < this.offset) {
        this.reset();
        this.inode = stat.ino;
      }
      if (stat.size === this.offset) return;
      const length = stat.size - this.offset;
      const buffer = Buffer.alloc(length);
      let read = 0;
      while (read < length) {
        const { bytesRead } = await handle.read(buffer, read, length - read, this.offset + read);
        if (bytesRead === 0) break;
        read += bytesRead;
      }
      const lastNewline = buffer.lastIndexOf(0x0a, read - 1);
      const complete = lastNewline + 1;
      this.tornTail = complete < read;
      if (complete === 0) return;
      for (const line of buffer.subarray(0, complete).toString("utf8").split("\n")) {
        if (line.trim() !== "") this.index(line);
      }
      this.offset += complete;
    } finally {
      await handle.close();
    }
  }

  /**
   * Appends one record with a single O_APPEND write, so a concurrent reader never sees half of
   * it unless the writer dies mid-call. Call only after {@link catchUp} under the lock.
   */
  async append(record: LedgerRecord): Promise<void> {
    // Start on a fresh line if a crashed writer left a torn one, so ours stays parseable.
    const text = `${this.tornTail ? "\n" : ""}${JSON.stringify(record)}\n`;
    const bytes = Buffer.from(text, "utf8");
    await fs.mkdir(dirname(this.path), { recursive: true });
    const handle = await fs.open(this.path, "a");
    try {
      await handle.write(bytes);
      // Under the lock nobody else writes, so the end of the file is the end of our line (this
      // also steps over a torn fragment, which catchUp left unread).
      const stat = await handle.stat();
      this.inode = stat.ino;
      this.offset = stat.size;
    } finally {
      await handle.close();
    }
    this.tornTail = false;
    this.refs.set(record.idempotencyKey, record.externalRef);
  }

  private index(line: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      this.onWarning(`skipping unparseable line in ${this.path}: ${line.slice(0, 80)}`);
      return;
    }
    if (typeof parsed !== "object" || parsed === null) return;
    const { idempotencyKey, externalRef } = parsed as Partial<LedgerRecord>;
    if (typeof idempotencyKey !== "string" || typeof externalRef !== "string") return;
    // The first line for a key wins: that is the reference callers were given.
    if (!this.refs.has(idempotencyKey)) this.refs.set(idempotencyKey, externalRef);
  }

  private reset(): void {
    this.refs.clear();
    this.offset = 0;
    this.inode = undefined;
    this.tornTail = false;
  }
}
