import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";

import {
  type PublishInput,
  publishInputShape,
  publishOutputShape,
  PublishSink,
  PublishSinkError,
  type PublishSinkOptions,
} from "./publish-sink.js";

export interface PublishAdapterOptions {
  jsonlPath?: string;
  webhookUrl?: string;
  /** Server name announced in the MCP handshake. */
  name?: string;
  /** Webhook target only: where the idempotency index lives (see {@link PublishSinkOptions}). */
  indexPath?: string;
  /** Where warnings go; stdout is the protocol in stdio mode, so never there. */
  onWarning?: (message: string) => void;
}

export const PUBLISH_TOOL_NAME = "publish";
export const DEFAULT_ADAPTER_NAME = "trendgate-publish-adapter";
const ADAPTER_VERSION = "0.1.0";

/**
 * Key under a failed result's `_meta` carrying `{ code, retryable }`, so a client branches on a
 * code instead of the message text. Other MCP servers may omit it; clients then treat the
 * failure as not retryable.
 */
export const PUBLISH_ERROR_META = "trendgate/error";

/** Serves on stdin/stdout until the client closes stdin. */
export async function runPublishAdapterStdio(options: PublishAdapterOptions): Promise<void> {
  const sink = new PublishSink(sinkOptions(options));
  await sink.load();
  const server = buildServer(sink, options.name);
  const closed = new Promise<void>((resolve) => {
    server.server.onclose = resolve;
  });
  await server.connect(new StdioServerTransport());
  // The SDK's stdio transport does not notice EOF; without this the process outlives its client.
  const onEnd = () => void server.close();
  process.stdin.once("end", onEnd);
  await closed;
  process.stdin.off("end", onEnd);
}

/**
 * Streamable HTTP at `/mcp`, stateless: each POST gets a fresh McpServer and transport (the
 * SDK's stateless pattern, which keeps JSON-RPC ids of different clients apart) over one
 * shared sink, so the idempotency index and lock are per process, not per request.
 */
export async function runPublishAdapterHttp(
  options: PublishAdapterOptions & { port: number; host?: string },
): Promise<{ url: string; close(): Promise<void> }> {
  const sink = new PublishSink(sinkOptions(options));
  await sink.load();
  const host = options.host ?? "127.0.0.1";
  let allowedHosts: string[] | undefined;

  const http = createServer((req, res) => {
    void handle(req, res);
  });
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? "/", "http://adapter").pathname;
    if (path !== "/mcp") return sendJsonRpcError(res, 404, "Not found: the MCP endpoint is /mcp");
    // Stateless: no server-initiated stream (GET) and no session to delete (DELETE).
    if (req.method !== "POST") {
      res.setHeader("allow", "POST");
      return sendJsonRpcError(res, 405, "Method not allowed");
    }
    const server = buildServer(sink, options.name);
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
      ...(allowedHosts ? { enableDnsRebindingProtection: true, allowedHosts } : {}),
    });
    res.on("close", () => {
      void transport.close();
      void server.close();
    });
    try {
      await server.connect(transport);
      await transport.handleRequest(req, res);
    } catch (err) {
      options.onWarning?.(`MCP request failed: ${(err as Error).message}`);
      if (!res.headersSent) sendJsonRpcError(res, 500, "Internal server error", -32603);
    }
  };

  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(options.port, host, () => {
      http.off("error", reject);
      resolve();
    });
  });
  const { port } = http.address() as AddressInfo;
  if (isLoopback(host)) {
    // A browser page must not reach a loopback-only adapter through DNS rebinding.
    allowedHosts = [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`];
  }
  const urlHost =
    host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}/mcp`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        http.close((err) => (err ? reject(err) : resolve()));
        http.closeAllConnections();
      }),
  };
}

function buildServer(sink: PublishSink, name = DEFAULT_ADAPTER_NAME): McpServer {
  const server = new McpServer({ name, version: ADAPTER_VERSION });
  server.registerTool(
    PUBLISH_TOOL_NAME,
    {
      title: "Publish an approved trend",
      description:
        `Publishes one approved trend item (${sink.target === "webhook" ? "POST to a webhook" : "one line in a JSONL file"}). ` +
        "Idempotent on idempotencyKey: repeating a key publishes nothing and returns the first externalRef with duplicate=true.",
      inputSchema: publishInputShape,
      outputSchema: publishOutputShape,
      annotations: {
        idempotentHint: true,
        destructiveHint: false,
        openWorldHint: sink.target === "webhook",
      },
    },
    async (args) => publishResult(sink, args),
  );
  return server;
}

async function publishResult(sink: PublishSink, args: PublishInput): Promise<CallToolResult> {
  try {
    const outcome = await sink.publish(args);
    return {
      content: [{ type: "text", text: JSON.stringify(outcome) }],
      structuredContent: { ...outcome },
    };
  } catch (err) {
    const known = err instanceof PublishSinkError;
    const code = known ? err.code : "PUBLISH_WRITE_FAILED";
    // An unexpected failure is most likely the disk or the lock: worth another try.
    const retryable = known ? err.retryable : true;
    return {
      isError: true,
      content: [
        {
          type: "text",
          text: `${code}: ${(err as Error).message}${retryable ? " (retryable: try again later)" : ""}`,
        },
      ],
      _meta: { [PUBLISH_ERROR_META]: { code, retryable, ...(known ? err.data : {}) } },
    };
  }
}

function sinkOptions(options: PublishAdapterOptions): PublishSinkOptions {
  return {
    jsonlPath: options.jsonlPath,
    webhookUrl: options.webhookUrl,
    indexPath: options.indexPath,
    onWarning: options.onWarning,
  };
}

function sendJsonRpcError(res: ServerResponse, status: number, message: string, code = -32000) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify({ jsonrpc: "2.0", error: { code, message }, id: null }));
}

function isLoopback(host: string): boolean {
  return host === "127.0.0.1" || host === "localhost" || host === "::1";
}
