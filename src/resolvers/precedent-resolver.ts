import { Arg, Ctx, FieldResolver, Int, Resolver, Root } from "type-graphql";

import type { Decision, IssueType } from "../schema/enums.js";
import { toTrend } from "../schema/mappers.js";
import { Escalation } from "../schema/moderation-types.js";
import { Precedent } from "../schema/review-insight-types.js";
import type { GraphQLContext } from "./context.js";

@Resolver(() => Escalation)
export class PrecedentResolver {
  @FieldResolver(() => [Precedent], {
    description:
      "The most similar past items of the same tenant that a human decided, closest first (at most 20)",
  })
  async precedents(
    @Root() escalation: Escalation,
    @Ctx() ctx: GraphQLContext,
    @Arg("first", () => Int, { defaultValue: 5 }) first: number,
  ): Promise<Precedent[]> {
    const trend = await ctx.loaders.trend.load(escalation.trendId);
    if (!trend) return [];
    const found = await ctx.services.precedents.forTrend(trend, first);
    return found.map(({ trend: match, score, decision }) => ({
      trend: toTrend(match),
      score,
      escalationId: decision.escalationId,
      issueType: decision.issueType as IssueType,
      decision: decision.decision as Decision,
      reasonCode: decision.reasonCode,
      decidedAt: decision.resolvedAt,
    }));
  }
}
