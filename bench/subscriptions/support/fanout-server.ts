/**
 * The server side of fanout.ts, in its own process so its RSS and CPU are its own:
 *
 *   ours  the real gateway: startApp(gateway only, no workers) → startGatewayServer with the
 *         app's StreamPubSub, configured from the environment fanout.ts passes (DATABASE_URL,
 *         STREAM_PREFIX, TRENDGATE_API_KEYS).
 *   alt   the common alternative: Apollo's documented graphql-redis-subscriptions RedisPubSub
 *         (Redis PUB/SUB) behind a minimal graphql-ws server (graphql-ws/use/ws on a ws
 *         WebSocketServer, as graphql-ws documents it) with an equivalent `escalationCreated`
 *         subscription; the publisher puts the whole escalation in the message, as Apollo's docs do.
 *
 *   shared  ours with the change proposed from the profile (see startShared), opt-in.
 *
 *   node … fanout-server.ts ours|alt|shared  (started by fanout.ts; "stop" over IPC exits cleanly;
 *                                      "profile-start" / "profile-stop" record a CPU profile)
 */
import { writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { Session } from "node:inspector/promises";
import type { AddressInfo } from "node:net";

import {
  type GraphQLFieldConfig,
  GraphQLList,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLSchema,
  GraphQLString,
} from "graphql";
import { RedisPubSub } from "graphql-redis-subscriptions";
import { useServer } from "graphql-ws/use/ws";
import { Redis } from "ioredis";
import { WebSocketServer } from "ws";

import { altTrigger, type ServerReply } from "./fanout-messages.js";

const system = process.argv[2];
/** BENCH_PORT: a port of one's own on a shared machine (0, any free port, unless set). */
const port = Number(process.env.BENCH_PORT ?? 0);

async function startOurs(): Promise<{ wsUrl: string; stop(): Promise<void> }> {
  // Imported here, not at the top, so the alternative's process does not load (and pay RSS for) our stack.
  await import("reflect-metadata");
  const { loadConfig } = await import("../../../src/config.js");
  const { startApp } = await import("../../../src/main.js");
  const { createLogger } = await import("../../../src/observability/logger.js");
  const config = loadConfig(process.env);
  const app = await startApp(
    config,
    { gateway: true, workers: [], port },
    { logger: createLogger("silent") },
  );
  return { wsUrl: app.gateway!.wsUrl, stop: () => app.stop() };
}

/**
 * Our gateway's WebSocket side rebuilt with the proposed change (shared-subscribe.ts), for
 * fanout.ts to measure it without touching src/: same schema, services, StreamPubSub, auth and
 * context as startGatewayServer; only graphql-ws's `subscribe` differs (no HTTP/Apollo part).
 */
async function startShared(): Promise<{ wsUrl: string; stop(): Promise<void> }> {
  await import("reflect-metadata");
  const { print } = await import("graphql");
  const { loadConfig } = await import("../../../src/config.js");
  const { startApp } = await import("../../../src/main.js");
  const { createLogger } = await import("../../../src/observability/logger.js");
  const { buildTrendgateSchema } = await import("../../../src/schema/build-schema.js");
  const { bearerKey, createContext } = await import("../../../src/resolvers/context.js");
  const { createSharedSubscribe } = await import("./shared-subscribe.js");
  type Principal = NonNullable<Awaited<ReturnType<typeof app.services.auth.authenticate>>>;
  const config = loadConfig(process.env);
  const app = await startApp(
    config,
    { gateway: false, workers: [] },
    { logger: createLogger("silent") },
  );
  const schema = await buildTrendgateSchema();
  const printed = new WeakMap<object, string>();
  const subscribe = createSharedSubscribe((args) => {
    let doc = printed.get(args.document);
    if (doc === undefined) printed.set(args.document, (doc = print(args.document)));
    const { after: _after, ...variables } = (args.variableValues ?? {}) as Record<string, unknown>;
    const role = (args.contextValue as { principal?: Principal }).principal?.role ?? "";
    return `${role}\u0000${args.operationName ?? ""}\u0000${JSON.stringify(variables)}\u0000${doc}`;
  });
  const httpServer = createServer((_req, res) => res.writeHead(404).end());
  const wsServer = new WebSocketServer({ server: httpServer, path: "/graphql" });
  const cleanup = useServer<Record<string, unknown>, { principal?: Principal }>(
    {
      schema,
      subscribe,
      onConnect: async (ctx) => {
        const raw = ctx.connectionParams?.authorization as string | undefined;
        const principal = await app.services.auth.authenticate(bearerKey(raw));
        if (!principal) return false;
        ctx.extra.principal = principal;
        return true;
      },
      context: (ctx) => createContext(app.services, ctx.extra.principal),
    },
    wsServer,
  );
  await new Promise<void>((resolve) => httpServer.listen(port, "127.0.0.1", resolve));
  const address = httpServer.address() as AddressInfo;
  return {
    wsUrl: `ws://127.0.0.1:${address.port}/graphql`,
    async stop() {
      for (const client of wsServer.clients) client.terminate();
      await cleanup.dispose();
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
      await app.stop();
    },
  };
}

async function startAlt(): Promise<{ wsUrl: string; stop(): Promise<void> }> {
  const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
  const pubsub = new RedisPubSub({
    publisher: new Redis(redisUrl),
    subscriber: new Redis(redisUrl),
  });
  const trigger = altTrigger(process.env.STREAM_PREFIX ?? "");
  const str = new GraphQLNonNull(GraphQLString);
  const Escalation = new GraphQLObjectType({
    name: "Escalation",
    fields: {
      id: { type: str },
      trendId: { type: str },
      issueType: { type: str },
      reason: { type: str },
      status: { type: str },
      createdAt: { type: str },
      cursor: { type: GraphQLString },
    },
  });
  const escalationCreated: GraphQLFieldConfig<{ escalationCreated: unknown }, unknown> = {
    type: new GraphQLNonNull(Escalation),
    // Same arguments as ours so the same document runs on both; Redis PUB/SUB keeps no history,
    // so `after` has nothing to resume from and is ignored.
    args: {
      after: { type: GraphQLString },
      issueType: { type: new GraphQLList(new GraphQLNonNull(GraphQLString)) },
    },
    subscribe: () => pubsub.asyncIterator(trigger),
    resolve: (payload) => payload.escalationCreated,
  };
  const schema = new GraphQLSchema({
    query: new GraphQLObjectType({
      name: "Query",
      fields: { ok: { type: GraphQLString, resolve: () => "ok" } },
    }),
    subscription: new GraphQLObjectType({ name: "Subscription", fields: { escalationCreated } }),
  });
  const httpServer = createServer((_req, res) => res.writeHead(404).end());
  const wsServer = new WebSocketServer({ server: httpServer, path: "/graphql" });
  const cleanup = useServer({ schema }, wsServer);
  await new Promise<void>((resolve) => httpServer.listen(port, "127.0.0.1", resolve));
  const address = httpServer.address() as AddressInfo;
  return {
    wsUrl: `ws://127.0.0.1:${address.port}/graphql`,
    async stop() {
      for (const client of wsServer.clients) client.terminate();
      await cleanup.dispose();
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
      await pubsub.close();
    },
  };
}

if (system === "ours" || system === "alt" || system === "shared") {
  const server =
    system === "ours"
      ? await startOurs()
      : system === "shared"
        ? await startShared()
        : await startAlt();
  // The same V8 CPU profile `node --cpu-prof` writes, but only of the window fanout.ts asks
  // for (the events), so connection setup and start-up do not drown the fan-out.
  const session = new Session();
  process.on("message", (message: { type: string; file?: string }) => {
    if (message.type === "stop") void server.stop().finally(() => process.exit(0));
    if (message.type === "profile-start") {
      session.connect();
      void session
        .post("Profiler.enable")
        .then(() => session.post("Profiler.setSamplingInterval", { interval: 200 }))
        .then(() => session.post("Profiler.start"))
        .then(() => process.send!({ type: "profiling" } satisfies ServerReply));
    }
    if (message.type === "profile-stop") {
      void session
        .post("Profiler.stop")
        .then(({ profile }) => writeFile(message.file!, JSON.stringify(profile)))
        .then(() => session.disconnect())
        .then(() => process.send!({ type: "profiled" } satisfies ServerReply));
    }
  });
  process.send!({ type: "ready", wsUrl: server.wsUrl } satisfies ServerReply);
}
