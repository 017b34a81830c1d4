import { randomUUID } from "node:crypto";
import { dirname, join } from "node:path";

import { z } from "zod";

import { FileLockError, withFileLock } from "./file-lock.js";
import { PublishLedger } from "./publish-ledger.js";

export const DEFAULT_JSONL_PATH = "data/published.jsonl";

/**
 * The `publish` tool's arguments, as a raw zod shape so McpServer.registerTool can advertise it
 * as JSON Schema and the in-process publisher can validate with the very same rules.
 */
export const publishInputShape = {
  trendId: z.uuid().describe("Trend id (UUID)"),
  title: z.string().max(2_000).describe("Title; may be empty"),
  summary: z.string().max(20_000),
  topics: z.array(z.string().max(200)).max(100),
  url: z
    .url({ protocol: /^https?$/ })
    .optional()
    .describe("Canonical link of the source item"),
  idempotencyKey: z
    .string()
    .min(1)
    .max(512)
    .describe("Same key → published once; the same externalRef is returned again"),
  approvalPath: z.enum(["judge", "moderator", "override"]),
  body: z.string().max(200_000).optional(),
};

export const publishInputSchema = z.object(publishInputShape);
export type PublishInput = z.infer<typeof publishInputSchema>;

export const publishOutputShape = {
  externalRef: z.string(),
  duplicate: z.boolean(),
};

export interface PublishOutcome {
  /** Where the item now lives: `jsonl:<uuid>` or what the webhook answered. */
  externalRef: string;
  /** True when the idempotency key was published before and nothing new was written. */
  duplicate: boolean;
}

export type PublishSinkErrorCode =
  "PUBLISH_INVALID_INPUT" | "PUBLISH_WEBHOOK_FAILED" | "PUBLISH_WRITE_FAILED";

/** A publish that did not happen; `retryable` says whether the same call may succeed later. */
export class PublishSinkError extends Error {
  constructor(
    readonly code: PublishSinkErrorCode,
    message: string,
    readonly retryable: boolean,
    readonly data: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "PublishSinkError";
  }
}

export interface PublishSinkOptions {
  /** JSONL file to append to (default data/published.jsonl); ignored when webhookUrl is set. */
  jsonlPath?: string;
  /** POST each publication here instead of writing the JSONL file. */
  webhookUrl?: string;
  /**
   * Idempotency index for the webhook target, a JSONL file of `{idempotencyKey, externalRef}`.
   * Default: `published-webhook.index.jsonl` in the directory of jsonlPath.
   */
  indexPath?: string;
  webhookTimeoutMs?: number;
  onWarning?: (message: string) => void;
}

/** Parses tool arguments; bad input is a {@link PublishSinkError} naming each field. */
export function parsePublishInput(input: unknown): PublishInput {
  const parsed = publishInputSchema.safeParse(input);
  if (!parsed.success) {
    const detail = parsed.error.issues
      .map((i) => `${i.path.join(".") || "(arguments)"}: ${i.message}`)
      .join("; ");
    throw new PublishSinkError(
      "PUBLISH_INVALID_INPUT",
      `invalid publish arguments: ${detail}`,
      false,
      {
        issues: parsed.error.issues.map((i) => ({ path: i.path.map(String), message: i.message })),
      },
    );
  }
  return parsed.data;
}

/**
 * The publish tool without MCP: idempotency index, cross-process lock and the write itself.
 * The MCP server and the in-process publisher both call it, so they cannot drift apart.
 *
 * Idempotency across processes: every publish that is not already known in memory takes the
 * ledger's lock file, reads what other adapters appended since (incremental scan), and only
 * then decides "duplicate" or writes. Two adapters racing on one key therefore serialise on
 * the lock, and the second sees the first one's line. O_APPEND alone would keep lines whole
 * but not stop both from writing one.
 */
