import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";

import { isTransportFailure, toPublishError } from "./mcp-publish-errors.js";
import {
  DEFAULT_ADAPTER_NAME,
  PUBLISH_ERROR_META,
  PUBLISH_TOOL_NAME,
  type PublishAdapterOptions,
} from "./publish-adapter-server.js";
import { PublishError } from "./publish-error.js";
import { parsePublishInput, PublishSink, PublishSinkError } from "./publish-sink.js";

export { PublishError, type PublishErrorCode } from "./publish-error.js";

export interface PublishRequest {
  trendId: string;
  title: string;
  summary: string;
  topics: string[];
  url?: string | null;
  body?: string;
  idempotencyKey: string;
  approvalPath: "judge" | "moderator" | "override";
}

export interface PublishResult {
  externalRef: string;
  duplicate: boolean;
  /** Tool that was called. */
  tool: string;
  /** Which adapter answered: `mcp-stdio:<server name>`, `mcp-http:<server name>` or `in-process:<name>`. */
  adapter: string;
  /** The arguments exactly as sent, for provenance. */
  arguments: Record<string, unknown>;
  /** The tool result as received. */
  raw: unknown;
}

/** Publishes approved items; implementations differ only in how they reach the tool. */
export interface Publisher {
  readonly adapter: string;
  /** Throws {@link PublishError}. Safe to repeat: the idempotency key makes it publish once. */
  publish(req: PublishRequest): Promise<PublishResult>;
  close(): Promise<void>;
}

export interface McpPublisherOptions {
  /** Spawn this command and speak MCP over its stdio (ignored when `url` is set). */
  command?: string;
  args?: string[];
  /** Extra environment for the spawned adapter (PATH, HOME etc. are inherited by the SDK). */
  env?: Record<string, string>;
  /** Streamable HTTP endpoint of a running adapter. */
  url?: string;
  toolName?: string;
  /** Per request, including the handshake. Default 30 s. */
  timeoutMs?: number;
}

/**
 * Connects to an MCP server exposing a publish tool, over stdio (spawning `command`, the bundled
 * adapter by default) or Streamable HTTP (`url`). Fails with PUBLISH_ADAPTER_UNAVAILABLE when it
 * cannot be reached and PUBLISH_BAD_RESPONSE when it lacks the tool.
 *
 * When the transport breaks (the adapter process died, the HTTP server restarted) a publish
 * reconnects and tries once more; that repeat is safe because the idempotency key travels with
 * it.
 */
export async function connectMcpPublisher(options: McpPublisherOptions): Promise<Publisher> {
  const publisher = new McpPublisher(options);
  await publisher.connect();
  return publisher;
}

class McpPublisher implements Publisher {
  private client: Client | undefined;
  private connecting: Promise<Client> | undefined;
  private closed = false;
  private serverName: string | undefined;
  private readonly toolName: string;
  private readonly timeoutMs: number;

