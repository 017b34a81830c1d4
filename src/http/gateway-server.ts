import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

import { ApolloServer, type ApolloServerPlugin } from "@apollo/server";
import { ApolloServerPluginDrainHttpServer } from "@apollo/server/plugin/drainHttpServer";
import { expressMiddleware } from "@as-integrations/express5";
import { ApolloArmor } from "@escape.tech/graphql-armor";
import express from "express";
import { type GraphQLFormattedError, type GraphQLSchema, specifiedRules } from "graphql";
import { useServer } from "graphql-ws/use/ws";
import helmet from "helmet";
import { WebSocketServer } from "ws";

import type { MetricsRegistry } from "../observability/metrics.js";
import { bearerKey, createContext, type GraphQLContext } from "../resolvers/context.js";
import { formatError } from "../resolvers/format-error.js";
import { buildTrendgateSchema } from "../schema/build-schema.js";
import type { AppServices } from "../services/app-services.js";
import { DocumentCache } from "../subscriptions/document-cache.js";
import { SharedNextPayloads } from "../subscriptions/shared-next-payloads.js";
import { sharedPayloadSocket } from "../subscriptions/shared-payload-socket.js";
import { SharedSubscriptions } from "../subscriptions/shared-subscriptions.js";
import { mountConsole } from "./console-route.js";
import { healthRoute } from "./health-route.js";
import { listCost, listCostError } from "./list-cost.js";
import { CachedMetrics, metricsRoute, startMetricsServer } from "./metrics-route.js";
import { restRoutes } from "./rest-routes.js";
import { SocketGuard, type SocketState } from "./socket-guard.js";

