/** IPC between bench/subscriptions/fanout.ts and its server and client child processes. */

/** ours = the real gateway; alt = RedisPubSub + graphql-ws; shared = ours with the proposed shared execution. */
export type System = "ours" | "alt" | "shared";

/** Orchestrator → client process. */
export type ClientCommand =
  | {
      type: "connect";
      url: string;
      authorization?: string;
      /** Sockets this process holds. */
      count: number;
      query: string;
      /** Send `after: <last cursor seen>` (ours resumes; the alternative has nothing to resume from). */
      resume: boolean;
      /** Connection handshakes in flight at once, so the server's accept queue is not flooded. */
      connectConcurrency: number;
    }
  | { type: "disconnect" }
  /** How many sockets have received at least one of `ids`. */
  | { type: "status"; ids: string[] }
  /** Arrival times (performance.timeOrigin + now(), ms; null = not received) per socket for `ids`. */
  | { type: "report"; ids: string[] }
  | { type: "exit" };

/** Client process → orchestrator. */
export type ClientReply =
  | { type: "connected"; ok: number; failed: number; ms: number }
  | { type: "disconnected" }
  | { type: "status"; sockets: number }
  /** Every socket of this process has received event `id`. */
  | { type: "all"; id: string }
  | {
      type: "report";
      arrivals: Record<string, (number | null)[]>;
      errors: number;
      firstError?: string;
    };

/** Server process → orchestrator. */
export type ServerReply =
  { type: "ready"; wsUrl: string } | { type: "profiling" } | { type: "profiled" };

/** What both servers deliver for `escalationCreated`; the alternative gets it in the PUBLISH payload. */
export interface EscalationPayload {
  id: string;
  trendId: string;
  issueType: string;
  reason: string;
  status: string;
  createdAt: string;
  cursor: string | null;
}

/** Wall-clock milliseconds with sub-millisecond resolution, comparable across processes on one machine. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

/** The alternative's PUB/SUB channel; namespaced like every other key of the run. */
export function altTrigger(prefix: string): string {
  return `${prefix}ESCALATION_CREATED`;
}
