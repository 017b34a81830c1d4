import "reflect-metadata";

import { fileURLToPath } from "node:url";

import { Command, InvalidArgumentError, Option } from "commander";
import { Redis } from "ioredis";

import { type Config, ConfigError, loadConfig } from "./config.js";
import { openDatabase } from "./db/database.js";
import { DomainError } from "./domain/domain-error.js";
import { startApp } from "./main.js";
import { createLogger } from "./observability/logger.js";
import { ShutdownSignals } from "./ops/shutdown-signals.js";
import { readConfiguredPolicy } from "./pipeline/judge/configured-policy.js";
import { PolicyError } from "./pipeline/judge/judge-policy.js";
import { isWorkerName, WORKER_NAMES } from "./pipeline/registry.js";
import { AuthService } from "./services/auth-service.js";
import { readConfiguredKeys, reloadConfiguredKeys } from "./services/configured-keys.js";
import type { DlqOptions } from "./services/dlq-command.js";
import { KeyRevocationBus } from "./services/key-revocation-bus.js";
import { migrate, StartupError } from "./startup-checks.js";
import { StreamKeys } from "./streams/stream-names.js";

/**
 * `trendgate start | serve | worker <name> | migrate | keys | dlq | judge | mcp-publish-adapter | schema`.
 * Errors a user can fix (bad configuration, a server that does not answer, bad arguments) print
 * one line and exit non-zero; nothing else prints a stack trace unless LOG_LEVEL=debug.
 */
