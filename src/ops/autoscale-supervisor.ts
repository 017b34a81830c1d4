import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";

import { Redis } from "ioredis";
import { Registry } from "prom-client";

import type { Config } from "../config.js";
import { createLogger, type Logger } from "../observability/logger.js";
import { StreamKeys } from "../streams/stream-names.js";
import { type AutoscaleMetrics, registerAutoscaleMetrics } from "./autoscale-metrics.js";
import { desiredWorkers, ScaleDownDamper } from "./autoscaler.js";
import { ProcessSupervisor } from "./process-supervisor.js";
import { RateTracker, readStageLoad } from "./stage-load.js";
import { SCALABLE_STAGES, type ScalableStage } from "./stages.js";

export interface AutoscaleOptions {
  /** Gateway port (default config.PORT). */
  port?: number;
  /** Where the supervisor serves its own /metrics (desired and actual workers); 0 = any free port. Default 9464. */
  metricsPort?: number;
  /** Bounds for every stage (default 1 and 4), and per stage where they differ. */
  minWorkers?: number;
  maxWorkers?: number;
  bounds?: Partial<Record<ScalableStage, { min: number; max: number }>>;
  /** How often to re-evaluate (default 5000 ms). */
  intervalMs?: number;
  /** The backlog should drain within this many seconds (default 30). */
  targetDrainSeconds?: number;
  /** Shrink only after the pool was too big for this long (default 30000 ms). */
  scaleDownStableMs?: number;
  /** Program + arguments that run the CLI (default: this node, bin/trendgate.js). */
  command?: string[];
  /** Children's environment (default process.env); they read their configuration from it. */
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  /** Children's output goes to <logDir>/<role>.log instead of this process's stdout. */
  logDir?: string;
  /** Ends the run (instead of SIGINT/SIGTERM). */
  signal?: AbortSignal;
}

export interface ScaleDecision {
  stage: ScalableStage;
  lag: number;
  pending: number;
  ratePerWorker: number | null;
  arrivalRate: number;
  current: number;
  desired: number;
  applied: number;
}

const DEFAULT_COMMAND = [
  process.execPath,
  fileURLToPath(new URL("../../bin/trendgate.js", import.meta.url)),
];

/**
 * `trendgate start --autoscale`: runs `serve`, one `worker relay maintenance`, and between min
 * and max `worker <stage>` processes per stage, re-sizing each pool every `intervalMs` from the
 * group's lag + pending and the processing rate observed under load ({@link desiredWorkers}).
 * Assumes the database is migrated (the CLI's start runs migrate first).
 */
export class AutoscaleSupervisor {
  readonly registry = new Registry();
  readonly metrics: AutoscaleMetrics;
  readonly processes: ProcessSupervisor;
  private readonly redis: Redis;
  private readonly keys: StreamKeys;
  private readonly logger: Logger;
  private readonly rates = new RateTracker();
  private readonly damper: ScaleDownDamper;
  private readonly current = new Map<ScalableStage, number>();
  private timer: NodeJS.Timeout | undefined;
  private evaluating: Promise<unknown> = Promise.resolve();
  private server: Server | undefined;
  private stopped = false;

