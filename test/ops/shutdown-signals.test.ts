import { describe, expect, it } from "vitest";

import { createLogger } from "../../src/observability/logger.js";
import { ShutdownSignals } from "../../src/ops/shutdown-signals.js";

function setup(drain: () => Promise<void>) {
  let now = 1_000;
  const exits: number[] = [];
  let drains = 0;
  const signals = new ShutdownSignals({
    drain: () => {
      drains += 1;
      return drain();
    },
    exit: (code) => exits.push(code),
    logger: createLogger("silent"),
    now: () => now,
    duplicateWindowMs: 1000,
  });
  return { signals, exits, advance: (ms: number) => (now += ms), drains: () => drains };
}

describe("ShutdownSignals", () => {
  it("should drain once and exit 0 when the same Ctrl-C arrives twice within the window", async () => {
    let finish!: () => void;
    const t = setup(() => new Promise<void>((r) => (finish = r)));
    t.signals.handle("SIGINT");
    t.advance(2);
    t.signals.handle("SIGINT");
    expect(t.exits).toEqual([]);
    finish();
    await new Promise((r) => setImmediate(r));
    expect(t.drains()).toBe(1);
    expect(t.exits).toEqual([0]);
  });

  it("should force the exit with 130 on a second signal after the window", () => {
    const t = setup(() => new Promise<void>(() => undefined));
    t.signals.handle("SIGINT");
    t.advance(1500);
    t.signals.handle("SIGINT");
    expect(t.exits).toEqual([130]);
  });

  it("should exit 1 when draining fails", async () => {
    const t = setup(() => Promise.reject(new Error("db gone")));
    t.signals.handle("SIGTERM");
    await new Promise((r) => setImmediate(r));
    expect(t.exits).toEqual([1]);
  });
});