export function buildCli(): Command {
  const program = new Command("trendgate")
    .description(
      "GraphQL gateway over a Redis-stream content pipeline with human-in-the-loop review",
    )
    .showHelpAfterError();

  program
    .command("start")
    .description("apply migrations, then run the gateway and every worker in one process")
    .option("-p, --port <port>", "HTTP port (default PORT or 4000)", parsePort)
    .option(
      "--autoscale",
      "run the gateway and each stage's workers as processes, scaled by lag and rate",
    )
    .option("--min-workers <n>", "with --autoscale: fewest workers per stage", parseCount, 1)
    .option("--max-workers <n>", "with --autoscale: most workers per stage", parseCount, 4)
    .option("--log-dir <dir>", "with --autoscale: write each process's output to <dir>/<role>.log")
    .action(
      async (opts: {
        port?: number;
        autoscale?: boolean;
        minWorkers: number;
        maxWorkers: number;
        logDir?: string;
      }) => {
        const config = readConfig();
        const logger = createLogger(config.LOG_LEVEL);
        // A bad policy file stops the start before it creates or migrates a database.
        readConfiguredPolicy(config, logger);
        await migrate(config, logger);
        if (opts.autoscale) {
          const { runAutoscaledStart } = await import("./ops/autoscale-supervisor.js");
          await runAutoscaledStart(config, {
            port: opts.port,
            minWorkers: opts.minWorkers,
            maxWorkers: opts.maxWorkers,
            logDir: opts.logDir,
            logger,
          });
          return;
        }
        await runUntilSignal(config, { gateway: true, workers: WORKER_NAMES, port: opts.port });
      },
    );

  program
    .command("serve")
    .description("run the gateway only (GraphQL, subscriptions, REST, console)")
    .option("-p, --port <port>", "HTTP port", parsePort)
    .action(async (opts: { port?: number }) => {
      await runUntilSignal(readConfig(), { gateway: true, workers: [], port: opts.port });
    });

  program
    .command("worker")
    .description(`run one or more workers: ${WORKER_NAMES.join(", ")}`)
    .argument("<names...>", "worker names")
    .action(async (names: string[]) => {
      const unknown = names.filter((n) => !isWorkerName(n));
      if (unknown.length)
        fail(`unknown worker ${unknown.join(", ")}; choose from ${WORKER_NAMES.join(", ")}`);
      await runUntilSignal(readConfig(), { gateway: false, workers: names.filter(isWorkerName) });
    });

  program
    .command("migrate")
    .description("create the database if missing and apply pending migrations")
    .action(async () => {
      const config = readConfig();
      await migrate(config, createLogger(config.LOG_LEVEL));
    });

  const keys = program
    .command("keys")
    .description("API keys (stored hashed; the key is shown once)");
  keys
    .command("create")
    .requiredOption("--role <role>", "integrator | moderator | operator | viewer")
    .option("--name <name>", "a name to recognise the key by")
    .option("--tenant <tenant>", "integrator: the tenant its posts belong to (default `default`)")
    .option(
      "--tenants <list>",
      "moderator, operator, viewer: only these tenants (comma-separated; default all)",
    )
    .option(
      "--languages <list>",
      "reviewer: ISO 639-1 codes it reviews, comma-separated (default any)",
    )
    .option(
      "--skills <list>",
      "reviewer: skills the Judge policy's review.requiredSkill names, comma-separated",
    )
    .option("--capacity <n>", "reviewer: escalations it may hold claimed at once (default 3)")
    .action(
      async (opts: {
        role: string;
        name?: string;
        tenant?: string;
        tenants?: string;
        languages?: string;
        skills?: string;
        capacity?: string;
      }) => {
        const tenants = opts.tenant !== undefined ? [opts.tenant] : opts.tenants?.split(",");
        await withAuth(async (auth) => {
          const created = await auth.createKey(opts.role, opts.name, tenants, {
            languages: opts.languages,
            skills: opts.skills,
            capacity: opts.capacity,
          });
          process.stdout.write(`${created.key}\n`);
          const scope = created.tenants ? `tenants ${created.tenants.join(",")}` : "all tenants";
          const { languages, skills, capacity } = created.profile;
          const profile = `languages ${languages.join(",") || "any"}, skills ${skills.join(",") || "none"}, capacity ${capacity}`;
          process.stderr.write(
            `created ${created.role} key "${created.name}" (id ${created.id}, ${scope}; ${profile}); it is not shown again\n`,
          );
        });
      },
    );
  keys.command("list").action(async () => {
    await withAuth(async (auth) => {
      for (const k of await auth.listKeys()) {
        const scope = k.tenants ? k.tenants.join(",") : "*";
        const profile = `${k.languages.join(",") || "*"}/${k.skills.join(",") || "-"}/${k.capacity}`;
        process.stdout.write(
          `${k.id}  ${k.role.padEnd(10)}  ${scope.padEnd(16)}  ${profile.padEnd(20)}  ${k.name}${k.revoked_at ? "  (revoked)" : ""}\n`,
        );
      }
    });
  });
  keys
    .command("revoke")
    .argument("<id>")
    .action(async (id: string) => {
      await withAuth(async (auth) => {
        if (!(await auth.revokeKey(id))) fail(`no active key ${id}`);
        process.stderr.write(`revoked ${id}\n`);
      });
    });

  program
    .command("dlq")
    .description("dead letters: list | replay | purge")
    .argument("<action>", "list | replay | purge")
    .addOption(
      new Option("--stream <stream>", "dead-letter stream or the stream it serves").default(
        "trend:embedding:dlq",
      ),
    )
    .option("--id <ids...>", "only these dead-letter ids")
    .option("--since <time>", "only entries that last failed at or after this ISO time", parseDate)
    .option("--until <time>", "only entries that last failed before this ISO time", parseDate)
    .option("--error <text>", "only entries whose error message or code contains this")
    .option(
      "--dry-run",
      "run the stage's current code on each entry without writing, and show what would change",
    )
    .option("--json", "print JSON")
    .action(async (action: string, opts: DlqOptions) => {
      const { runDlqCommand } = await import("./services/dlq-command.js");
      await runDlqCommand(readConfig(), action, opts);
    });

  const judge = program
    .command("judge")
    .description(
      "the Judge's policy: evaluate on labelled rows, simulate a proposal on history, propose thresholds from moderator decisions",
    );
  judge
    .command("evaluate")
    .description(
      "run the real enrichment and the Judge over labelled rows (no database) and report escalation, leak and calibration",
    )
    .requiredOption("--labels <file>", 'JSON lines: {"text", "label": "toxic"|"clean"}')
    .option("--policy <file>", "policy JSON (default: the built-in default policy)")
    .option("--json", "print one JSON object")
    .option(
      "--out <path>",
      "also write the full report to <path> and charts to <path>.reliability.svg / .workload.svg",
    )
    .action(async (opts: { labels: string; policy?: string; json?: boolean; out?: string }) => {
      const { runJudgeEvaluate } = await import("./pipeline/judge/evaluate-command.js");
      await runJudgeEvaluate(opts);
    });
  judge
    .command("simulate")
    .description(
      "re-decide judged items with a proposed policy from their stored scores, beside the active policy (no writes)",
    )
    .requiredOption("--policy <file>", "the proposed policy (JSON)")
    .option(
      "--since <time>",
      "only items judged at or after this ISO time (default: 30 days ago)",
      parseDate,
    )
    .option("--json", "print one JSON object")
    .action(async (opts: { policy: string; since?: Date; json?: boolean }) => {
      const { runJudgeSimulate } = await import("./pipeline/judge/policy-commands.js");
      await runJudgeSimulate(readConfig(), opts);
    });
  judge
    .command("calibrate")
    .description(
      "propose thresholds that meet a target leak with the least escalation, from moderator decisions (+ labelled rows)",
    )
    .option(
      "--target-leak <share>",
      "largest toxic-published and clean-rejected share allowed",
      parseShare,
      0.01,
    )
    .option(
      "--labels <file>",
      'extra labelled JSONL rows {"text", "label": "toxic"|"clean"}, scored with the offline models',
    )
    .option("--json", "print one JSON object")
    .action(async (opts: { targetLeak: number; labels?: string; json?: boolean }) => {
      const { runJudgeCalibrate } = await import("./pipeline/judge/policy-commands.js");
      await runJudgeCalibrate(readConfig(), opts);
    });

  program
    .command("loadtest")
    .description(
      "drive ingests at a steady or stepped rate against a running gateway and write a report",
    )
    .allowUnknownOption(true)
    .helpOption(false)
    .argument("[args...]", "see `trendgate loadtest --help`")
    .action(async (args: string[]) => {
      const { runLoadtestCommand } = await import("./ops/loadtest-command.js");
      await runLoadtestCommand(args);
    });

  program
    .command("mcp-publish-adapter")
    .description(
      "run the bundled MCP publish adapter (stdio; Streamable HTTP with PUBLISH_MCP_HTTP_PORT)",
    )
    .action(async () => {
      await import("./mcp/publish-adapter-main.js");
    });

  program
    .command("schema")
    .description("print the GraphQL SDL (what schema.graphql holds)")
    .action(async () => {
      const { printTrendgateSchema } = await import("./schema/print-schema.js");
      process.stdout.write(await printTrendgateSchema());
    });

  return program;
}

