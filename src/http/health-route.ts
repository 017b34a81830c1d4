import { sql } from "kysely";
import type { RequestHandler } from "express";
import type { AppServices } from "../services/app-services.js";

async function probe(check: () => Promise<unknown>, timeoutMs = 2000): Promise<{ ok: boolean; error?: string }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { ok: true };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

/** GET /healthz: Postgres and Redis reachability; 503 when either is down. */
export function healthRoute(services: AppServices): RequestHandler {
  return async (_req, res) => {
    const [postgres, redis] = await Promise.all([
      probe(() => sql`SELECT 1`.execute(services.db)),
      probe(() => services.redis.ping()),
    ]);
    const ok = postgres.ok && redis.ok;
    res.status(ok ? 200 : 503).json({ status: ok ? "ok" : "degraded", postgres, redis });
  };
}
