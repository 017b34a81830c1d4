/**
 * Chaos campaign (issue 8): under a load of several thousand items, kill -9 random worker
 * processes at random moments, restart Redis (AOF on) once and, when asked, Postgres once; then
 * check with SQL that every accepted item settled exactly once per step.
 *
 *   npx tsx bench/chaos/chaos.ts [--items 5000] [--kills 10] [--restart-postgres] [--no-restart-redis]
 *                                [--redis-kill] [--timeout-s 1200] [--seed 7] [--keep]
 *
 * Runs its own everything except the Postgres server: a database tg_chaos_<hex> (dropped at the
 * end unless --keep), a redis-server on a free port with --appendonly yes in a temp dir, and the
 * gateway plus workers as `node bin/trendgate.js` children (ETL x2, embedding x2, judge,
 * publisher, relay+maintenance) with short reclaim/retry settings, so a killed worker's entries
 * are taken over within seconds. Items go in through the gateway (ingestTrends, batches of 50,
 * with duplicates); a batch that fails (BACKPRESSURE, a restart in progress) is sent again, which
 * idempotency makes safe. Kills and restarts are placed at random points of the pipeline's
 * progress, so they land while work is in flight.
 *
 * `--restart-postgres` runs `pg_ctlcluster 15 main restart`, which every user of this machine's
 * Postgres feels; it is on by default only when CI=true. `--redis-kill` kills Redis with SIGKILL
 * (AOF with appendfsync always) instead of stopping it.
 *
 * Checks (each printed; any non-zero "wrong" count exits 1): every accepted item is PUBLISHED,
 * REJECTED, CANCELLED or waiting for a human (ESCALATED, PAUSED); exactly one 'etl' provenance
 * entry, one embedding_records row, one vector in the store and one 'judge' entry per item; at
 * most one publication and one 'publish' entry per item; JSONL lines = publications, no key twice;
 * every publication allowed by the invariant (READY by the judge, APPROVED by a moderator, or an
 * override), and every PUBLISHED item has its publication.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

import { Redis } from "ioredis";
import pg from "pg";

import { openDatabase } from "../../src/db/database.js";
import { ensureDatabaseExists, migrateToLatest } from "../../src/db/migrate.js";
import { seededRandom } from "../../src/domain/seeded-random.js";
import { createLogger } from "../../src/observability/logger.js";
import { createLoadtestMix } from "../../src/ops/loadtest-mix.js";
import { ProcessSupervisor } from "../../src/ops/process-supervisor.js";
import { freePort } from "../tools/free-port.js";

const { values: args } = parseArgs({
  options: {
    items: { type: "string", default: "5000" },
    kills: { type: "string", default: "10" },
    "restart-postgres": { type: "boolean", default: process.env.CI === "true" },
    "no-restart-redis": { type: "boolean", default: false },
    "redis-kill": { type: "boolean", default: false },
    "timeout-s": { type: "string", default: "1200" },
    seed: { type: "string", default: "7" },
    keep: { type: "boolean", default: false },
  },
});
const ITEMS = Number(args.items);
const KILLS = Number(args.kills);
const TIMEOUT_MS = Number(args["timeout-s"]) * 1000;
const random = seededRandom(Number(args.seed));
const SETTLED = ["PUBLISHED", "REJECTED", "CANCELLED", "ESCALATED", "PAUSED"];
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const BASE_URL =
  process.env.DATABASE_URL ?? "postgres://trendgate:trendgate@127.0.0.1:5432/trendgate";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (message: string) =>
  process.stdout.write(`[chaos +${((Date.now() - T0) / 1000).toFixed(1)}s] ${message}\n`);
const T0 = Date.now();

class ChaosError extends Error {
  readonly code = "CHAOS_FAILED";
}

/** A private redis-server: AOF on, in our temp dir, on our port. */
class PrivateRedis {
  private proc: ChildProcess | undefined;
  constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly fsyncAlways: boolean,
  ) {}

  async start(): Promise<void> {
    this.proc = spawn(
      "redis-server",
      [
        "--port",
        String(this.port),
        "--bind",
        "127.0.0.1",
        "--dir",
        this.dir,
        "--appendonly",
        "yes",
        "--appendfsync",
        this.fsyncAlways ? "always" : "everysec",
        "--save",
        "",
        "--logfile",
        path.join(this.dir, "redis.log"),
      ],
      { stdio: "ignore" },
    );
    const probe = new Redis({
      port: this.port,
      host: "127.0.0.1",
      lazyConnect: true,
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
    });
    probe.on("error", () => undefined);
    for (let i = 0; i < 100; i++) {
      try {
        await probe.connect();
        // Loading the AOF answers LOADING until done; PING succeeds only after.
        await probe.ping();
        probe.disconnect();
        return;
      } catch {
        probe.disconnect();
        await sleep(100);
      }
    }
    throw new ChaosError(`redis-server on port ${this.port} did not start`);
  }

  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((r) => proc.once("exit", r));
    proc.kill(signal);
    await exited;
  }
}