export interface GatewayServer {
  /** Distinct subscription executions shared by this gateway's subscribers. */
  sharedSubscriptions: SharedSubscriptions;
  /** `next` payloads serialized once for every socket that sent them. */
  sharedPayloads: SharedNextPayloads;
  url: string;
  wsUrl: string;
  port: number;
  /** The metrics port when METRICS_PORT is set. */
  metricsPort?: number;
  sockets: SocketGuard;
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
    maxTokens: { n: MAX_TOKENS },
    blockFieldSuggestion: { enabled: config.NODE_ENV === "production" },
  });
  const protection = armor.protect();

  // Each shared event execution gets fresh DataLoaders: a subscription's context lives for hours.
  // A live event's `next` payload is serialized once for every socket that shares its result.
  const payloads = new SharedNextPayloads();
  const documents = new DocumentCache([...specifiedRules, ...protection.validationRules]);
  const shared = new SharedSubscriptions(
    (c) => createContext(services, (c as GraphQLContext).principal),
    payloads,
  );
  const wsServer = new WebSocketServer({
    server: httpServer,
    path: "/graphql",
    maxPayload: config.MAX_BODY_BYTES,
    WebSocket: sharedPayloadSocket(payloads),
  });
  const sockets = new SocketGuard({
    auth: services.auth,
    logger,
    limits: {
      maxSocketsPerKey: config.WS_MAX_SOCKETS_PER_KEY,
      maxSubscriptionsPerSocket: config.WS_MAX_SUBSCRIPTIONS_PER_SOCKET,
      maxTokens: MAX_TOKENS,
      recheckMs: 1000,
    },
    onOpen: () => options.metrics?.subscribers.inc(),
    onClose: () => options.metrics?.subscribers.dec(),
  });
  // A revocation anywhere closes this gateway's sockets of that key at once.
  const stopListening = await services.revocations.listen((keyId) => sockets.revoked(keyId));
  const wsCleanup = useServer<Record<string, unknown>, SocketState>(
    {
      schema,
      subscribe: shared.subscribe,
      jsonMessageReplacer: payloads.replacer,
      connectionInitWaitTimeout: config.WS_INIT_TIMEOUT_MS,
      // The key arrives in connection_init (browsers cannot set headers on a WebSocket); a wrong
      // one closes with 4403, graphql-ws's own code.
      onConnect: (ctx) => sockets.connect(ctx.extra, ctx.connectionParams),
      onClose: (ctx) => sockets.disconnect(ctx.extra),
      // Every operation on the socket: the key's current state, the token and list-cost limits.
      onSubscribe: async (ctx, id, payload) => {
        const refused = await sockets.beforeOperation(ctx.extra, id, payload);
        if (refused) return refused;
        let cost: number;
        try {
          cost = listCost(
            schema,
            documents.parse(payload.query),
            payload.variables,
            payload.operationName,
          );
        } catch {
          return undefined; // graphql-ws reports the syntax error itself
        }
        return cost > config.MAX_LIST_COST
          ? [listCostError(cost, config.MAX_LIST_COST)]
          : undefined;
      },
      onComplete: (ctx, id) => sockets.completed(ctx.extra, id),
      // Attached to its socket and id, so a shared result can be written to it ahead of the
      // per-subscriber chain (SharedNextPayloads.writeAhead).
      context: (ctx, id) =>
        payloads.attach(createContext(services, ctx.extra.principal), ctx.extra.socket, id),
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
            formatError(
              beforeExecution && e.path === undefined
                ? { ...e.toJSON(), extensions: { code: "BAD_USER_INPUT" } }
                : e.toJSON(),
              e,
            ),
          ),
        };
      },
      onError: (_ctx, _id, _payload, errors) =>
        errors.map((e): GraphQLFormattedError => ({
          ...e.toJSON(),
          extensions: { code: "GRAPHQL_VALIDATION_FAILED" },
        })),
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
        async requestDidStart() {
          return {
            async didResolveOperation({ document, request }) {
              const cost = listCost(schema, document, request.variables, request.operationName);
              // Thrown after validation, so Apollo would answer 500 unless told: the query is the
              // client's to fix, like armor's own cost refusals (400).
              if (cost > config.MAX_LIST_COST)
                throw listCostError(cost, config.MAX_LIST_COST, { http: { status: 400 } });
            },
          };
        },
      },
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
  const cachedMetrics = options.metrics
    ? new CachedMetrics(options.metrics, config.METRICS_CACHE_MS)
    : undefined;
  if (cachedMetrics) app.get("/metrics", metricsRoute(cachedMetrics, config.METRICS_TOKEN));
  const metricsServer =
    cachedMetrics && config.METRICS_PORT !== undefined
      ? await startMetricsServer(cachedMetrics, config.METRICS_PORT, options.host ?? config.HOST)
      : undefined;
  app.use(restRoutes(services, config.MAX_BODY_BYTES));
  app.use(
    "/graphql",
    express.json({ limit: config.MAX_BODY_BYTES }),
    expressMiddleware(apollo, {
      context: async ({ req }) =>
        createContext(
          services,
          await services.auth.authenticate(bearerKey(req.headers.authorization)),
        ),
    }),
  );
  if (config.CONSOLE_ENABLED) {
    app.use("/console", consoleHeaders());
    mountConsole(app);
  }
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
    metricsPort: metricsServer?.port,
    sockets,
    server: httpServer,
    async close() {
      sockets.stop();
      stopListening();
      await metricsServer?.close();
      // 1001 Going Away: graphql-ws clients treat it as retryable and reconnect (with their cursor).
      for (const client of wsServer.clients) client.close(1001, "server shutting down");
      await apollo.stop();
      await new Promise<void>((resolve) => wsServer.close(() => resolve()));
    },
  };
}

/** graphql-armor's token limit, for HTTP (its parser plugin) and WebSocket (SocketGuard) alike. */
const MAX_TOKENS = 2000;

/**
 * The console's security headers (helmet): a CSP that allows only its own scripts, styles and
 * the gateway's own HTTP and WebSocket origin, no framing (clickjacking), nosniff.
 */
function consoleHeaders(): express.RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: true,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", "data:"],
        connectSrc: [
          "'self'",
          (req) => `ws://${req.headers.host ?? "localhost"}`,
          (req) => `wss://${req.headers.host ?? "localhost"}`,
        ],
        frameAncestors: ["'none'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
      },
    },
    frameguard: { action: "deny" },
    crossOriginEmbedderPolicy: false,
  });
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
    res.status(413).json({
      errors: [
        {
          message: `request body over the limit of ${error.limit} bytes`,
          extensions: { code: "PAYLOAD_TOO_LARGE" },
        },
      ],
    });
    return;
  }
  if (error.type === "entity.parse.failed") {
    res.status(400).json({
      errors: [{ message: "request body is not valid JSON", extensions: { code: "BAD_REQUEST" } }],
    });
    return;
  }
  res.status(error.status ?? 500).json({
    errors: [{ message: "internal error", extensions: { code: "INTERNAL_SERVER_ERROR" } }],
  });
}
