import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { afterAll, describe, expect, it } from "vitest";

import { createLogger } from "../../src/observability/logger.js";
import { ProcessSupervisor, SupervisorStoppedError } from "../../src/ops/process-supervisor.js";
import { eventually } from "../support/app-harness.js";

// A stand-in worker: runs until SIGTERM, then exits 0 after a moment (as a draining consumer
// does); with "stubborn" as its argument it ignores SIGTERM. It touches READY_DIR/<pid> once its
// handler is installed, so a test never signals a child that is still booting.
const CHILD = `
const stubborn = process.argv.includes("stubborn");
process.on("SIGTERM", () => { if (!stubborn) setTimeout(() => process.exit(0), 50); });
require("node:fs").writeFileSync(require("node:path").join(process.env.READY_DIR, String(process.pid)), "");
setInterval(() => {}, 1000);
`;
const readyDir = mkdtempSync(path.join(tmpdir(), "supervisor-test-"));
const ready = (pid: number | undefined) =>
  eventually(
    async () => (existsSync(path.join(readyDir, String(pid))) ? true : undefined),
    20_000,
    20,
  );

const supervisors: ProcessSupervisor[] = [];
const make = (options: Partial<ConstructorParameters<typeof ProcessSupervisor>[0]> = {}) => {
  const s = new ProcessSupervisor({
    command: [process.execPath, "-e", CHILD, "--"],
    env: { ...process.env, READY_DIR: readyDir },
    logger: createLogger("silent"),
    restartDelayMs: 50,
    stopTimeoutMs: 5000,
    ...options,
  });
  supervisors.push(s);
  return s;
};

afterAll(async () => {
  await Promise.all(supervisors.map((s) => s.stopAll()));
  rmSync(readyDir, { recursive: true, force: true });
});

describe("ProcessSupervisor", () => {
  it("should start and gracefully stop children to reach the asked count", async () => {
    const s = make();
    await s.scale("worker:etl", ["etl"], 3);
    expect(s.count("worker:etl")).toBe(3);
    const [oldest] = s.list("worker:etl");
    await s.scale("worker:etl", ["etl"], 1);
    expect(s.count("worker:etl")).toBe(1);
    // The oldest child is kept: it has warm caches.
    expect(s.list("worker:etl")[0]).toBe(oldest);
  });

  it("should let a SIGTERMed child exit on its own (exit code 0, no SIGKILL)", async () => {
    const s = make();
    await s.scale("worker:judge", ["judge"], 1);
    const child = s.list("worker:judge")[0]!;
    await ready(child.pid);
    await s.scale("worker:judge", ["judge"], 0);
    expect(await child.exited).toEqual({ code: 0, signal: null });
  });

  it("should replace a child killed with SIGKILL and count the restart", async () => {
    const s = make();
    await s.scale("worker:embedding", ["embedding"], 2);
    const victim = s.list("worker:embedding")[0]!;
    process.kill(victim.pid!, "SIGKILL");
    await victim.exited;
    await eventually(
      async () =>
        s.count("worker:embedding") === 2 && !s.list().includes(victim) ? true : undefined,
      5000,
      20,
    );
    expect(s.restarts.get("worker:embedding")).toBe(1);
  });

  it("should SIGKILL a child that ignores SIGTERM past the stop timeout", async () => {
    const s = make({ stopTimeoutMs: 200 });
    await s.scale("worker:stubborn", ["stubborn"], 1);
    const child = s.list("worker:stubborn")[0]!;
    await ready(child.pid);
    await s.stopChild(child);
    expect((await child.exited).signal).toBe("SIGKILL");
  });

  it("should refuse to scale after stopAll, with SUPERVISOR_STOPPED", async () => {
    const s = make();
    await s.scale("serve", ["serve"], 1);
    await s.stopAll();
    expect(s.count("serve")).toBe(0);
    const error = await s.scale("serve", ["serve"], 1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SupervisorStoppedError);
    expect((error as SupervisorStoppedError).code).toBe("SUPERVISOR_STOPPED");
  });
});