interface Counts {
  [check: string]: { value: number; wrong: boolean };
}

async function main(): Promise<number> {
  const suffix = randomBytes(5).toString("hex");
  const dir = path.join(tmpdir(), `trendgate-chaos-${suffix}`);
  mkdirSync(path.join(dir, "logs"), { recursive: true });
  mkdirSync(path.join(dir, "redis"), { recursive: true });
  const dbUrl = new URL(BASE_URL);
  dbUrl.pathname = `/tg_chaos_${suffix}`;
  const redisPort = await freePort();
  const gatewayPort = await freePort();
  const integratorKey = `chaos-${randomBytes(12).toString("hex")}`;
  const redis = new PrivateRedis(redisPort, path.join(dir, "redis"), args["redis-kill"]);
  const logger = createLogger("warn", "chaos");
  let supervisor: ProcessSupervisor | undefined;
  let monitor: pg.Pool | undefined;
  log(
    `items ${ITEMS}, kills ${KILLS}, redis restart ${!args["no-restart-redis"]}${args["redis-kill"] ? " (SIGKILL)" : ""}, postgres restart ${args["restart-postgres"]}; dir ${dir}`,
  );

  try {
    await redis.start();
    await ensureDatabaseExists(dbUrl.toString());
    const migrating = openDatabase(dbUrl.toString(), { max: 1 });
    await migrateToLatest(migrating.db);
    await migrating.close();

    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: dbUrl.toString(),
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      PORT: String(gatewayPort),
      STREAM_PREFIX: "",
      TRENDGATE_API_KEYS: `integrator:${integratorKey}`,
      BOOTSTRAP_KEYS: "false",
      VECTOR_STORE_PATH: path.join(dir, "vectors"),
      PUBLISH_JSONL_PATH: path.join(dir, "published.jsonl"),
      LOG_LEVEL: "warn",
      // Short thresholds so a killed worker's entries move to a live one within seconds.
      CLAIM_IDLE_MS: "2000",
      CONSUMER_DEAD_MS: "10000",
      // Retries outlast a Postgres or Redis restart (about 30 s) before anything is dead-lettered.
      RETRY_BASE_MS: "20",
      RETRY_MAX_MS: "2000",
      RETRY_MAX_ATTEMPTS: "25",
      WORKER_BLOCK_MS: "500",
      OUTBOX_POLL_MS: "100",
      SWEEP_INTERVAL_MS: "1000",
      DEFAULT_BUDGET: "1000000",
      WEAVIATE_URL: "",
      OTEL_EXPORTER_OTLP_ENDPOINT: "",
    };
    supervisor = new ProcessSupervisor({
      command: [process.execPath, path.join(ROOT, "bin/trendgate.js")],
      env,
      logger,
      logDir: path.join(dir, "logs"),
      restartDelayMs: 500,
      stopTimeoutMs: 15_000,
    });
    const roles: [string, string[], number][] = [
      ["serve", ["serve"], 1],
      ["worker:etl", ["worker", "etl"], 2],
      ["worker:embedding", ["worker", "embedding"], 2],
      ["worker:judge", ["worker", "judge"], 1],
      ["worker:publisher", ["worker", "publisher"], 1],
      ["worker:relay+maintenance", ["worker", "relay", "maintenance"], 1],
    ];
    for (const [role, argv, n] of roles) await supervisor.scale(role, argv, n);
    const gql = `http://127.0.0.1:${gatewayPort}/graphql`;
    for (let i = 0; ; i++) {
      const ok = await fetch(`http://127.0.0.1:${gatewayPort}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (i > 600) throw new ChaosError("the gateway did not become healthy within 60 s");
      await sleep(100);
    }
    log("gateway and workers up");

    // --- the schedule: kills and restarts at random points of progress -------------------
    const events: { at: number; kind: "kill" | "redis" | "postgres" }[] = [];
    for (let i = 0; i < KILLS; i++) events.push({ at: 0.02 + random() * 0.86, kind: "kill" });
    if (!args["no-restart-redis"]) events.push({ at: 0.2 + random() * 0.2, kind: "redis" });
    if (args["restart-postgres"]) events.push({ at: 0.5 + random() * 0.2, kind: "postgres" });
    events.sort((a, b) => a.at - b.at);

    // --- ingest, in the background -------------------------------------------------------
    const next = createLoadtestMix(`chaos-${suffix}`, Number(args.seed), {
      clean: 0.75,
      toxic: 0.08,
      unsure: 0.08,
      duplicate: 0.09,
      malformed: 0,
    });
    const items = Array.from({ length: ITEMS }, () => next().input);
    const distinctKeys = new Set(items.map((i) => `${i.source}\u0000${i.externalId}`)).size;
    const acceptedIds = new Set<string>();
    let duplicateReceipts = 0;
    let resent = 0;
    let ingested = 0;
    const ingest = (async () => {
      for (let i = 0; i < items.length; i += 50) {
        const batch = items.slice(i, i + 50);
        for (;;) {
          try {
            const res = await fetch(gql, {
              method: "POST",
              headers: {
                "content-type": "application/json",
                authorization: `Bearer ${integratorKey}`,
              },
              body: JSON.stringify({
                query:
                  "mutation($inputs: [TrendInput!]!) { ingestTrends(inputs: $inputs) { id duplicate } }",
                variables: { inputs: batch },
              }),
              signal: AbortSignal.timeout(30_000),
            });
            const body = (await res.json()) as {
              data?: { ingestTrends: { id: string; duplicate: boolean }[] };
              errors?: { extensions?: { code?: string } }[];
            };
            if (!body.data)
              throw new Error(body.errors?.[0]?.extensions?.code ?? `HTTP ${res.status}`);
            for (const r of body.data.ingestTrends) {
              acceptedIds.add(r.id);
              if (r.duplicate) duplicateReceipts++;
            }
            ingested += batch.length;
            break;
          } catch {
            resent++;
            await sleep(500);
          }
        }
      }
    })();

    // --- watch progress, fire events, wait for everything to settle ---------------------
    monitor = new pg.Pool({ connectionString: dbUrl.toString(), max: 2 });
    monitor.on("error", () => undefined);
    const settledCount = async () => {
      const r = await monitor!.query<{ settled: number; total: number }>(
        `SELECT count(*) FILTER (WHERE status = ANY($1))::int AS settled, count(*)::int AS total FROM enriched_trends`,
        [SETTLED],
      );
      return r.rows[0]!;
    };
    const kills: string[] = [];
    let redisRestartMs = 0;
    let postgresRestartMs = 0;
    const deadline = Date.now() + TIMEOUT_MS;
    let lastLog = 0;
    let progress = 0;
    let ingestDone = false;
    void ingest.then(() => (ingestDone = true));
    for (;;) {
      if (Date.now() > deadline) throw new ChaosError(`not settled within ${args["timeout-s"]} s`);
      try {
        const { settled, total } = await settledCount();
        progress = settled / distinctKeys;
        if (Date.now() - lastLog > 10_000) {
          log(`ingested ${ingested}/${ITEMS}, items ${total}, settled ${settled}`);
          lastLog = Date.now();
        }
        if (
          ingestDone &&
          events.length === 0 &&
          settled === acceptedIds.size &&
          total === acceptedIds.size
        )
          break;
      } catch {
        // Postgres restarting; try again.
      }
      while (events.length && events[0]!.at <= progress) {
        const event = events.shift()!;
        if (event.kind === "kill") {
          const victims = supervisor.list().filter((c) => c.role.startsWith("worker:"));
          const victim = victims[Math.floor(random() * victims.length)];
          if (victim?.pid) {
            process.kill(victim.pid, "SIGKILL");
            kills.push(`${victim.role}@${(progress * 100).toFixed(0)}%`);
            log(
              `kill -9 ${victim.role} (pid ${victim.pid}) at ${(progress * 100).toFixed(1)}% settled`,
            );
          }
        } else if (event.kind === "redis") {
          const started = Date.now();
          log(`restarting Redis (${args["redis-kill"] ? "SIGKILL" : "SIGTERM"}, AOF on)`);
          await redis.stop(args["redis-kill"] ? "SIGKILL" : "SIGTERM");
          await sleep(1000);
          await redis.start();
          redisRestartMs = Date.now() - started;
          log(`Redis back after ${redisRestartMs} ms`);
        } else {
          const started = Date.now();
          log("restarting Postgres (pg_ctlcluster 15 main restart)");
          execFileSync("pg_ctlcluster", ["15", "main", "restart"], { stdio: "inherit" });
          postgresRestartMs = Date.now() - started;
          log(`Postgres back after ${postgresRestartMs} ms`);
        }
      }
      await sleep(250);
    }
    await ingest;
    const seconds = (Date.now() - T0) / 1000;
    log(`all ${acceptedIds.size} accepted items settled`);
    const restarts = [...supervisor.restarts.entries()]
      .map(([role, n]) => `${role} x${n}`)
      .join(", ");
    await supervisor.stopAll();
    supervisor = undefined;

    // --- checks --------------------------------------------------------------------------
    const q = async (text: string, params: unknown[] = []) =>
      Number((await monitor!.query<{ n: number }>(text, params)).rows[0]!.n);
    const ids = [...acceptedIds];
    const counts: Counts = {};
    const check = (name: string, value: number, wrong: boolean) =>
      (counts[name] = { value, wrong });
    check("distinct items sent", distinctKeys, false);
    check("accepted (distinct ids)", ids.length, ids.length !== distinctKeys);
    check("duplicate receipts", duplicateReceipts, false);
    check(
      "rows in enriched_trends",
      await q("SELECT count(*)::int AS n FROM enriched_trends"),
      (await q("SELECT count(*)::int AS n FROM enriched_trends")) !== ids.length,
    );
    const notSettled = await q(
      "SELECT count(*)::int AS n FROM enriched_trends WHERE NOT (status = ANY($1))",
      [SETTLED],
    );
    check("not settled", notSettled, notSettled > 0);
    for (const [label, step] of [
      ["etl", "etl"],
      ["judge", "judge"],
    ] as const) {
      const wrong = await q(
        `SELECT count(*)::int AS n FROM enriched_trends t WHERE (SELECT count(*) FROM provenance_log p WHERE p.trend_id = t.id AND p.step = $1) <> 1`,
        [step],
      );
      check(`items without exactly one '${label}' entry`, wrong, wrong > 0);
    }
    const embedWrong = await q(
      `SELECT count(*)::int AS n FROM enriched_trends t WHERE (SELECT count(*) FROM embedding_records e WHERE e.trend_id = t.id) <> 1`,
    );
    check("items without exactly one embedding record", embedWrong, embedWrong > 0);
    // Vectors live in Postgres, written in the embedding record's transaction (issue 15).
    const vectorCount = await q(
      `SELECT count(*)::int AS n FROM trend_vectors WHERE vector IS NOT NULL`,
    );
    const missingVectors = await q(
      `SELECT count(*)::int AS n FROM unnest($1::uuid[]) AS i(id) WHERE NOT EXISTS (SELECT 1 FROM trend_vectors v WHERE v.trend_id = i.id AND v.vector IS NOT NULL)`,
      [ids],
    );
    check("vectors in the store", vectorCount, vectorCount !== ids.length);
    check("items without a vector", missingVectors, missingVectors > 0);
    const multiPub = await q(
      `SELECT count(*)::int AS n FROM (SELECT trend_id FROM publications GROUP BY trend_id HAVING count(*) > 1) x`,
    );
    check("items published more than once", multiPub, multiPub > 0);
    const multiPubEntry = await q(
      `SELECT count(*)::int AS n FROM (SELECT trend_id FROM provenance_log WHERE step = 'publish' GROUP BY trend_id HAVING count(*) > 1) x`,
    );
    check("items with more than one 'publish' entry", multiPubEntry, multiPubEntry > 0);
    const publications = await q("SELECT count(*)::int AS n FROM publications");
    check("publications", publications, false);
    const jsonlPath = path.join(dir, "published.jsonl");
    const lines = existsSync(jsonlPath)
      ? readFileSync(jsonlPath, "utf8")
          .split("\n")
          .filter((l) => l.trim() !== "")
      : [];
    const records = lines.map(
      (l) => JSON.parse(l) as { idempotencyKey: string; trendId: string; externalRef: string },
    );
    const keys = new Set(records.map((r) => r.idempotencyKey));
    check("JSONL lines", lines.length, lines.length !== publications);
    check("JSONL keys published twice", lines.length - keys.size, lines.length !== keys.size);
    const refs = new Map(
      (
        await monitor.query<{ trend_id: string; external_ref: string }>(
          "SELECT trend_id, external_ref FROM publications",
        )
      ).rows.map((r) => [r.trend_id, r.external_ref]),
    );
    const unmatched = records.filter((r) => refs.get(r.trendId) !== r.externalRef).length;
    check("JSONL lines without their publication", unmatched, unmatched > 0);
    const publishedWithout = await q(
      `SELECT count(*)::int AS n FROM enriched_trends t WHERE t.status = 'PUBLISHED' AND NOT EXISTS (SELECT 1 FROM publications p WHERE p.trend_id = t.id)`,
    );
    check("PUBLISHED items without a publication", publishedWithout, publishedWithout > 0);
    const violations = await q(`
      SELECT count(*)::int AS n FROM publications p WHERE NOT (
        (p.approval_path = 'judge' AND EXISTS (SELECT 1 FROM provenance_log j WHERE j.trend_id = p.trend_id AND j.step = 'judge' AND j.output->>'outcome' = 'READY'))
        OR (p.approval_path = 'moderator' AND EXISTS (SELECT 1 FROM escalations e WHERE e.trend_id = p.trend_id AND e.status = 'RESOLVED' AND e.decision = 'APPROVE'))
        OR (p.approval_path = 'override' AND EXISTS (SELECT 1 FROM publish_overrides o WHERE o.trend_id = p.trend_id)
            AND EXISTS (SELECT 1 FROM provenance_log x WHERE x.trend_id = p.trend_id AND x.step = 'override'))
      )`);
    check("publications that break the invariant", violations, violations > 0);
    const states = (
      await monitor.query<{ status: string; n: number }>(
        "SELECT status, count(*)::int AS n FROM enriched_trends GROUP BY status ORDER BY status",
      )
    ).rows;

    process.stdout.write(
      `\nchaos campaign: ${ids.length} items in ${seconds.toFixed(0)} s; kills ${kills.length} (${kills.join(", ")}); ` +
        `children replaced: ${restarts || "none"}; Redis restart ${redisRestartMs ? `${redisRestartMs} ms` : "no"}; Postgres restart ${postgresRestartMs ? `${postgresRestartMs} ms` : "no"}; ` +
        `batches re-sent ${resent}\n`,
    );
    process.stdout.write(`final states: ${states.map((s) => `${s.status} ${s.n}`).join(", ")}\n\n`);
    const width = Math.max(...Object.keys(counts).map((k) => k.length));
    for (const [name, { value, wrong }] of Object.entries(counts)) {
      process.stdout.write(
        `  ${name.padEnd(width)}  ${String(value).padStart(7)}  ${wrong ? "WRONG" : "ok"}\n`,
      );
    }
    const failed = Object.values(counts).filter((c) => c.wrong).length;
    const lowKills = kills.length < KILLS;
    if (lowKills) process.stdout.write(`  only ${kills.length} of ${KILLS} kills happened\n`);
    process.stdout.write(
      failed || lowKills ? `\nFAILED: ${failed} check(s) wrong\n` : "\nall checks passed\n",
    );
    return failed || lowKills ? 1 : 0;
  } finally {
    await supervisor?.stopAll().catch(() => undefined);
    await monitor?.end().catch(() => undefined);
    await redis.stop().catch(() => undefined);
    if (!args.keep) {
      const admin = new URL(BASE_URL);
      admin.pathname = "/postgres";
      const client = new pg.Client({ connectionString: admin.toString() });
      await client
        .connect()
        .then(() =>
          client.query(
            `DROP DATABASE IF EXISTS ${pg.escapeIdentifier(`tg_chaos_${suffix}`)} WITH (FORCE)`,
          ),
        )
        .catch((error: unknown) =>
          log(`could not drop tg_chaos_${suffix}: ${(error as Error).message}`),
        )
        .finally(() => client.end().catch(() => undefined));
      rmSync(dir, { recursive: true, force: true });
    } else log(`kept database tg_chaos_${suffix} and ${dir}`);
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`chaos: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
