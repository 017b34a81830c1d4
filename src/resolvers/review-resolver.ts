import { Ctx, FieldResolver, Mutation, Resolver, Root } from "type-graphql";

import { requiredReviews } from "../pipeline/review/consensus.js";
import type { Decision } from "../schema/enums.js";
import { toEscalation } from "../schema/mappers.js";
import { Escalation } from "../schema/moderation-types.js";
import { EscalationReview, ReviewProgress } from "../schema/review-types.js";
import type { GraphQLContext } from "./context.js";

/** Routing and consensus on the API (issue 14): the next item for a reviewer, and an escalation's reviews. */
@Resolver(() => Escalation)
export class ReviewResolver {
  @Mutation(() => Escalation, {
    nullable: true,
    description:
      "Claim the most urgent escalation you are eligible for (language, skill, capacity, not reviewed by you; urgency = severity × age), or null when there is none. Concurrent callers never get the same one",
  })
  async claimNextEscalation(@Ctx() ctx: GraphQLContext): Promise<Escalation | null> {
    const principal = ctx.require("moderate");
    const row = await ctx.services.escalations.claimNext(principal);
    return row ? toEscalation(row) : null;
  }

  @FieldResolver(() => [EscalationReview], {
    description:
      "One review per reviewer, oldest first. Before the outcome, others' decisions, reason codes and notes are hidden from all but operators",
  })
  async reviews(
    @Root() escalation: Escalation,
    @Ctx() ctx: GraphQLContext,
  ): Promise<EscalationReview[]> {
    const rows = await ctx.loaders.reviews.load(escalation.id);
    return rows.map((r) => ({
      reviewer: r.reviewer_name,
      reviewedBy: { id: r.reviewer_key_id, name: r.reviewer_name },
      decision: r.decision as Decision,
      reasonCode: r.reason_code,
      note: r.note,
      at: r.at,
      counted: r.counted,
    }));
  }

  @FieldResolver(() => ReviewProgress, {
    description: "Consensus so far: reviews needed and received (no decisions)",
  })
  async reviewProgress(
    @Root() escalation: Escalation,
    @Ctx() ctx: GraphQLContext,
  ): Promise<ReviewProgress> {
    const [rows, review] = await Promise.all([
      ctx.loaders.reviews.load(escalation.id),
      ctx.services.escalations.reviewPolicy(),
    ]);
    return {
      required: requiredReviews(review, escalation.issueType),
      received: rows.filter((r) => r.counted).length,
      deciderSkill: escalation.deciderSkill,
    };
  }
}