  constructor(
    private readonly config: Config,
    private readonly options: AutoscaleOptions = {},
  ) {
    this.logger = (options.logger ?? createLogger(config.LOG_LEVEL)).child({
      component: "autoscaler",
    });
    this.metrics = registerAutoscaleMetrics(this.registry);
    this.damper = new ScaleDownDamper(options.scaleDownStableMs ?? 30_000);
    this.redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: null });
    this.redis.on("error", (error) => this.logger.warn({ err: error }, "redis connection error"));
    this.keys = new StreamKeys(config.STREAM_PREFIX);
    this.processes = new ProcessSupervisor({
      command: options.command ?? DEFAULT_COMMAND,
      env: options.env ?? process.env,
      logger: this.logger,
      logDir: options.logDir,
    });
  }

  bounds(stage: ScalableStage): { min: number; max: number } {
    const min = this.options.bounds?.[stage]?.min ?? this.options.minWorkers ?? 1;
    const max = this.options.bounds?.[stage]?.max ?? this.options.maxWorkers ?? 4;
    return { min, max: Math.max(min, max) };
  }

  /** The URL of the supervisor's /metrics, once started. */
  get metricsUrl(): string | undefined {
    const address = this.server?.address() as AddressInfo | null | undefined;
    return address ? `http://127.0.0.1:${address.port}/metrics` : undefined;
  }

  async start(): Promise<void> {
    const port = this.options.port ?? this.config.PORT;
    await this.processes.scale("serve", ["serve", "--port", String(port)], 1);
    await this.processes.scale("worker:relay+maintenance", ["worker", "relay", "maintenance"], 1);
    for (const stage of SCALABLE_STAGES) await this.apply(stage, this.bounds(stage).min);
    await this.serveMetrics();
    const tick = () => {
      this.evaluating = this.evaluate()
        .catch((error: unknown) =>
          this.logger.warn(
            { err: error },
            "autoscale evaluation failed; keeping the current pools",
          ),
        )
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.options.intervalMs ?? 5000);
        });
    };
    this.timer = setTimeout(tick, this.options.intervalMs ?? 5000);
  }

  /** One round: read load, decide, apply. Exposed for tests and for a first look at start. */
  async evaluate(): Promise<ScaleDecision[]> {
    const liveIdleMs = Math.max(5000, this.config.WORKER_BLOCK_MS * 3);
    const loads = await readStageLoad(this.redis, this.keys, liveIdleMs);
    const decisions: ScaleDecision[] = [];
    for (const load of loads) {
      if (this.stopped) break;
      const current = this.current.get(load.stage) ?? 0;
      // Booting children are not pulling yet; divide by the consumers that are.
      const pulling = load.liveConsumers > 0 ? Math.min(load.liveConsumers, current) : current;
      const { arrivalRate, ratePerWorker } = this.rates.update(load, pulling);
      const { min, max } = this.bounds(load.stage);
      const desired = desiredWorkers({
        lag: load.lag,
        pending: load.pending,
        ratePerWorker,
        current,
        min,
        max,
        targetDrainSeconds: this.options.targetDrainSeconds ?? 30,
        arrivalRate,
      });
      const applied = this.damper.apply(load.stage, current, desired);
      this.metrics.desired.set({ stage: load.stage }, desired);
      if (ratePerWorker !== null)
        this.metrics.ratePerWorker.set({ stage: load.stage }, ratePerWorker);
      if (applied !== current) {
        this.logger.info(
          {
            stage: load.stage,
            from: current,
            to: applied,
            desired,
            lag: load.lag,
            pending: load.pending,
            rate_per_worker: ratePerWorker,
            arrival_rate: arrivalRate,
          },
          applied > current ? "scaling up" : "scaling down",
        );
        this.metrics.events.inc({
          stage: load.stage,
          direction: applied > current ? "up" : "down",
        });
        await this.apply(load.stage, applied);
      }
      decisions.push({
        stage: load.stage,
        lag: load.lag,
        pending: load.pending,
        ratePerWorker,
        arrivalRate,
        current,
        desired,
        applied,
      });
    }
    return decisions;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    await this.evaluating;
    await this.processes.stopAll();
    await new Promise<void>((resolve) =>
      this.server ? this.server.close(() => resolve()) : resolve(),
    );
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  private async apply(stage: ScalableStage, count: number): Promise<void> {
    this.current.set(stage, count);
    this.metrics.actual.set({ stage }, count);
    await this.processes.scale(`worker:${stage}`, ["worker", stage], count);
  }

  private async serveMetrics(): Promise<void> {
    const server = createServer((req, res) => {
      if (req.url !== "/metrics") {
        res.writeHead(404).end();
        return;
      }
      this.registry.metrics().then(
        (text) => res.writeHead(200, { "content-type": this.registry.contentType }).end(text),
        (error: unknown) => res.writeHead(500).end(String(error)),
      );
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.options.metricsPort ?? 9464, "0.0.0.0", () => resolve());
    });
    this.logger.info({ url: this.metricsUrl }, "autoscaler metrics");
  }
}

/**
 * Runs the autoscaled system until SIGINT/SIGTERM (or `options.signal`), then stops every child
 * gracefully. What `trendgate start --autoscale` calls after migrating.
 */
export async function runAutoscaledStart(
  config: Config,
  options: AutoscaleOptions = {},
): Promise<void> {
  const supervisor = new AutoscaleSupervisor(config, options);
  const done = new Promise<string>((resolve) => {
    if (options.signal) {
      if (options.signal.aborted) resolve("abort");
      options.signal.addEventListener("abort", () => resolve("abort"), { once: true });
      return;
    }
    // `on`, not `once`: npm/npx deliver one Ctrl-C twice (see ShutdownSignals), and with the
    // listener gone the repeat would kill the supervisor before its children drained.
    process.on("SIGINT", () => resolve("SIGINT"));
    process.on("SIGTERM", () => resolve("SIGTERM"));
  });
  try {
    await supervisor.start();
    process.stdout.write(
      `Trendgate (autoscaled) is starting: http://127.0.0.1:${options.port ?? config.PORT}/graphql; autoscaler metrics ${supervisor.metricsUrl}\n`,
    );
    const reason = await done;
    process.stderr.write(`autoscaler: ${reason}; stopping workers gracefully\n`);
  } finally {
    await supervisor.stop();
  }
}
