/**
 * Fan-out of one event to many graphql-ws subscribers on one gateway process, ours against the
 * common alternative, side by side in one run (issue 5).
 *
 *   npx tsx bench/subscriptions/fanout.ts [--subscribers 1000,10000] [--events 8] [--missed 5]
 *                                         [--clients 2] [--systems ours,alt] [--cpu-prof]
 *
 * (--systems ours,alt,shared adds "shared": our gateway's WebSocket side with the change the
 * profile suggests, prototyped in support/shared-subscribe.ts, to measure it before src/ changes.)
 *
 * Servers (bench/subscriptions/support/fanout-server.ts, each in its own process):
 *   ours  the real gateway (startGatewayServer via startApp, no workers) with its StreamPubSub.
 *         Events are XADDed straight to `judge:escalations` as the Judge's outbox does (envelope
 *         type "escalation.created", payload {escalationId, issueType}) for escalations that
 *         exist in this run's database, so only fan-out is measured: stream read, one DB load
 *         per event, GraphQL execution per subscriber, socket writes.
 *   alt   graphql-redis-subscriptions' RedisPubSub (Redis PUB/SUB) behind a minimal graphql-ws
 *         server, the same escalation PUBLISHed whole as Apollo's docs show.
 * Clients: --clients child processes (support/fanout-client.ts) share the subscribers, one
 * socket and one `escalationCreated { id trendId issueType reason status createdAt cursor }`
 * subscription each. Client and server share this machine's cores, as they would share any
 * one box; the same client processes are used for both systems.
 *
 * Per system and subscriber count: connect all sockets; publish warm-up events until one
 * reaches every socket (all subscriptions live, code warm); then --events events one at a
 * time, each after the previous reached every socket (or 20 s passed), 250 ms apart.
 * Delivery latency = arrival at a socket − the moment the publisher sent XADD / PUBLISH (one
 * clock: performance.timeOrigin + now()); p50/p99 over every (event, socket) pair; an event
 * that never arrived counts as missing. Server RSS is read from /proc every 100 ms: idle before
 * clients, with every subscriber connected, and the highest seen while events fan out. Then
 * the reconnect test: every socket disconnects, --missed events are published, every socket
 * reconnects (ours with `after: <last cursor it saw>`), a marker event is published until it
 * reaches every socket, and the missed events that arrived are counted.
 *
 * --cpu-prof records a V8 CPU profile of our server (the .cpuprofile `node --cpu-prof` writes,
 * taken through node:inspector over just the measured events) and prints where the time went:
 * by package, by a few telling frames (inclusive), by function. Profiles stay in
 * bench/results/prof/ (open them in Chrome DevTools).
 * Own database (tg_bench_*) and Redis prefix, dropped at the end. Results: table on stdout,
 * JSON in bench/results/fanout.json.
 */
import { type ChildProcess, fork } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { cpus } from "node:os";
import { parseArgs } from "node:util";

import { makeEnvelope } from "../../src/streams/envelope.js";
import { StreamProducer } from "../../src/streams/producer.js";
import { STREAMS } from "../../src/streams/stream-names.js";
import { type BenchEnv, createBenchEnv, percentile } from "../pipeline/bench-env.js";
import {
  altTrigger,
  type ClientCommand,
  type ClientReply,
  type EscalationPayload,
  now,
  type ServerReply,
  type System,
} from "./support/fanout-messages.js";

const { values: args } = parseArgs({
  options: {
    subscribers: { type: "string", default: "1000,10000" },
    events: { type: "string", default: "8" },
    missed: { type: "string", default: "5" },
    clients: { type: "string", default: "2" },
    systems: { type: "string", default: "ours,alt" },
    "cpu-prof": { type: "boolean", default: false },
  },
});
const SCALES = args.subscribers.split(",").map(Number);
const EVENTS = Number(args.events);
const MISSED = Number(args.missed);
const CLIENT_PROCS = Number(args.clients);
const SYSTEMS = args.systems.split(",") as System[];
const CPU_PROF = args["cpu-prof"];
const EVENT_TIMEOUT_MS = 20_000;
const QUERY =
  "subscription($after: String) { escalationCreated(after: $after) { id trendId issueType reason status createdAt cursor } }";
