/**
 * A share of fanout.ts's subscribers: `count` graphql-ws clients, one socket and one
 * `escalationCreated` subscription each, recording when each event reaches each socket.
 * Started by fanout.ts with child_process.fork; speaks only the IPC of fanout-messages.ts.
 */
import { type Client, createClient } from "graphql-ws";
import WebSocket from "ws";

import { type ClientCommand, type ClientReply, now } from "./fanout-messages.js";

const send = (reply: ClientReply) => process.send!(reply);

let clients: Client[] = [];
let cursors: (string | undefined)[] = [];
/** Event id → arrival time per socket (NaN until it arrives). */
const arrivals = new Map<string, Float64Array>();
const received = new Map<string, number>();
let share = 0;
let errors = 0;
let firstError: string | undefined;

function record(index: number, id: string, cursor: string | null | undefined): void {
  let times = arrivals.get(id);
  if (!times) {
    times = new Float64Array(share).fill(Number.NaN);
    arrivals.set(id, times);
  }
  if (!Number.isNaN(times[index]!)) return;
  times[index] = now();
  if (cursor) cursors[index] = cursor;
  const n = (received.get(id) ?? 0) + 1;
  received.set(id, n);
  if (n === share) send({ type: "all", id });
}

function fail(error: unknown): void {
  errors += 1;
  firstError ??= error instanceof Error ? error.message : JSON.stringify(error);
}

async function connect(command: Extract<ClientCommand, { type: "connect" }>): Promise<void> {
  const started = performance.now();
  share = command.count;
  if (cursors.length !== share) cursors = new Array<string | undefined>(share).fill(undefined);
  clients = [];
  let ok = 0;
  let failed = 0;
  let next = 0;
  const open = (index: number) =>
    new Promise<void>((resolve) => {
      let settled = false;
      const settle = (good: boolean) => {
        if (settled) return;
        settled = true;
        if (good) ok += 1;
        else failed += 1;
        resolve();
      };
      const client = createClient({
        url: command.url,
        webSocketImpl: WebSocket,
        connectionParams: command.authorization ? { authorization: command.authorization } : {},
        retryAttempts: 0,
        lazy: true,
        on: {
          connected: () => settle(true),
          closed: () => settle(false),
          error: () => settle(false),
        },
      });
      clients[index] = client;
      const after = command.resume ? cursors[index] : undefined;
      client.subscribe<{ escalationCreated: { id: string; cursor: string | null } }>(
        { query: command.query, variables: after ? { after } : {} },
        {
          next: (value) => {
            const e = value.data?.escalationCreated;
            if (e) record(index, e.id, e.cursor);
            else fail(value.errors);
          },
          error: (error) => {
            // A close we asked for is not an error of the system under test.
            if (!disconnecting) fail(error);
          },
          complete: () => undefined,
        },
      );
    });
  await Promise.all(
    Array.from({ length: Math.min(command.connectConcurrency, share) }, async () => {
      while (next < share) await open(next++);
    }),
  );
  send({ type: "connected", ok, failed, ms: performance.now() - started });
}

let disconnecting = false;

process.on("message", (command: ClientCommand) => {
  switch (command.type) {
    case "connect":
      disconnecting = false;
      void connect(command);
      break;
    case "disconnect":
      disconnecting = true;
      void Promise.allSettled(clients.map((c) => c.dispose())).then(() => {
        clients = [];
        send({ type: "disconnected" });
      });
      break;
    case "status": {
      const lists = command.ids
        .map((id) => arrivals.get(id))
        .filter((t): t is Float64Array => t !== undefined);
      let sockets = 0;
      for (let i = 0; i < share; i++) if (lists.some((t) => !Number.isNaN(t[i]!))) sockets += 1;
      send({ type: "status", sockets });
      break;
    }
    case "report": {
      const out: Record<string, (number | null)[]> = {};
      for (const id of command.ids) {
        const times = arrivals.get(id);
        out[id] = Array.from({ length: share }, (_, i) =>
          times && !Number.isNaN(times[i]!) ? times[i]! : null,
        );
      }
      send({ type: "report", arrivals: out, errors, firstError });
      break;
    }
    case "exit":
      disconnecting = true;
      void Promise.allSettled(clients.map((c) => c.dispose())).then(() => process.exit(0));
      break;
  }
});