function readConfig(): Config {
  return loadConfig();
}

/** The key store, with revocations announced to every running gateway (they close the key's sockets). */
async function withAuth(fn: (auth: AuthService) => Promise<void>): Promise<void> {
  const config = readConfig();
  const logger = createLogger("warn");
  await migrate(config, logger);
  const database = openDatabase(config.DATABASE_URL, { max: 2 });
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 2 });
  redis.on("error", () => undefined);
  const bus = new KeyRevocationBus({ redis, keys: new StreamKeys(config.STREAM_PREFIX), logger });
  try {
    await fn(
      new AuthService(database.db, await readConfiguredKeys(config), {
        onRevoked: (keyId) => bus.announce(keyId),
      }),
    );
  } finally {
    redis.disconnect();
    await database.close();
  }
}

async function runUntilSignal(config: Config, what: Parameters<typeof startApp>[1]): Promise<void> {
  const app = await startApp(config, what);
  const logger = app.services.logger;
  new ShutdownSignals({
    drain: () => app.stop(),
    exit: (code) => process.exit(code),
    logger,
  }).install();
  // SIGHUP re-reads TRENDGATE_API_KEYS_FILE: a removed key stops working, its sockets close.
  process.on("SIGHUP", () => {
    reloadConfiguredKeys(app.services.auth, config).then(
      (count) => logger.info({ keys: count }, "configured API keys reloaded"),
      (error: unknown) =>
        logger.error({ err: error }, "configured API keys NOT reloaded; the previous set stays"),
    );
  });
  if (app.gateway) {
    process.stdout.write(
      `Trendgate is up: ${app.gateway.url}/graphql (console: ${app.gateway.url}/console/)\n`,
    );
  }
}

function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError("must be a TCP port");
  return n;
}

function parseCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("must be a whole number");
  return n;
}

function parseShare(value: string): number {
  const n = Number(value);
  if (!(n > 0 && n < 1))
    throw new InvalidArgumentError("must be a share between 0 and 1, e.g. 0.01");
  return n;
}

function parseDate(value: string): Date {
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new InvalidArgumentError("must be an ISO 8601 time");
  return d;
}

function fail(message: string): never {
  process.stderr.write(`trendgate: ${message}\n`);
  process.exit(2);
}

/** One line for errors a user can act on; the exit code says which kind. */
export function reportFatal(error: unknown): never {
  const coded = typeof (error as { code?: unknown })?.code === "string";
  if (
    error instanceof ConfigError ||
    error instanceof StartupError ||
    error instanceof PolicyError ||
    error instanceof DomainError ||
    coded
  ) {
    process.stderr.write(`trendgate: ${(error as Error).message}\n`);
    process.exit(1);
  }
  process.stderr.write(`trendgate: ${(error as Error)?.stack ?? String(error)}\n`);
  process.exit(1);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  buildCli().parseAsync(process.argv).catch(reportFatal);
}
