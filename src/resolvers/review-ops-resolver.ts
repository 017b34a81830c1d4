import { Arg, Ctx, ID, Mutation, Query, Resolver } from "type-graphql";

import { Decision } from "../schema/enums.js";
import { toEscalation } from "../schema/mappers.js";
import { Escalation } from "../schema/moderation-types.js";
import { ReasonCodeEntry } from "../schema/review-ops-types.js";
import type { GraphQLContext } from "./context.js";

/** Reason codes and appeals (issue 14, items 5 and 6): thin adapters to src/pipeline/review. */
@Resolver()
export class ReviewOpsResolver {
  @Query(() => [ReasonCodeEntry], {
    description: "The reason codes a decision may carry (REJECT requires one)",
  })
  reasonCodes(
    @Ctx() ctx: GraphQLContext,
    @Arg("decision", () => Decision, { nullable: true }) decision?: Decision | null,
  ): ReasonCodeEntry[] {
    ctx.require("read");
    return ctx.services.reasonCodes.list(decision ?? undefined).map((c) => ({
      code: c.code,
      label: c.label,
      description: c.description ?? null,
      dsaCategory: c.dsaCategory ?? null,
      decisions: c.decisions as Decision[],
    }));
  }

  @Mutation(() => Escalation, {
    description:
      "Reopen a reviewers' REJECT as an APPEAL escalation decided by someone else; one appeal per decision, its outcome final",
  })
  async appealDecision(
    @Arg("trendId", () => ID) trendId: string,
    @Arg("statement", () => String) statement: string,
    @Ctx() ctx: GraphQLContext,
  ): Promise<Escalation> {
    const principal = ctx.require("appeal");
    return toEscalation(await ctx.services.appeals.appeal(trendId, statement, principal));
  }
}
