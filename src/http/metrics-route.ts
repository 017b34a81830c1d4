import { timingSafeEqual } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

import type { RequestHandler } from "express";

import type { MetricsRegistry } from "../observability/metrics.js";
import { bearerKey } from "../resolvers/context.js";

/**
 * The Prometheus text, rendered at most once per `cacheMs` however often it is scraped (a
 * render runs COUNT queries against Postgres): concurrent scrapes share one render too.
 */
export class CachedMetrics {
  private last: { at: number; text: Promise<string> } | undefined;

  constructor(
    private readonly metrics: MetricsRegistry,
    private readonly cacheMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get contentType(): string {
    return this.metrics.contentType;
  }

  render(): Promise<string> {
    const now = this.now();
    if (!this.last || now - this.last.at >= this.cacheMs) {
      const text = this.metrics.render();
      this.last = { at: now, text };
      // A failed render is not cached: the next scrape tries again.
      text.catch(() => {
        if (this.last?.text === text) this.last = undefined;
      });
    }
    return this.last.text;
  }
}

const sameSecret = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/**
 * GET /metrics on the API port: only with `Authorization: Bearer <METRICS_TOKEN>`; without a
 * token configured it is not served there at all (404), as if the route did not exist.
 */
export function metricsRoute(metrics: CachedMetrics, token: string | undefined): RequestHandler {
  return async (req, res, next) => {
    if (!token) return next();
    const given = bearerKey(req.headers.authorization);
    if (!given || !sameSecret(given, token)) {
      res
        .status(401)
        .set("www-authenticate", "Bearer")
        .json({
          error: {
            code: "UNAUTHENTICATED",
            message: "metrics need the METRICS_TOKEN bearer token",
          },
        });
      return;
    }
    try {
      res.setHeader("content-type", metrics.contentType);
      res.send(await metrics.render());
    } catch (error) {
      next(error);
    }
  };
}

/** /metrics alone on its own port (METRICS_PORT), for a scraper on a private network. */
export async function startMetricsServer(
  metrics: CachedMetrics,
  port: number,
  host: string,
): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    if (req.method !== "GET" || (req.url ?? "").split("?")[0] !== "/metrics") {
      res.writeHead(404).end();
      return;
    }
    metrics.render().then(
      (text) => res.writeHead(200, { "content-type": metrics.contentType }).end(text),
      () => res.writeHead(503).end("metrics unavailable\n"),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
