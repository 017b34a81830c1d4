import { randomBytes } from "node:crypto";

import { Redis } from "ioredis";

import { createLogger } from "../../../src/observability/logger.js";
import { type Envelope, makeEnvelope } from "../../../src/streams/envelope.js";
import { StreamKeys } from "../../../src/streams/stream-names.js";
import {
  StreamConsumer,
  type StreamConsumerOptions,
} from "../../../src/workers/runtime/stream-consumer.js";

export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

/**
 * A private Redis key prefix for one test file (these tests need no Postgres), with the
 * consumers and connections it created, all stopped and closed by `close()`.
 */
export class RuntimeFixture {
  readonly prefix = `test-rt-${randomBytes(6).toString("hex")}:`;
  readonly keys = new StreamKeys(this.prefix);
  readonly logger = createLogger(process.env.TEST_LOG_LEVEL ?? "silent", "test");
  readonly redis: Redis;
  private readonly connections: Redis[] = [];
  private readonly consumers: StreamConsumer[] = [];
  private counter = 0;

  constructor() {
    this.redis = this.newRedis();
  }

  newRedis(): Redis {
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    this.connections.push(redis);
    return redis;
  }

  /** A fresh logical stream name, so tests in one file do not share entries. */
  stream(label: string): string {
    this.counter += 1;
    return `${label}-${this.counter}`;
  }

  consumer(
    options: Partial<StreamConsumerOptions> & Pick<StreamConsumerOptions, "stream" | "handler">,
  ): StreamConsumer {
    const consumer = new StreamConsumer({
      redis: this.redis,
      keys: this.keys,
      group: "g",
      consumer: `c-${randomBytes(3).toString("hex")}`,
      batchSize: 8,
      blockMs: 50,
      concurrency: 4,
      maxAttempts: 3,
      backoff: { baseMs: 20, maxMs: 100 },
      claimIdleMs: 60_000,
      logger: this.logger,
      ...options,
    });
    this.consumers.push(consumer);
    return consumer;
  }

  /** XADDs `n` valid entries; returns their envelopes in order. */
  async add(
    stream: string,
    n: number,
    payload: (i: number) => Record<string, unknown> = (i) => ({ i }),
  ): Promise<Envelope[]> {
    const envelopes = Array.from({ length: n }, (_, i) =>
      makeEnvelope("test.job", { traceId: `t-${i}`, payload: payload(i) }),
    );
    const pipeline = this.redis.pipeline();
    for (const e of envelopes)
      pipeline.xadd(this.keys.key(stream), "*", "envelope", JSON.stringify(e), "attempt", "1");
    await pipeline.exec();
    return envelopes;
  }

  async deadLetters(stream: string): Promise<{ id: string; fields: Record<string, string> }[]> {
    const entries = await this.redis.xrange(this.keys.key(stream), "-", "+");
    return entries.map(([id, flat]) => {
      const fields: Record<string, string> = {};
      for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]!] = flat[i + 1]!;
      return { id, fields };
    });
  }

  async pendingCount(stream: string, group = "g"): Promise<number> {
    const summary = (await this.redis.xpending(this.keys.key(stream), group)) as [
      number,
      ...unknown[],
    ];
    return Number(summary[0]);
  }

  async close(): Promise<void> {
    await Promise.all(this.consumers.map((c) => c.stop({ timeoutMs: 100 })));
    let cursor = "0";
    do {
      const [next, found] = await this.redis.scan(
        cursor,
        "MATCH",
        `${this.prefix}*`,
        "COUNT",
        1000,
      );
      cursor = next;
      if (found.length) await this.redis.del(...found);
    } while (cursor !== "0");
    await Promise.all(this.connections.map((r) => r.quit().catch(() => r.disconnect())));
  }
}

/** Polls `check` until it returns true; throws after `timeoutMs` with `what` in the message. */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A promise with its resolve function, for handlers the test releases by hand. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
