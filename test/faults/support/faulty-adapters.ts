import { Writable } from "node:stream";

import { type Logger, pino } from "pino";

import {
  type Publisher,
  PublishError,
  type PublishRequest,
  type PublishResult,
} from "../../../src/mcp/publish-client.js";
import {
  type TransactionalVectorWriter,
  type VectorItem,
  type VectorStore,
  VectorStoreError,
} from "../../../src/vector/vector-store.js";

/**
 * The real vector store behind a switch: `failFor(match, k)` makes the next k upserts of each
 * matching item throw a retryable VECTOR_STORE_UNAVAILABLE (k = Infinity: until `heal()`); every
 * other item passes through, so the rest of the pipeline keeps flowing. Reads always reach the
 * real store. Matching on the item (e.g. its source) rather than an id lets a test arm the fault
 * before the trend exists.
 */
export class FlakyVectorStore implements VectorStore {
  /** Upserts attempted per vector id, failed ones included. */
  readonly upsertCalls = new Map<string, number>();
  /** Ids the real store accepted. */
  readonly stored = new Set<string>();
  private rules: {
    match: (item: VectorItem) => boolean;
    times: number;
    used: Map<string, number>;
  }[] = [];

  /** The real store, or a function giving it once it exists (a harness opens its database first). */
  constructor(private readonly real: VectorStore | (() => VectorStore)) {}

  get inner(): VectorStore {
    return typeof this.real === "function" ? this.real() : this.real;
  }

  get name(): string {
    return this.inner.name;
  }

  /** The Postgres store's in-transaction writes fail on the same switch as `upsert`. */
  get transactional(): TransactionalVectorWriter | undefined {
    const real = this.inner.transactional;
    if (!real) return undefined;
    return {
      upsertIn: async (trx, items) => {
        this.inject(items);
        await real.upsertIn(trx, items);
        for (const item of items) this.stored.add(item.id);
      },
    };
  }

  failFor(match: (item: VectorItem) => boolean, times: number): void {
    this.rules.push({ match, times, used: new Map() });
  }

  heal(): void {
    this.rules = [];
  }

  ensureCollection(dimension: number): Promise<void> {
    return this.inner.ensureCollection(dimension);
  }

  async upsert(items: VectorItem[]): Promise<void> {
    this.inject(items);
    await this.inner.upsert(items);
    for (const item of items) this.stored.add(item.id);
  }

  private inject(items: VectorItem[]): void {
    for (const item of items) {
      this.upsertCalls.set(item.id, (this.upsertCalls.get(item.id) ?? 0) + 1);
      const rule = this.rules.find((r) => r.match(item) && (r.used.get(item.id) ?? 0) < r.times);
      if (rule) {
        rule.used.set(item.id, (rule.used.get(item.id) ?? 0) + 1);
        throw new VectorStoreError(
          "VECTOR_STORE_UNAVAILABLE",
          `injected outage upserting ${item.id}`,
        );
      }
    }
  }

  delete(ids: string[]): Promise<void> {
    return this.inner.delete(ids);
  }

  get(id: string): Promise<VectorItem | undefined> {
    return this.inner.get(id);
  }

  count(): Promise<number> {
    return this.inner.count();
  }

  nearest(...args: Parameters<VectorStore["nearest"]>) {
    return this.inner.nearest(...args);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/**
 * The real publisher behind two switches: `down()` makes publish throw a retryable
 * PUBLISH_ADAPTER_UNAVAILABLE before reaching the adapter; `crashAfterPublish(n)` lets the next
 * n publishes reach the adapter and then throws, as a worker dying after the tool call would.
 */
export class FlakyPublisher implements Publisher {
  readonly calls: PublishRequest[] = [];
  readonly results: PublishResult[] = [];
  private isDown = false;
  private crashes = 0;
  private rejecting = false;

  constructor(readonly inner: Publisher) {}

  get adapter(): string {
    return this.inner.adapter;
  }

  down(): void {
    this.isDown = true;
  }

  heal(): void {
    this.isDown = false;
  }

  /** The next publish is refused as the adapter refuses bad input: not retryable. */
  rejectNext(): void {
    this.rejecting = true;
  }

  crashAfterPublish(times = 1): void {
    this.crashes = times;
  }

  async publish(req: PublishRequest): Promise<PublishResult> {
    this.calls.push(req);
    if (this.isDown)
      throw new PublishError("PUBLISH_ADAPTER_UNAVAILABLE", "injected adapter outage", true);
    if (this.rejecting) {
      this.rejecting = false;
      throw new PublishError("PUBLISH_REJECTED", "PUBLISH_INVALID_INPUT: injected refusal", false);
    }
    const result = await this.inner.publish(req);
    this.results.push(result);
    if (this.crashes > 0) {
      this.crashes -= 1;
      throw new InjectedCrash(`injected crash after publishing ${req.trendId}`);
    }
    return result;
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** What a fault wrapper throws to stand for a process dying at that point. */
export class InjectedCrash extends Error {
  readonly code = "INJECTED_CRASH";
  constructor(message: string) {
    super(message);
    this.name = "InjectedCrash";
  }
}

export interface CapturedLog {
  level: string;
  msg: string;
  [key: string]: unknown;
}

/** A pino logger (same formatters as the app's) whose lines land in `lines`, for asserting logs. */
export function captureLogger(level = "info"): { logger: Logger; lines: CapturedLog[] } {
  const lines: CapturedLog[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n"))
        if (line) lines.push(JSON.parse(line) as CapturedLog);
      done();
    },
  });
  const logger = pino({ level, formatters: { level: (label) => ({ level: label }) } }, sink);
  return { logger, lines };
}