const RESULTS = new URL("../results/", import.meta.url);
const PROF_DIR = new URL("../results/prof/", import.meta.url);

class BenchError extends Error {
  constructor(
    readonly code: "BENCH_TIMEOUT" | "BENCH_CHILD_FAILED",
    message: string,
  ) {
    super(message);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One child process with request/reply over IPC and a stream of `all` notifications. */
class Child<Reply extends { type: string }> {
  private waiters: { type: string; resolve(r: Reply): void }[] = [];
  readonly allSeen = new Map<string, number>();
  private allWaiters: (() => void)[] = [];
  exited = false;

  constructor(readonly proc: ChildProcess) {
    proc.on("message", (m: Reply) => {
      if (m.type === "all") {
        const id = (m as unknown as { id: string }).id;
        this.allSeen.set(id, (this.allSeen.get(id) ?? 0) + 1);
        for (const w of this.allWaiters.splice(0)) w();
        return;
      }
      const i = this.waiters.findIndex((w) => w.type === m.type);
      if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(m);
    });
    proc.on("exit", () => {
      this.exited = true;
      for (const w of this.allWaiters.splice(0)) w();
    });
  }

  request<T extends Reply["type"]>(
    command: object,
    replyType: T,
    timeoutMs = 120_000,
  ): Promise<Extract<Reply, { type: T }>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new BenchError("BENCH_TIMEOUT", `no ${replyType} from child ${this.proc.pid}`)),
        timeoutMs,
      );
      this.waiters.push({
        type: replyType,
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r as Extract<Reply, { type: T }>);
        },
      });
      this.proc.send(command);
    });
  }

  changed(): Promise<void> {
    return new Promise((resolve) => this.allWaiters.push(resolve));
  }
}

