import fs from "node:fs";
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
  private tornBytes = 0;

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

  /**
   * Reads what other processes appended since the last call.
   *
   * Synchronous on purpose: callers run it inside a critical section that is serialised
   * anyway, and on the overlay and ext4 disks we run on each async fs call costs a thread-pool
   * round trip that was most of a publish's time (bench/mcp/publish-overhead.ts). The files are
   * local and each call touches a few bytes, so the event loop is blocked for microseconds.
   */
  catchUp(): void {
    const stat = fs.statSync(this.path, { throwIfNoEntry: false });
    if (!stat) {
      this.reset();
      return;
    }
    // Replaced or truncated (rotation by an operator): forget and rescan from the start.
    if (stat.ino !== this.inode || stat.size < this.offset) {
      this.reset();
      this.inode = stat.ino;
    }
    if (stat.size === this.offset) return;
    const fd = fs.openSync(this.path, "r");
    try {
      const length = stat.size - this.offset;
      const buffer = Buffer.alloc(length);
      let read = 0;
      while (read < length) {
        const bytesRead = fs.readSync(fd, buffer, read, length - read, this.offset + read);
        if (bytesRead === 0) break;
        read += bytesRead;
      }
      const complete = buffer.lastIndexOf(0x0a, read - 1) + 1;
      this.tornBytes = read - complete;
      if (complete === 0) return;
      for (const line of buffer.subarray(0, complete).toString("utf8").split("\n")) {
        if (line.trim() !== "") this.index(line);
      }
      this.offset += complete;
    } finally {
      fs.closeSync(fd);
    }
  }

  /**
   * Appends one record with a single O_APPEND write, so a concurrent reader never sees half of
   * it unless the writer dies mid-call. Call only after {@link catchUp}, under the lock.
   */
  append(record: LedgerRecord): void {
    // Start on a fresh line if a crashed writer left a torn one, so ours stays parseable.
    const text = `${this.tornBytes > 0 ? "\n" : ""}${JSON.stringify(record)}\n`;
    const bytes = Buffer.from(text, "utf8");
    try {
      fs.appendFileSync(this.path, bytes);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      fs.mkdirSync(dirname(this.path), { recursive: true });
      fs.appendFileSync(this.path, bytes);
    }
    // Under the lock nobody else writes, so the file now ends with our line; step over the
    // torn fragment that catchUp left unread.
    this.offset += this.tornBytes + bytes.length;
    this.tornBytes = 0;
    this.inode ??= fs.statSync(this.path).ino;
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
    this.tornBytes = 0;
  }
}
