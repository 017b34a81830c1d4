import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, mkdirSync, type WriteStream } from "node:fs";
import path from "node:path";

import type { Logger } from "../observability/logger.js";

/** A child process the supervisor runs for one role (e.g. "worker:etl", "serve"). */
export interface ManagedChild {
  role: string;
  pid: number | undefined;
  startedAt: number;
  process: ChildProcess;
  /** Set when the supervisor asked it to stop; an exit is then not a crash. */
  stopping: boolean;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface ProcessSupervisorOptions {
  /** The program and the arguments every child starts with, e.g. [node, bin/trendgate.js]. */
  command: string[];
  env?: NodeJS.ProcessEnv;
  logger: Logger;
  /** How long a child gets to finish in-flight work after SIGTERM before SIGKILL. */
  stopTimeoutMs?: number;
  /** Wait before replacing a child that died on its own. */
  restartDelayMs?: number;
  /** When set, each child's stdout+stderr is appended to `<logDir>/<role>.log`; else inherited. */
  logDir?: string;
  /** Called when a child exits without being asked to (crash, kill -9, OOM). */
  onUnexpectedExit?: (
    child: ManagedChild,
    code: number | null,
    signal: NodeJS.Signals | null,
  ) => void;
}

/** Thrown when asked to run something after stopAll(). */
export class SupervisorStoppedError extends Error {
  readonly code = "SUPERVISOR_STOPPED";
}

/**
 * Keeps N child processes per role running: scale(role, n) starts or gracefully stops children
 * to reach n; a child that dies unasked is replaced after a short delay. SIGTERM first, so a
 * stream consumer finishes or returns its jobs (its entries stay pending and are reclaimed
 * otherwise); SIGKILL only after `stopTimeoutMs`.
 */
export class ProcessSupervisor {
  private readonly children = new Map<string, ManagedChild[]>();
  private readonly wanted = new Map<string, { args: string[]; count: number }>();
  private readonly restartTimers = new Set<NodeJS.Timeout>();
  private readonly logs = new Map<string, WriteStream>();
  private stopped = false;
  /** Children that died unasked and were replaced, per role. */
  readonly restarts = new Map<string, number>();

  constructor(private readonly options: ProcessSupervisorOptions) {}

  /** Children of `role` that are running and not on their way out. */
  count(role: string): number {
    return this.live(role).length;
  }

  list(role?: string): ManagedChild[] {
    const roles = role ? [role] : [...this.children.keys()];
    return roles.flatMap((r) => this.live(r));
  }

  /** Starts or stops children of `role` (running `args`) until `count` are live. */
  async scale(role: string, args: string[], count: number): Promise<void> {
    if (this.stopped) throw new SupervisorStoppedError(`supervisor stopped; cannot scale ${role}`);
    this.wanted.set(role, { args, count });
    const live = this.live(role);
    for (let i = live.length; i < count; i++) this.spawnChild(role, args);
    if (live.length > count) {
      // Newest first: the oldest children have warm caches and loaded models.
      const surplus = [...live]
        .sort((a, b) => b.startedAt - a.startedAt)
        .slice(0, live.length - count);
      await Promise.all(surplus.map((c) => this.stopChild(c)));
    }
  }

  /** SIGTERM, then SIGKILL after the timeout; resolves when the child has exited. */
  async stopChild(child: ManagedChild): Promise<void> {
    child.stopping = true;
    if (child.process.exitCode !== null || child.process.signalCode !== null) return;
    child.process.kill("SIGTERM");
    const timeoutMs = this.options.stopTimeoutMs ?? 15_000;
    let timer: NodeJS.Timeout | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.options.logger.warn(
          { role: child.role, pid: child.pid, timeoutMs },
          "child did not stop in time; SIGKILL",
        );
        child.process.kill("SIGKILL");
        resolve();
      }, timeoutMs);
    });
    await Promise.race([child.exited, killed]);
    await child.exited;
    clearTimeout(timer);
  }

  /** Stops every child (in parallel) and stops replacing crashed ones. */
  async stopAll(): Promise<void> {
    this.stopped = true;
    for (const t of this.restartTimers) clearTimeout(t);
    this.restartTimers.clear();
    await Promise.all([...this.children.values()].flat().map((c) => this.stopChild(c)));
    await Promise.all([...this.logs.values()].map((s) => new Promise((r) => s.end(r))));
    this.logs.clear();
  }

  private live(role: string): ManagedChild[] {
    return (this.children.get(role) ?? []).filter(
      (c) => !c.stopping && c.process.exitCode === null && c.process.signalCode === null,
    );
  }

  private spawnChild(role: string, args: string[]): ManagedChild {
    const [program, ...baseArgs] = this.options.command;
    const log = this.logStream(role);
    const proc = spawn(program!, [...baseArgs, ...args], {
      env: this.options.env ?? process.env,
      stdio: log ? ["ignore", "pipe", "pipe"] : ["ignore", "inherit", "inherit"],
    });
    if (log) {
      proc.stdout?.pipe(log, { end: false });
      proc.stderr?.pipe(log, { end: false });
    }
    const child: ManagedChild = {
      role,
      pid: proc.pid,
      startedAt: Date.now(),
      process: proc,
      stopping: false,
      exited: new Promise((resolve) => {
        proc.once("exit", (code, signal) => resolve({ code, signal }));
        // A spawn failure emits "error" and no "exit"; report it as an exit so nobody waits forever.
        proc.once("error", (error) => {
          this.options.logger.error({ role, err: error }, "could not start child");
          resolve({ code: -1, signal: null });
        });
      }),
    };
    const list = this.children.get(role) ?? [];
    list.push(child);
    this.children.set(role, list);
    this.options.logger.info({ role, pid: proc.pid }, "child started");
    void child.exited.then(({ code, signal }) => this.onExit(child, code, signal));
    return child;
  }

  private onExit(child: ManagedChild, code: number | null, signal: NodeJS.Signals | null): void {
    const list = this.children.get(child.role) ?? [];
    this.children.set(
      child.role,
      list.filter((c) => c !== child),
    );
    if (child.stopping || this.stopped) {
      this.options.logger.info({ role: child.role, pid: child.pid, code, signal }, "child stopped");
      return;
    }
    this.options.logger.warn(
      { role: child.role, pid: child.pid, code, signal },
      "child exited unexpectedly; replacing it",
    );
    this.restarts.set(child.role, (this.restarts.get(child.role) ?? 0) + 1);
    this.options.onUnexpectedExit?.(child, code, signal);
    const timer = setTimeout(() => {
      this.restartTimers.delete(timer);
      const wanted = this.wanted.get(child.role);
      if (this.stopped || !wanted) return;
      for (let i = this.live(child.role).length; i < wanted.count; i++)
        this.spawnChild(child.role, wanted.args);
    }, this.options.restartDelayMs ?? 1000);
    this.restartTimers.add(timer);
  }

  private logStream(role: string): WriteStream | undefined {
    if (!this.options.logDir) return undefined;
    let stream = this.logs.get(role);
    if (!stream) {
      mkdirSync(this.options.logDir, { recursive: true });
      stream = createWriteStream(
        path.join(this.options.logDir, `${role.replace(/[^\w.-]+/g, "_")}.log`),
        { flags: "a" },
      );
      this.logs.set(role, stream);
    }
    return stream;
  }
}
