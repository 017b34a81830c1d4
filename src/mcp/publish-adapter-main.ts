import { pino } from "pino";

import { runPublishAdapterHttp, runPublishAdapterStdio } from "./publish-adapter-server.js";

/**
 * Entry point of the bundled publish adapter: stdio by default, Streamable HTTP when
 * PUBLISH_MCP_HTTP_PORT is set. Reads PUBLISH_JSONL_PATH, PUBLISH_WEBHOOK_URL,
 * PUBLISH_MCP_HTTP_PORT and PUBLISH_MCP_HTTP_HOST (default 127.0.0.1).
 *
 * Logs go to stderr only: in stdio mode stdout carries the protocol and one stray line would
 * corrupt it.
 */
async function runPublishAdapterMain(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const logger = pino(
    { name: "publish-adapter", level: env.LOG_LEVEL || "info", base: { pid: process.pid } },
    pino.destination({ fd: 2, sync: true }),
  );
  const options = {
    jsonlPath: env.PUBLISH_JSONL_PATH || undefined,
    webhookUrl: env.PUBLISH_WEBHOOK_URL || undefined,
    onWarning: (message: string) => logger.warn(message),
  };
  const target = options.webhookUrl
    ? `webhook ${options.webhookUrl}`
    : `jsonl ${options.jsonlPath ?? "data/published.jsonl"}`;
  const portText = env.PUBLISH_MCP_HTTP_PORT;
  if (portText) {
    const port = Number(portText);
    if (!Number.isInteger(port) || port < 0 || port > 65_535) {
      throw new Error(`PUBLISH_MCP_HTTP_PORT must be a TCP port, got ${portText}`);
    }
    const server = await runPublishAdapterHttp({
      ...options,
      port,
      host: env.PUBLISH_MCP_HTTP_HOST || undefined,
    });
    logger.info({ url: server.url, target }, "publish adapter listening (Streamable HTTP)");
    await new Promise<void>((resolve) => {
      let closing: Promise<void> | undefined;
      const stop = () => void (closing ??= server.close().finally(resolve));
      // `on`: a second delivery of the same Ctrl-C (npm forwards it) must not kill the close.
      process.on("SIGINT", stop);
      process.on("SIGTERM", stop);
    });
    return;
  }
  logger.info({ target }, "publish adapter serving on stdio");
  await runPublishAdapterStdio(options);
}

// Importing this module starts the adapter (`trendgate mcp-publish-adapter` does
// `await import(...)`; `npx tsx src/mcp/publish-adapter-main.ts` runs it directly). The
// top-level await keeps an importer waiting until the adapter is done.
try {
  await runPublishAdapterMain();
  // stdin closed or a signal arrived: nothing is left to serve.
  process.exit(0);
} catch (err) {
  process.stderr.write(`publish adapter failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
}
