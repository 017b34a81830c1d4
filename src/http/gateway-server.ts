import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { ApolloServer, type ApolloServerPlugin } from "@apollo/server";
import { ApolloServerPluginDrainHttpServer } from "@apollo/server/plugin/drainHttpServer";
import { expressMiddleware } from "@as-integrations/express5";
import { ApolloArmor } from "@escape.tech/graphql-armor";
import express from "express";
import { type GraphQLFormattedError, type GraphQLSchema, specifiedRules } from "graphql";
import { CloseCode } from "graphql-ws";
import { useServer } from "graphql-ws/use/ws";
import { WebSocketServer } from "ws";
import type { AppServices } from "../services/app-services.js";
import type { Principal } from "../services/auth-service.js";
import { bearerKey, createContext, type GraphQLContext } from "../resolvers/context.js";
import { formatError } from "../resolvers/format-error.js";
import { buildTrendgateSchema } from "../schema/build-schema.js";
import { DocumentCache } from "../subscriptions/document-cache.js";
import { SharedNextPayloads } from "../subscriptions/shared-next-payloads.js";
import { sharedPayloadSocket } from "../subscriptions/shared-payload-socket.js";
import { SharedSubscriptions } from "../subscriptions/shared-subscriptions.js";
import { mountConsole } from "./console-route.js";
import { healthRoute } from "./health-route.js";
import type { MetricsRegistry } from "../observability/metrics.js";
import { restRoutes } from "./rest-routes.js";

export interface GatewayServer {
  /** Distinct subscription executions shared by this gateway's subscribers. */
  sharedSubscriptions: SharedSubscriptions;
  /** `next` payloads serialized once for every socket that sent them. */
  sharedPayloads: SharedNextPayloads;
  url: string;
  wsUrl: string;
  port: number;
  server: Server;
  /** Stops accepting, closes sockets and drains in-flight requests. */
  close(): Promise<void>;
}

/**
 * One HTTP server, one port: Apollo for queries and mutations at /graphql, graphql-ws on the
 * same path for subscriptions, and the REST routes beside them. Abuse limits (depth, cost,
 * aliases, tokens, body size, no batching) are applied before any resolver runs, for HTTP and
 * WebSocket alike.
 */