export class PublishSink {
  readonly target: "jsonl" | "webhook";
  private readonly ledger: PublishLedger;
  private readonly lockPath: string;
  /** Serialises this process's publishes before they contend for the file lock. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: PublishSinkOptions = {}) {
    const jsonlPath = options.jsonlPath ?? DEFAULT_JSONL_PATH;
    this.target = options.webhookUrl ? "webhook" : "jsonl";
    const ledgerPath =
      this.target === "jsonl"
        ? jsonlPath
        : (options.indexPath ?? join(dirname(jsonlPath), "published-webhook.index.jsonl"));
    this.ledger = new PublishLedger(ledgerPath, options.onWarning);
    this.lockPath = `${ledgerPath}.lock`;
  }

  /** The file that holds publications (jsonl) or the webhook's idempotency index. */
  get ledgerPath(): string {
    return this.ledger.path;
  }

  /** Reads the ledger now, so the first publish after a restart does not pay for the scan. */
  async load(): Promise<void> {
    await this.exclusive(async () => this.ledger.catchUp());
  }

  async publish(input: PublishInput): Promise<PublishOutcome> {
    // The ledger is append-only, so a key seen once stays published: no lock needed.
    const known = this.ledger.get(input.idempotencyKey);
    if (known !== undefined) return { externalRef: known, duplicate: true };
    return this.exclusive(async () => {
      this.ledger.catchUp();
      const existing = this.ledger.get(input.idempotencyKey);
      if (existing !== undefined) return { externalRef: existing, duplicate: true };
      const publishedAt = new Date().toISOString();
      const externalRef =
        this.target === "webhook"
          ? await this.postWebhook(input, publishedAt)
          : `jsonl:${randomUUID()}`;
      const record =
        this.target === "webhook"
          ? {
              idempotencyKey: input.idempotencyKey,
              externalRef,
              trendId: input.trendId,
              publishedAt,
            }
          : { ...input, externalRef, publishedAt };
      try {
        this.ledger.append(record);
      } catch (err) {
        throw new PublishSinkError(
          "PUBLISH_WRITE_FAILED",
          `could not write ${this.ledger.path}: ${(err as Error).message}`,
          true,
        );
      }
      return { externalRef, duplicate: false };
    });
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(() =>
      withFileLock(this.lockPath, fn, {
        // A webhook holds the lock for its whole POST: the holder keeps refreshing it meanwhile,
        // so the default stale age still applies, and waiters wait out the POST.
        timeoutMs: (this.options.webhookTimeoutMs ?? 10_000) + 5_000,
      }).catch((err: unknown) => {
        if (err instanceof FileLockError) {
          throw new PublishSinkError("PUBLISH_WRITE_FAILED", err.message, true);
        }
        throw err;
      }),
    );
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * POSTs while holding the index lock, so two adapters never both post one key. If the adapter
   * dies after the webhook accepted but before the index line is written, the retry posts again
   * with the same `Idempotency-Key` header for the receiver to drop.
   */
  private async postWebhook(input: PublishInput, publishedAt: string): Promise<string> {
    const url = this.options.webhookUrl as string;
    let response: Response;
    try {
      response = await fetch(url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/json",
          "idempotency-key": input.idempotencyKey,
        },
        body: JSON.stringify({ ...input, publishedAt }),
        signal: AbortSignal.timeout(this.options.webhookTimeoutMs ?? 10_000),
      });
    } catch (err) {
      throw new PublishSinkError(
        "PUBLISH_WEBHOOK_FAILED",
        `webhook unreachable: ${(err as Error).message}`,
        true,
      );
    }
    const text = await response.text().catch(() => "");
    if (!response.ok) {
      // 408/429/5xx are the receiver's momentary trouble; any other 4xx refuses this payload.
      const retryable =
        response.status >= 500 || response.status === 408 || response.status === 429;
      throw new PublishSinkError(
        "PUBLISH_WEBHOOK_FAILED",
        `webhook answered HTTP ${response.status}: ${text.slice(0, 200)}`,
        retryable,
        { status: response.status },
      );
    }
    return webhookReference(text, response.headers.get("location")) ?? `webhook:${randomUUID()}`;
  }
}

/** The receiver's own id for the item, when it gives one. */
function webhookReference(body: string, location: string | null): string | undefined {
  try {
    const json = JSON.parse(body) as Record<string, unknown>;
    for (const field of ["externalRef", "id", "ref", "url"]) {
      const value = json?.[field];
      if (typeof value === "string" && value !== "") return value;
      if (typeof value === "number") return String(value);
    }
  } catch {
    // Not JSON: fall through to the Location header.
  }
  return location ?? undefined;
}