function forkChild(
  file: string,
  argv: string[],
  env: NodeJS.ProcessEnv,
  execArgv: string[] = [],
): ChildProcess {
  return fork(new URL(file, import.meta.url).pathname, argv, {
    env,
    execArgv: [...process.execArgv, ...execArgv],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
}

interface ProcSample {
  rssMb: number;
  cpuS: number;
}

async function sampleProc(pid: number): Promise<ProcSample> {
  const [status, stat] = await Promise.all([
    readFile(`/proc/${pid}/status`, "utf8"),
    readFile(`/proc/${pid}/stat`, "utf8"),
  ]);
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { rssMb: rssKb / 1024, cpuS: ticks / 100 };
}

/** Samples a process's RSS every 100 ms; `peak()` is the highest since the last `reset()`. */
function rssSampler(pid: number) {
  let peak = 0;
  let last = 0;
  const timer = setInterval(() => {
    sampleProc(pid).then(
      (s) => {
        last = s.rssMb;
        peak = Math.max(peak, s.rssMb);
      },
      () => undefined,
    );
  }, 100);
  return {
    reset: () => (peak = last),
    peak: () => peak,
    stop: () => clearInterval(timer),
  };
}

type Escalation = EscalationPayload;

/** Escalation rows (and their trends) that the published events point at. */
async function seedEscalations(env: BenchEnv, count: number): Promise<Escalation[]> {
  const { db } = env.database;
  const out: Escalation[] = [];
  for (let start = 0; start < count; start += 500) {
    const n = Math.min(500, count - start);
    const trends = Array.from({ length: n }, (_, i) => ({
      id: randomUUID(),
      trace_id: randomUUID().replace(/-/g, ""),
      source: "bench",
      external_id: `fanout-${start + i}`,
      title: `Bench item ${start + i}`,
      body: "An item the Judge was unsure about, escalated for a moderator to decide.",
      metadata: JSON.stringify({}),
      status: "ESCALATED" as const,
    }));
    await db.insertInto("enriched_trends").values(trends).execute();
    const rows = await db
      .insertInto("escalations")
      .values(
        trends.map((t, i) => ({
          id: randomUUID(),
          trend_id: t.id,
          issue_type: i % 3 === 0 ? ("toxicity" as const) : ("low_confidence" as const),
          reason: i % 3 === 0 ? "toxicity 0.86 > 0.8" : "confidence 0.41 < 0.6",
          scores: JSON.stringify({ toxicityScore: 0.5, confidence: 0.4 }),
        })),
      )
      .returningAll()
      .execute();
    for (const r of rows) {
      out.push({
        id: r.id,
        trendId: r.trend_id,
        issueType: r.issue_type.toUpperCase(),
        reason: r.reason,
        status: r.status,
        createdAt: new Date(r.created_at).toISOString(),
        cursor: null,
      });
    }
  }
  return out;
}

interface ScaleResult {
  system: System;
  subscribers: number;
  connectSeconds: number;
  connectFailed: number;
  events: number;
  delivered: number;
  missing: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  /** Per event: ms from publish until the last socket had it. */
  lastArrivalMs: { p50: number; max: number };
  rssMb: { idle: number; connected: number; peak: number };
  cpuSeconds: { server: number; clients: number };
  reconnect: { missedEvents: number; expected: number; received: number; lost: number };
  clientErrors: number;
  firstClientError?: string;
}

async function runScale(
  env: BenchEnv,
  system: System,
  subscribers: number,
  escalations: Escalation[],
  producer: StreamProducer,
): Promise<ScaleResult> {
  const key = `tg_moderator_${randomUUID()}`;
  const serverEnv = {
    ...process.env,
    DATABASE_URL: env.config.DATABASE_URL,
    REDIS_URL: env.config.REDIS_URL,
    STREAM_PREFIX: env.prefix,
    TRENDGATE_API_KEYS: `moderator:${key}`,
    BOOTSTRAP_KEYS: "false",
    CONSOLE_ENABLED: "false",
    LOG_LEVEL: "silent",
    VECTOR_STORE_PATH: `${env.dir}/vectors`,
    // Every bench socket uses one key: lift the per-key socket cap (default 20) above the count.
    WS_MAX_SOCKETS_PER_KEY: String(subscribers + 100),
  };
  const profiling = CPU_PROF;
  const server = new Child<ServerReply>(
    forkChild("./support/fanout-server.ts", [system], serverEnv),
  );
  const ready = await server
    .request({ type: "noop" }, "ready", 60_000)
    .catch(async (error: unknown) => {
      server.proc.kill();
      throw error;
    });
  const pid = server.proc.pid!;
  const rss = rssSampler(pid);
  const clients = Array.from(
    { length: CLIENT_PROCS },
    () => new Child<ClientReply>(forkChild("./support/fanout-client.ts", [], process.env)),
  );
  const shares = clients.map(
    (_, i) => Math.floor(subscribers / CLIENT_PROCS) + (i < subscribers % CLIENT_PROCS ? 1 : 0),
  );

  let next = 0;
  const takeEscalation = () => {
    const e = escalations[next++];
    if (!e) throw new BenchError("BENCH_CHILD_FAILED", "ran out of seeded escalations");
    return e;
  };
  const publish = async (e: Escalation): Promise<number> => {
    const at = now();
    if (system !== "alt") {
      await producer.add(
        STREAMS.escalations,
        makeEnvelope("escalation.created", {
          traceId: randomUUID().replace(/-/g, ""),
          trendId: e.trendId,
          payload: { escalationId: e.id, issueType: e.issueType.toLowerCase() },
        }),
      );
    } else {
      await env.redis.publish(altTrigger(env.prefix), JSON.stringify({ escalationCreated: e }));
    }
    return at;
  };
  const everyoneHas = async (id: string, timeoutMs: number): Promise<boolean> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (clients.every((c) => (c.allSeen.get(id) ?? 0) > 0)) return true;
      const left = deadline - Date.now();
      if (left <= 0 || clients.some((c) => c.exited)) return false;
      await Promise.race([...clients.map((c) => c.changed()), sleep(Math.min(left, 200))]);
    }
  };
  const socketsWithAny = async (ids: string[]) =>
    (
      await Promise.all(
        clients.map((c) => c.request({ type: "status", ids } satisfies ClientCommand, "status")),
      )
    ).reduce((a, r) => a + r.sockets, 0);
  /** Publishes fresh events until one of them has reached every socket. */
  const untilEveryoneLive = async (label: string, timeoutMs: number): Promise<string[]> => {
    const ids: string[] = [];
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const e = takeEscalation();
      ids.push(e.id);
      await publish(e);
      if (await everyoneHas(e.id, 3_000)) return ids;
      if (Date.now() > deadline)
        throw new BenchError(
          "BENCH_TIMEOUT",
          `${label}: only ${await socketsWithAny(ids)} of ${subscribers} sockets live after ${timeoutMs} ms`,
        );
    }
  };
  const connectAll = async (resume: boolean) => {
    const replies = await Promise.all(
      clients.map((c, i) =>
        c.request(
          {
            type: "connect",
            url: ready.wsUrl,
            authorization: `Bearer ${key}`,
            count: shares[i]!,
            query: QUERY,
            resume,
            connectConcurrency: 100,
          } satisfies ClientCommand,
          "connected",
          180_000,
        ),
      ),
    );
    return {
      failed: replies.reduce((a, r) => a + r.failed, 0),
      seconds: Math.max(...replies.map((r) => r.ms)) / 1000,
    };
  };

  try {
    await sleep(500);
    const idle = (await sampleProc(pid)).rssMb;
    const connected = await connectAll(false);
    await untilEveryoneLive("warm-up", 60_000);
    // A few more so every code path is warm before measuring.
    for (let i = 0; i < 2; i++) {
      const e = takeEscalation();
      await publish(e);
      await everyoneHas(e.id, EVENT_TIMEOUT_MS);
    }
    const connectedRss = (await sampleProc(pid)).rssMb;
    rss.reset();
    const cpuBefore = await Promise.all(
      [server.proc, ...clients.map((c) => c.proc)].map((p) => sampleProc(p.pid!)),
    );

    if (profiling) await server.request({ type: "profile-start" }, "profiling");
    const measured: { id: string; at: number }[] = [];
    for (let i = 0; i < EVENTS; i++) {
      const e = takeEscalation();
      const at = await publish(e);
      measured.push({ id: e.id, at });
      await everyoneHas(e.id, EVENT_TIMEOUT_MS);
      await sleep(250);
    }
    if (profiling)
      await server.request(
        {
          type: "profile-stop",
          file: new URL(`${system}-${subscribers}.cpuprofile`, PROF_DIR).pathname,
        },
        "profiled",
      );
    const cpuAfter = await Promise.all(
      [server.proc, ...clients.map((c) => c.proc)].map((p) => sampleProc(p.pid!)),
    );
    const peakRss = Math.max(rss.peak(), connectedRss);

    const reports = await Promise.all(
      clients.map((c) =>
        c.request(
          { type: "report", ids: measured.map((m) => m.id) } satisfies ClientCommand,
          "report",
        ),
      ),
    );
    const latencies: number[] = [];
    const lastArrival: number[] = [];
    let missing = 0;
    for (const m of measured) {
      let last = 0;
      for (const r of reports) {
        for (const t of r.arrivals[m.id]!) {
          if (t === null) missing += 1;
          else {
            latencies.push(t - m.at);
            last = Math.max(last, t - m.at);
          }
        }
      }
      lastArrival.push(last);
    }

    // Reconnect: everyone leaves, events happen, everyone comes back.
    await Promise.all(
      clients.map((c) => c.request({ type: "disconnect" } satisfies ClientCommand, "disconnected")),
    );
    await sleep(1000);
    const missedIds: string[] = [];
    for (let i = 0; i < MISSED; i++) {
      const e = takeEscalation();
      missedIds.push(e.id);
      await publish(e);
    }
    await connectAll(system !== "alt");
    await untilEveryoneLive("after reconnect", 90_000);
    await sleep(500);
    const after = await Promise.all(
      clients.map((c) =>
        c.request({ type: "report", ids: missedIds } satisfies ClientCommand, "report"),
      ),
    );
    let received = 0;
    for (const r of after)
      for (const id of missedIds) received += r.arrivals[id]!.filter((t) => t !== null).length;
    const expected = subscribers * MISSED;

    return {
      system,
      subscribers,
      connectSeconds: connected.seconds,
      connectFailed: connected.failed,
      events: measured.length,
      delivered: latencies.length,
      missing,
      latencyMs: {
        p50: percentile(latencies, 50),
        p90: percentile(latencies, 90),
        p99: percentile(latencies, 99),
        max: percentile(latencies, 100),
      },
      lastArrivalMs: { p50: percentile(lastArrival, 50), max: percentile(lastArrival, 100) },
      rssMb: { idle, connected: connectedRss, peak: peakRss },
      cpuSeconds: {
        server: cpuAfter[0]!.cpuS - cpuBefore[0]!.cpuS,
        clients: cpuAfter.slice(1).reduce((a, s, i) => a + s.cpuS - cpuBefore[i + 1]!.cpuS, 0),
      },
      reconnect: { missedEvents: MISSED, expected, received, lost: expected - received },
      clientErrors: after.reduce((a, r) => a + r.errors, 0),
      firstClientError: after.find((r) => r.firstError)?.firstError,
    };
  } finally {
    rss.stop();
    await Promise.allSettled(
      clients.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exited) return resolve();
            c.proc.once("exit", () => resolve());
            c.proc.send({ type: "exit" } satisfies ClientCommand);
            setTimeout(() => c.proc.kill("SIGKILL"), 15_000).unref();
          }),
      ),
    );
    await new Promise<void>((resolve) => {
      if (server.exited) return resolve();
      server.proc.once("exit", () => resolve());
      server.proc.send({ type: "stop" });
      setTimeout(() => server.proc.kill("SIGKILL"), 30_000).unref();
    });
  }
}

