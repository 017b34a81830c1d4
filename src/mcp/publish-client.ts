import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";

import { bundledAdapterCommand } from "./bundled-adapter.js";
import { isTransportFailure, toPublishError } from "./mcp-publish-errors.js";
import { PUBLISH_ERROR_META, PUBLISH_TOOL_NAME } from "./publish-adapter-server.js";
import { PublishError } from "./publish-error.js";
import {
  publishArguments,
  type Publisher,
  type PublishRequest,
  type PublishResult,
} from "./publisher.js";

export { PublishError, type PublishErrorCode } from "./publish-error.js";
export type { Publisher, PublishRequest, PublishResult } from "./publisher.js";

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
    const args = publishArguments(req);
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
