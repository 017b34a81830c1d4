import { Arg, Ctx, Float, Int, Mutation, Query, Resolver } from "type-graphql";

import type { JudgePolicyRow } from "../db/types.js";
import {
  CalibrationProposal,
  JudgePolicyVersion,
  JudgeStatsBucket,
  PolicySimulation,
} from "../schema/judge-policy-types.js";
import { DateTimeScalar, JSONScalar } from "../schema/scalars.js";
import type { GraphQLContext } from "./context.js";

/** The Judge policy's lifecycle over GraphQL; the rules live in JudgePolicyService. */
@Resolver()
export class JudgePolicyResolver {
  @Query(() => JudgePolicyVersion, { description: "The Judge policy version in force" })
  async judgePolicy(@Ctx() ctx: GraphQLContext): Promise<JudgePolicyVersion> {
    ctx.require("read:judge-policy");
    return toVersion(await ctx.services.judgePolicy.activeVersion());
  }

  @Query(() => [JudgePolicyVersion], { description: "Stored policy versions, newest first" })
  async judgePolicyHistory(
    @Ctx() ctx: GraphQLContext,
    @Arg("first", () => Int, { defaultValue: 20 }) first = 20,
  ): Promise<JudgePolicyVersion[]> {
    ctx.require("read:judge-policy");
    return (await ctx.services.judgePolicy.history(first)).map(toVersion);
  }

  @Mutation(() => JudgePolicyVersion, {
    description:
      "Store a new Judge policy version (operator): who, why and its simulation on history are kept; it is in force everywhere within about a second",
  })
  async applyJudgePolicy(
    @Ctx() ctx: GraphQLContext,
    @Arg("policy", () => JSONScalar) policy: unknown,
    @Arg("justification", () => String) justification: string,
  ): Promise<JudgePolicyVersion> {
    const principal = ctx.require("operate");
    return toVersion(
      await ctx.services.judgePolicy.apply(policy, justification, {
        keyId: principal.keyId,
        name: principal.name,
      }),
    );
  }

  @Query(() => PolicySimulation, {
    description:
      "Re-decide judged items with a proposed policy from their stored scores, beside the active one (operator; no writes)",
  })
  simulateJudgePolicy(
    @Ctx() ctx: GraphQLContext,
    @Arg("policy", () => JSONScalar) policy: unknown,
    @Arg("since", () => DateTimeScalar, { nullable: true, description: "Default: 30 days ago" })
    since?: Date | null,
  ): Promise<PolicySimulation> {
    ctx.require("operate");
    return ctx.services.judgePolicy.simulate(policy, since);
  }

  @Query(() => CalibrationProposal, {
    description:
      "Thresholds for the least escalation that meets the target leak, from moderator decisions (operator)",
  })
  async judgeCalibrationProposal(
    @Ctx() ctx: GraphQLContext,
    @Arg("targetLeak", () => Float, { defaultValue: 0.01 }) targetLeak = 0.01,
  ): Promise<CalibrationProposal> {
    ctx.require("operate");
    return ctx.services.judgePolicy.calibrate({ targetLeak });
  }

  @Query(() => [JudgeStatsBucket], {
    description: "The Judge's rates per time bucket and policy version (operator, viewer)",
  })
  judgeStats(
    @Ctx() ctx: GraphQLContext,
    @Arg("since", () => DateTimeScalar, { nullable: true, description: "Default: 24 hours ago" })
    since?: Date | null,
    @Arg("bucketMinutes", () => Int, { defaultValue: 60 }) bucketMinutes = 60,
  ): Promise<JudgeStatsBucket[]> {
    ctx.require("read:judge-stats");
    return ctx.services.judgePolicy.stats(since, bucketMinutes);
  }
}

function toVersion(row: JudgePolicyRow): JudgePolicyVersion {
  return {
    version: row.version,
    policy: row.policy,
    origin: row.origin,
    createdBy: { keyId: row.created_by_key_id, name: row.created_by_name },
    justification: row.justification,
    simulation: row.simulation,
    createdAt: new Date(row.created_at),
  };
}