interface ProfileSummary {
  /** Self time by function, top 25, % of samples (idle included, as "(idle)"). */
  functions: { fn: string; selfPct: number }[];
  /** Self time by package (or file of ours), top 15. */
  modules: { module: string; selfPct: number }[];
  /** Inclusive time of a few frames that say which step of fan-out the time belongs to. */
  inclusive: { fn: string; totalPct: number }[];
}

const INCLUSIVE_OF = [
  "execute",
  "executeImpl",
  "mapSourceToResponse",
  "escalationCreated",
  "stringify",
  "send",
  "sendFrame",
  "pushLive",
  "dispatch",
  "toEscalation",
  "completeValue",
  "garbage collector",
];

/** Reads a .cpuprofile (the format `node --cpu-prof` writes). */
async function summarizeProfile(file: string): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(file, "utf8")) as {
    nodes: {
      id: number;
      callFrame: { functionName: string; url: string; lineNumber: number };
      children?: number[];
    }[];
    samples: number[];
    timeDeltas: number[];
  };
  const byNode = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const c of node.children ?? []) parent.set(c, node.id);
  const moduleOf = (url: string) => {
    if (!url) return "(native / V8)";
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
    if (pkg) return pkg[1]!;
    if (url.startsWith("node:")) return url;
    return url.replace(/^file:\/\/.*?\/(src|bench)\//, "$1/");
  };
  const self = new Map<string, number>();
  const modules = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let total = 0;
  // Samples inside the inspector session that starts and stops the profile are the
  // profiler's own cost, not the server's.
  const inInspector = (id: number) => {
    for (let n: number | undefined = id; n !== undefined; n = parent.get(n))
      if (byNode.get(n)!.callFrame.url === "node:inspector") return true;
    return false;
  };
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    if (inInspector(id)) return;
    const frame = byNode.get(id)!.callFrame;
    const where = frame.url ? `${moduleOf(frame.url)}:${frame.lineNumber + 1}` : "";
    const name = `${frame.functionName || "(anonymous)"} ${where}`.trim();
    self.set(name, (self.get(name) ?? 0) + dt);
    modules.set(moduleOf(frame.url), (modules.get(moduleOf(frame.url)) ?? 0) + dt);
    const seen = new Set<string>();
    for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) {
      const fn = byNode.get(n)!.callFrame.functionName;
      const gc = fn === "(garbage collector)" ? "garbage collector" : fn;
      if (INCLUSIVE_OF.includes(gc) && !seen.has(gc)) {
        seen.add(gc);
        inclusive.set(gc, (inclusive.get(gc) ?? 0) + dt);
      }
    }
    total += dt;
  });
  const top = <K extends string>(m: Map<string, number>, n: number, k: K, v: string) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, t]) => ({ [k]: name, [v]: (100 * t) / total }));
  return {
    functions: top(self, 25, "fn", "selfPct") as ProfileSummary["functions"],
    modules: top(modules, 15, "module", "selfPct") as ProfileSummary["modules"],
    inclusive: top(inclusive, INCLUSIVE_OF.length, "fn", "totalPct") as ProfileSummary["inclusive"],
  };
}

