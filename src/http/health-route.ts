import type { RequestHandler } from "express";

import { pingDatabase } from "../db/gauge-queries.js";
import type { AppServices } from "../services/app-services.js";

type Probe = { ok: true } | { ok: false; error: "timeout" | "unreachable" };

/** Whether a dependency answers; the reason is a fixed word, never a driver message (it may hold hosts or users). */
async function probe(check: () => Promise<unknown>, timeoutMs = 2000): Promise<Probe> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const answered = await Promise.race([
      check().then(() => true),
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      }),
    ]);
    return answered ? { ok: true } : { ok: false, error: "timeout" };
  } catch {
    return { ok: false, error: "unreachable" };
  } finally {
    clearTimeout(timer);
  }
}

/** GET /healthz: Postgres and Redis reachability; 503 naming what is down (`down: ["redis"]`). */
export function healthRoute(services: AppServices): RequestHandler {
  return async (_req, res) => {
    const [postgres, redis] = await Promise.all([
      probe(() => pingDatabase(services.db)),
      probe(() => services.redis.ping()),
    ]);
    const down = [!postgres.ok && "postgres", !redis.ok && "redis"].filter((d): d is string =>
      Boolean(d),
    );
    res
      .status(down.length ? 503 : 200)
      .json({ status: down.length ? "degraded" : "ok", down, postgres, redis });
  };
}
