import "reflect-metadata";
import type { GraphQLSchema } from "graphql";
import { buildSchema } from "type-graphql";
import { EscalationResolver } from "../resolvers/escalation-resolver.js";
import { OperationsResolver } from "../resolvers/operations-resolver.js";
import { SubscriptionResolver } from "../resolvers/subscription-resolver.js";
import { TrendResolver } from "../resolvers/trend-resolver.js";

let cached: Promise<GraphQLSchema> | undefined;

/** The executable schema; built once per process (type-graphql metadata is global). */
export function buildTrendgateSchema(): Promise<GraphQLSchema> {
  cached ??= buildSchema({
    resolvers: [TrendResolver, EscalationResolver, OperationsResolver, SubscriptionResolver],
    validate: false,
  });
  return cached;
}
