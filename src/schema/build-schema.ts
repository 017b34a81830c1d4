import "reflect-metadata";

import type { GraphQLSchema } from "graphql";
import { buildSchema } from "type-graphql";

import { applyAccessRules } from "../resolvers/access-guard.js";
import { EscalationResolver } from "../resolvers/escalation-resolver.js";
import { JudgePolicyResolver } from "../resolvers/judge-policy-resolver.js";
import { KeyResolver } from "../resolvers/key-resolver.js";
import { MeResolver } from "../resolvers/me-resolver.js";
import { OperationsResolver } from "../resolvers/operations-resolver.js";
import { PrecedentResolver } from "../resolvers/precedent-resolver.js";
import { ReviewOpsResolver } from "../resolvers/review-ops-resolver.js";
import { ReviewResolver } from "../resolvers/review-resolver.js";
import { ReviewerStatsResolver } from "../resolvers/reviewer-stats-resolver.js";
import { SubscriptionResolver } from "../resolvers/subscription-resolver.js";
import { TrendResolver } from "../resolvers/trend-resolver.js";

let cached: Promise<GraphQLSchema> | undefined;

/**
 * The executable schema with the authorization table applied (src/domain/access-rules.ts); built
 * once per process (type-graphql metadata is global).
 */
export function buildTrendgateSchema(): Promise<GraphQLSchema> {
  cached ??= buildSchema({
    resolvers: [
      TrendResolver,
      EscalationResolver,
      OperationsResolver,
      SubscriptionResolver,
      MeResolver,
      JudgePolicyResolver,
      KeyResolver,
      PrecedentResolver,
      ReviewerStatsResolver,
      ReviewResolver,
      ReviewOpsResolver,
    ],
    validate: false,
    // Every subscription brings its own `subscribe` (src/subscriptions, resumable Redis streams);
    // type-graphql still insists on a pubSub, so it gets one that refuses topic-based use.
    pubSub: {
      publish() {
        throw new Error("publish through the outbox, not type-graphql's pubSub");
      },
      subscribe() {
        throw new Error("subscriptions use their own subscribe function");
      },
    },
  }).then(applyAccessRules);
  return cached;
}