async function main() {
  // BENCH_NAME_PREFIX: a namespace of one's own on a shared machine (database and Redis prefix).
  const env = await createBenchEnv({}, process.env.BENCH_NAME_PREFIX);
  const results: ScaleResult[] = [];
  try {
    const perScale = 4 + EVENTS + MISSED + 40;
    const escalations = await seedEscalations(env, perScale * SCALES.length * SYSTEMS.length);
    const producer = new StreamProducer(env.redis, env.keys, env.config.STREAM_MAX_LEN);
    await mkdir(RESULTS, { recursive: true });
    if (CPU_PROF) {
      await rm(PROF_DIR, { recursive: true, force: true });
      await mkdir(PROF_DIR, { recursive: true });
    }
    console.log(
      `fan-out: ${SCALES.join(", ")} subscribers, ${EVENTS} events each, ${CLIENT_PROCS} client processes; node ${process.version}, ${cpus().length} cores`,
    );
    for (const subscribers of SCALES) {
      for (const system of SYSTEMS) {
        const started = Date.now();
        const r = await runScale(
          env,
          system,
          subscribers,
          escalations.splice(0, perScale),
          producer,
        );
        results.push(r);
        console.log(
          `  ${system} × ${subscribers}: p50 ${r.latencyMs.p50.toFixed(0)} ms, p99 ${r.latencyMs.p99.toFixed(0)} ms, peak RSS ${r.rssMb.peak.toFixed(0)} MB, ` +
            `lost on reconnect ${r.reconnect.lost}/${r.reconnect.expected} (${((Date.now() - started) / 1000).toFixed(0)} s)`,
        );
      }
    }

    const f = (x: number, d = 0) => (Number.isNaN(x) ? "-" : x.toFixed(d));
    console.log("");
    console.log(
      "system  subscr.  connect s   p50 ms   p90 ms   p99 ms   max ms  last/event  missing  RSS idle  RSS conn  RSS peak  srv cpu s  cli cpu s  reconnect lost",
    );
    for (const r of results) {
      console.log(
        [
          r.system.padEnd(6),
          String(r.subscribers).padStart(7),
          f(r.connectSeconds, 1).padStart(10),
          f(r.latencyMs.p50).padStart(8),
          f(r.latencyMs.p90).padStart(8),
          f(r.latencyMs.p99).padStart(8),
          f(r.latencyMs.max).padStart(8),
          f(r.lastArrivalMs.p50).padStart(11),
          String(r.missing).padStart(8),
          f(r.rssMb.idle).padStart(9),
          f(r.rssMb.connected).padStart(9),
          f(r.rssMb.peak).padStart(9),
          f(r.cpuSeconds.server, 1).padStart(10),
          f(r.cpuSeconds.clients, 1).padStart(10),
          `${r.reconnect.lost}/${r.reconnect.expected}`.padStart(15),
        ].join(" "),
      );
    }
    const ratios = SCALES.flatMap((s) => {
      const alt = results.find((r) => r.system === "alt" && r.subscribers === s);
      return results
        .filter((r) => r.system !== "alt" && r.subscribers === s && alt)
        .map((ours) => ({
          system: ours.system,
          subscribers: s,
          p99Ratio: ours.latencyMs.p99 / alt!.latencyMs.p99,
          p50Ratio: ours.latencyMs.p50 / alt!.latencyMs.p50,
          peakRssRatio: ours.rssMb.peak / alt!.rssMb.peak,
          rssGrowthRatio: (ours.rssMb.peak - ours.rssMb.idle) / (alt!.rssMb.peak - alt!.rssMb.idle),
        }));
    });
    if (ratios.length) {
      console.log("");
      console.log(
        "÷ alt          subscr.   p50      p99      peak RSS   RSS growth over idle   (aim: p99 ≤ 0.5, RSS ≤ 1.0)",
      );
      for (const r of ratios)
        console.log(
          `${r.system.padEnd(8)} ${String(r.subscribers).padStart(11)}   ${r.p50Ratio.toFixed(2).padStart(6)}   ${r.p99Ratio.toFixed(2).padStart(6)}   ${r.peakRssRatio.toFixed(2).padStart(8)}   ${r.rssGrowthRatio.toFixed(2).padStart(20)}`,
        );
    }
    for (const r of results)
      if (r.clientErrors)
        console.log(
          `${r.system} × ${r.subscribers}: ${r.clientErrors} client errors, first: ${r.firstClientError}`,
        );

    let profile: ({ file: string } & ProfileSummary)[] = [];
    if (CPU_PROF) {
      const files = (await readdir(PROF_DIR)).filter((f) => f.endsWith(".cpuprofile")).sort();
      profile = await Promise.all(
        files.map(async (file) => ({
          file,
          ...(await summarizeProfile(new URL(file, PROF_DIR).pathname)),
        })),
      );
      for (const p of profile) {
        console.log(
          `\nCPU profile of the server while events fan out (${p.file}), % of wall time sampled:`,
        );
        console.log("  by package / file (self):");
        for (const t of p.modules)
          console.log(`    ${t.selfPct.toFixed(1).padStart(5)}%  ${t.module}`);
        console.log("  inclusive, by frame:");
        for (const t of p.inclusive)
          console.log(`    ${t.totalPct.toFixed(1).padStart(5)}%  ${t.fn}`);
        console.log("  by function (self):");
        for (const t of p.functions)
          console.log(`    ${t.selfPct.toFixed(1).padStart(5)}%  ${t.fn}`);
      }
    }

    const out = new URL("fanout.json", RESULTS);
    await writeFile(
      out,
      `${JSON.stringify({ bench: "subscriptions/fanout", at: new Date().toISOString(), node: process.version, cores: cpus().length, settings: { scales: SCALES, events: EVENTS, missed: MISSED, clientProcesses: CLIENT_PROCS, query: QUERY }, results, ratios, profile }, null, 2)}\n`,
    );
    console.log(`wrote ${out.pathname}`);
  } finally {
    await env.close();
  }
}

await main();