  constructor(private readonly options: McpPublisherOptions) {
    this.toolName = options.toolName ?? PUBLISH_TOOL_NAME;
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  get adapter(): string {
    const kind = this.options.url ? "mcp-http" : "mcp-stdio";
    return `${kind}:${this.serverName ?? this.options.url ?? this.options.command ?? "bundled"}`;
  }

  async connect(): Promise<Client> {
    if (this.closed)
      throw new PublishError("PUBLISH_ADAPTER_UNAVAILABLE", "publisher is closed", false);
    if (this.client) return this.client;
    // Concurrent publishes after a failure share one reconnect instead of spawning several.
    this.connecting ??= this.open().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  async publish(req: PublishRequest): Promise<PublishResult> {
    const args = toArguments(req);
    for (let attempt = 0; ; attempt++) {
      const client = await this.connect();
      try {
        const raw = await client.callTool({ name: this.toolName, arguments: args }, undefined, {
          timeout: this.timeoutMs,
        });
        return this.toResult(raw, args);
      } catch (err) {
        if (err instanceof PublishError) throw err;
        if (isTransportFailure(err) && attempt === 0 && !this.closed) {
          await this.drop(client);
          continue;
        }
        throw toPublishError(err);
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const client = this.client ?? (await this.connecting?.catch(() => undefined));
    if (client) await this.drop(client);
  }

  private async open(): Promise<Client> {
    const client = new Client({ name: "trendgate-publisher", version: "0.1.0" });
    const transport = this.transport();
    try {
      await client.connect(transport, { timeout: this.timeoutMs });
    } catch (err) {
      await client.close().catch(() => undefined);
      throw new PublishError(
        "PUBLISH_ADAPTER_UNAVAILABLE",
        `cannot reach the publish adapter (${this.describeTarget()}): ${(err as Error).message}`,
        true,
        {},
        { cause: err },
      );
    }
    let tools: { name: string }[];
    try {
      tools = (await client.listTools(undefined, { timeout: this.timeoutMs })).tools;
    } catch (err) {
      await client.close().catch(() => undefined);
      throw toPublishError(err);
    }
    if (!tools.some((t) => t.name === this.toolName)) {
      await client.close().catch(() => undefined);
      throw new PublishError(
        "PUBLISH_BAD_RESPONSE",
        `adapter ${this.describeTarget()} has no tool "${this.toolName}" (has: ${tools.map((t) => t.name).join(", ") || "none"})`,
        false,
      );
    }
    this.serverName = client.getServerVersion()?.name;
    // A transport that closes between calls (adapter exited) is reopened by the next publish.
    client.onclose = () => {
      if (this.client === client) this.client = undefined;
    };
    this.client = client;
    return client;
  }

  private transport(): Transport {
    if (this.options.url) return new StreamableHTTPClientTransport(new URL(this.options.url));
    const bundled = this.options.command ? undefined : bundledAdapterCommand();
    return new StdioClientTransport({
      command: this.options.command ?? (bundled as { command: string }).command,
      args: this.options.command
        ? (this.options.args ?? [])
        : [...(bundled?.args ?? []), ...(this.options.args ?? [])],
      env: this.options.env,
      // The adapter logs to stderr; let it reach ours so operators see adapter failures.
      stderr: "inherit",
    });
  }

  private describeTarget(): string {
    return (
      this.options.url ??
      [this.options.command ?? "bundled adapter", ...(this.options.args ?? [])].join(" ")
    );
  }

  private async drop(client: Client): Promise<void> {
    if (this.client === client) this.client = undefined;
    await client.close().catch(() => undefined);
  }

  private toResult(raw: unknown, args: Record<string, unknown>): PublishResult {
    const result = raw as {
      isError?: boolean;
      structuredContent?: Record<string, unknown>;
      content?: { type: string; text?: string }[];
      _meta?: Record<string, unknown>;
    };
    const text = (result.content ?? [])
      .filter((c) => c.type === "text" && typeof c.text === "string")
      .map((c) => c.text)
      .join("\n");
    if (result.isError) {
      const meta = result._meta?.[PUBLISH_ERROR_META] as Record<string, unknown> | undefined;
      const { code, retryable, ...details } = meta ?? {};
      throw new PublishError(
        "PUBLISH_REJECTED",
        text || "publish tool failed without a message",
        retryable === true,
        {
          ...details,
          adapterCode: typeof code === "string" ? code : undefined,
          raw,
        },
      );
    }
    // Older servers answer only with text; ours sends the same JSON in both.
    const content = result.structuredContent ?? parseJsonObject(text);
    const externalRef = content?.externalRef;
    if (typeof externalRef !== "string" || externalRef === "") {
      throw new PublishError(
        "PUBLISH_BAD_RESPONSE",
        `publish tool returned no externalRef: ${text.slice(0, 200)}`,
        false,
        {
          raw,
        },
      );
    }
    return {
      externalRef,
      duplicate: content?.duplicate === true,
      tool: this.toolName,
      adapter: this.adapter,
      arguments: args,
      raw,
    };
  }
}

/**
 * The same tool logic as the adapter, called directly: no process, no protocol. For the
 * benchmark, tests, and deployments that do not want a separate adapter.
 */
export function createInProcessPublisher(options: PublishAdapterOptions): Publisher {
  const sink = new PublishSink({
    jsonlPath: options.jsonlPath,
    webhookUrl: options.webhookUrl,
    indexPath: options.indexPath,
    onWarning: options.onWarning,
  });
  const adapter = `in-process:${options.name ?? DEFAULT_ADAPTER_NAME}`;
  return {
    adapter,
    async publish(req) {
      const args = toArguments(req);
      try {
        const outcome = await sink.publish(parsePublishInput(args));
        return { ...outcome, tool: PUBLISH_TOOL_NAME, adapter, arguments: args, raw: outcome };
      } catch (err) {
        if (err instanceof PublishSinkError) {
          throw new PublishError("PUBLISH_REJECTED", `${err.code}: ${err.message}`, err.retryable, {
            adapterCode: err.code,
            ...err.data,
          });
        }
        throw new PublishError(
          "PUBLISH_REJECTED",
          (err as Error).message,
          true,
          {},
          { cause: err },
        );
      }
    },
    async close() {},
  };
}

/**
 * How to spawn the bundled adapter from this checkout: node on the compiled
 * `publish-adapter-main.js` beside this file when running from dist/, otherwise node with tsx's
 * loader on the TypeScript source. Paths are absolute, so the caller's cwd does not matter (a
 * bare `--import tsx` would be resolved from the cwd).
 */
export function bundledAdapterCommand(): { command: string; args: string[] } {
  const here = fileURLToPath(import.meta.url);
  const dir = dirname(here);
  const compiled = join(dir, "publish-adapter-main.js");
  if (here.endsWith(".js") && existsSync(compiled)) {
    return { command: process.execPath, args: [compiled] };
  }
  const source = join(dir, "publish-adapter-main.ts");
  if (existsSync(source)) {
    return { command: process.execPath, args: ["--import", tsxLoaderUrl(), source] };
  }
  // Bundled elsewhere (e.g. this module was inlined): look for the repo from here upwards.
  for (let root = dir; root !== dirname(root); root = dirname(root)) {
    const built = join(root, "dist", "src", "mcp", "publish-adapter-main.js");
    if (existsSync(built)) return { command: process.execPath, args: [built] };
    const src = join(root, "src", "mcp", "publish-adapter-main.ts");
    if (existsSync(src))
      return { command: process.execPath, args: ["--import", tsxLoaderUrl(), src] };
  }
  throw new PublishError(
    "PUBLISH_ADAPTER_UNAVAILABLE",
    `bundled publish adapter not found near ${dir}`,
    false,
  );
}

function tsxLoaderUrl(): string {
  try {
    return pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
  } catch (err) {
    throw new PublishError(
      "PUBLISH_ADAPTER_UNAVAILABLE",
      "running the adapter from source needs tsx (a dependency of trendgate); reinstall the dependencies or build with `npm run build`",
      false,
      {},
      { cause: err },
    );
  }
}

/** `url: null` means "no link": omit it rather than send a null the schema refuses. */
function toArguments(req: PublishRequest): Record<string, unknown> {
  const args: Record<string, unknown> = {
    trendId: req.trendId,
    title: req.title,
    summary: req.summary,
    topics: req.topics,
    idempotencyKey: req.idempotencyKey,
    approvalPath: req.approvalPath,
  };
  if (req.url !== undefined && req.url !== null) args.url = req.url;
  if (req.body !== undefined) args.body = req.body;
  return args;
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