export async function startGatewayServer(
  services: AppServices,
  options: { port: number; host?: string; metrics?: MetricsRegistry },
): Promise<GatewayServer> {
  const { config, logger } = services;
  const schema: GraphQLSchema = await buildTrendgateSchema();
  const app = express();
  app.disable("x-powered-by");
  const httpServer = createServer(app);

  const armor = new ApolloArmor({
    maxDepth: { n: config.MAX_QUERY_DEPTH },
    costLimit: { maxCost: config.MAX_QUERY_COST },
    maxAliases: { n: 15 },
    maxDirectives: { n: 50 },
    maxTokens: { n: 2000 },
    blockFieldSuggestion: { enabled: config.NODE_ENV === "production" },
  });
  const protection = armor.protect();

  // Each shared event execution gets fresh DataLoaders: a subscription's context lives for hours.
  // A live event's `next` payload is serialized once for every socket that shares its result.
  const payloads = new SharedNextPayloads();
  const documents = new DocumentCache([...specifiedRules, ...protection.validationRules]);
  const shared = new SharedSubscriptions((c) => createContext(services, (c as GraphQLContext).principal), payloads);
  const wsServer = new WebSocketServer({
    server: httpServer,
    path: "/graphql",
    maxPayload: config.MAX_BODY_BYTES,
    WebSocket: sharedPayloadSocket(payloads),
  });
  const wsCleanup = useServer<Record<string, unknown>, { principal?: Principal }>(
    {
      schema,
      subscribe: shared.subscribe,
      jsonMessageReplacer: payloads.replacer,
      // The key arrives in connection_init (browsers cannot set headers on a WebSocket).
      onConnect: async (ctx) => {
        const params = ctx.connectionParams ?? {};
        const raw = (params.authorization ?? params.Authorization ?? params.apiKey) as string | undefined;
        if (raw === undefined || raw === "") {
          // No key at all: the socket opens and every operation answers UNAUTHENTICATED, as over HTTP.
          return true;
        }
        const key = bearerKey(raw) ?? raw;
        const principal = await services.auth.authenticate(key);
        if (!principal) {
          // A wrong key: 4403 Forbidden, graphql-ws's own close code.
          ctx.extra.socket.close(CloseCode.Forbidden, "Forbidden: unknown or revoked API key");
          return false;
        }
        (ctx.extra as { principal?: Principal }).principal = principal;
        options.metrics?.subscribers.inc();
        return true;
      },
      onClose: (ctx) => {
        if ((ctx.extra as { principal?: Principal }).principal) options.metrics?.subscribers.dec();
      },
      context: (ctx) => createContext(services, (ctx.extra as { principal?: Principal }).principal),
      parse: documents.parse,
      validate: documents.validate,
      onNext: (_ctx, _id, _payload, _args, result) => {
        // The shared object itself, not graphql-ws's per-socket copy: the replacer knows it.
        if (!result.errors?.length) return payloads.isShared(result) ? result : undefined;
        // A result without `data` failed before execution: the variables did not coerce. Apollo
        // calls that BAD_USER_INPUT over HTTP; say the same over the socket.
        const beforeExecution = !("data" in result) || result.data === undefined;
        return {
          ...result,
          errors: result.errors.map((e) =>
            formatError(beforeExecution && e.path === undefined ? { ...e.toJSON(), extensions: { code: "BAD_USER_INPUT" } } : e.toJSON(), e),
          ),
        };
      },
      onError: (_ctx, _id, _payload, errors) =>
        errors.map((e): GraphQLFormattedError => ({ ...e.toJSON(), extensions: { code: "GRAPHQL_VALIDATION_FAILED" } })),
    },
    wsServer,
  );

  const apollo = new ApolloServer<GraphQLContext>({
    schema,
    csrfPrevention: true,
    // The process's signals belong to the CLI (ShutdownSignals), which drains the workers too.
    // Apollo's own handler stopped the gateway and re-sent SIGINT to the process a few ms later,
    // which read as a second Ctrl-C and killed the drain (issue 12).
    stopOnTerminationSignals: false,
    allowBatchedHttpRequests: false,
    includeStacktraceInErrorResponses: false,
    formatError,
    validationRules: protection.validationRules,
    plugins: [
      // graphql-armor is typed against Apollo's CommonJS build; the objects are the same.
      ...(protection.plugins as unknown as ApolloServerPlugin<GraphQLContext>[]),
      ApolloServerPluginDrainHttpServer({ httpServer }),
      {
        async serverWillStart() {
          return {
            async drainServer() {
              await wsCleanup.dispose();
            },
          };
        },
      },
    ],
  });
  await apollo.start();

  app.get("/healthz", healthRoute(services));
  if (options.metrics) {
    const metrics = options.metrics;
    app.get("/metrics", async (_req, res) => {
      res.setHeader("content-type", metrics.contentType);
      res.send(await metrics.render());
    });
  }
  app.use(restRoutes(services, config.MAX_BODY_BYTES));
  app.use(
    "/graphql",
    express.json({ limit: config.MAX_BODY_BYTES }),
    expressMiddleware(apollo, {
      context: async ({ req }) => createContext(services, await services.auth.authenticate(bearerKey(req.headers.authorization))),
    }),
  );
  if (config.CONSOLE_ENABLED) mountConsole(app);
  app.use(payloadErrorHandler);

  await new Promise<void>((resolve, reject) => {
    httpServer.once("error", reject);
    httpServer.listen(options.port, options.host ?? config.HOST, () => resolve());
  });
  const address = httpServer.address() as AddressInfo;
  const host = options.host === "0.0.0.0" || !options.host ? "127.0.0.1" : options.host;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${address.port}`;
  logger.info({ url: `${url}/graphql` }, "gateway listening");
  return {
    sharedSubscriptions: shared,
    sharedPayloads: payloads,
    url,
    wsUrl: `${url.replace(/^http/, "ws")}/graphql`,
    port: address.port,
    server: httpServer,
    async close() {
      // 1001 Going Away: graphql-ws clients treat it as retryable and reconnect (with their cursor).
      for (const client of wsServer.clients) client.close(1001, "server shutting down");
      await apollo.stop();
      await new Promise<void>((resolve) => wsServer.close(() => resolve()));
    },
  };
}

/** Oversized or unparseable bodies: a JSON error naming the limit, never a stack trace. */
function payloadErrorHandler(
  error: { type?: string; status?: number; message?: string; limit?: number },
  _req: express.Request,
  res: express.Response,
  next: express.NextFunction,
): void {
  if (res.headersSent) return next(error);
  if (error.type === "entity.too.large") {
    res.status(413).json({ errors: [{ message: `request body over the limit of ${error.limit} bytes`, extensions: { code: "PAYLOAD_TOO_LARGE" } }] });
    return;
  }
  if (error.type === "entity.parse.failed") {
    res.status(400).json({ errors: [{ message: "request body is not valid JSON", extensions: { code: "BAD_REQUEST" } }] });
    return;
  }
  res.status(error.status ?? 500).json({ errors: [{ message: "internal error", extensions: { code: "INTERNAL_SERVER_ERROR" } }] });
}
