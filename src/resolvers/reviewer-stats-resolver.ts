import { Arg, Ctx, Query, Resolver } from "type-graphql";
import { reviewerStats } from "../pipeline/review/reviewer-stats-queries.js";
import { ReviewerStats } from "../schema/review-insight-types.js";
import { DateTimeScalar } from "../schema/scalars.js";
import type { GraphQLContext } from "./context.js";

@Resolver()
export class ReviewerStatsResolver {
  @Query(() => [ReviewerStats], {
    description:
      "Per reviewer: reviews, median handling time, agreement with outcomes, appeals, audit samples. Operators see every reviewer, a moderator only themself",
  })
  async reviewerStats(
    @Ctx() ctx: GraphQLContext,
    @Arg("since", () => DateTimeScalar, {
      nullable: true,
      description: "Reviews made at or after this instant (all when absent)",
    })
    since?: Date | null,
  ): Promise<ReviewerStats[]> {
    const principal = ctx.require("moderate");
    const rows = await reviewerStats(ctx.services.db, {
      since: since ?? null,
      reviewerId: principal.role === "operator" ? null : principal.keyId,
      scope: ctx.scope,
    });
    return rows.map(({ reviewerId, reviewerName, ...figures }) => ({
      reviewer: { id: reviewerId, name: reviewerName },
      ...figures,
    }));
  }
}
