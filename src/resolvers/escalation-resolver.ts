import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from "type-graphql";

import { encodeCursor } from "../db/keyset-cursor.js";
import type {
  EscalationStatus as DbEscalationStatus,
  IssueType as DbIssueType,
} from "../db/types.js";
import { EscalationStatus, IssueType } from "../schema/enums.js";
import { toEscalation, toProvenanceEntry, toTrend } from "../schema/mappers.js";
import {
  Escalation,
  EscalationConnection,
  ProvenanceEntry,
  ResolveEscalationInput,
} from "../schema/moderation-types.js";
import { Trend } from "../schema/trend-types.js";
import { STREAMS } from "../streams/stream-names.js";
import type { GraphQLContext } from "./context.js";

async function lastEntryId(ctx: GraphQLContext, stream: string): Promise<string> {
  const [last] = await ctx.services.redis.xrevrange(
    ctx.services.keys.key(stream),
    "+",
    "-",
    "COUNT",
    1,
  );
  return last?.[0] ?? "0";
}

@Resolver(() => Escalation)
export class EscalationResolver {
  @Query(() => Escalation)
  async escalation(
    @Arg("id", () => ID) id: string,
    @Ctx() ctx: GraphQLContext,
  ): Promise<Escalation> {
    ctx.require("read");
    return toEscalation(await ctx.services.escalations.get(id, ctx.scope));
  }

  @Query(() => EscalationConnection, { description: "The moderation queue, oldest first" })
  async escalations(
    @Ctx() ctx: GraphQLContext,
    @Arg("status", () => [EscalationStatus], { nullable: true }) status?: EscalationStatus[] | null,
    @Arg("issueType", () => [IssueType], { nullable: true }) issueType?: IssueType[] | null,
    @Arg("source", () => String, { nullable: true }) source?: string | null,
    @Arg("first", () => Int, { defaultValue: 50 }) first = 50,
    @Arg("after", () => String, { nullable: true }) after?: string | null,
  ): Promise<EscalationConnection> {
    ctx.require("read");
    // Read the streams' positions before the list, so a subscription `after` them overlaps the
    // list (harmless, events are idempotent for a queue) instead of leaving a gap.
    const [streamCursor, resolutionCursor] = await Promise.all([
      lastEntryId(ctx, STREAMS.escalations),
      lastEntryId(ctx, STREAMS.resolutions),
    ]);
    const page = await ctx.services.escalations.list({
      status: (status ?? undefined) as DbEscalationStatus[] | undefined,
      issueType: (issueType ?? undefined) as DbIssueType[] | undefined,
      source: source ?? undefined,
      first: Math.min(Math.max(first, 1), 500),
      after: after ?? undefined,
      scope: ctx.scope,
    });
    const edges = page.rows.map((row) => ({
      cursor: encodeCursor(row.created_at, row.id),
      node: toEscalation(row),
    }));
    return {
      edges,
      pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null },
      totalCount: page.totalCount,
      streamCursor,
      resolutionCursor,
    };
  }

  @Mutation(() => Escalation, {
    description: "Take an escalation for review (a lease; returns the fencing token)",
  })
  async claimEscalation(
    @Arg("id", () => ID) id: string,
    @Ctx() ctx: GraphQLContext,
  ): Promise<Escalation> {
    const principal = ctx.require("moderate");
    return toEscalation(await ctx.services.escalations.claim(id, principal));
  }

  @Mutation(() => Escalation, { description: "Give a claimed escalation back to the queue" })
  async releaseEscalation(
    @Arg("id", () => ID) id: string,
    @Ctx() ctx: GraphQLContext,
  ): Promise<Escalation> {
    const principal = ctx.require("moderate");
    return toEscalation(await ctx.services.escalations.release(id, principal));
  }

  @Mutation(() => Escalation, {
    description: "Approve or reject; CONFLICT when already resolved or claimed by another",
  })
  async resolveEscalation(
    @Arg("id", () => ID) id: string,
    @Arg("input", () => ResolveEscalationInput) input: ResolveEscalationInput,
    @Ctx() ctx: GraphQLContext,
  ): Promise<Escalation> {
    const principal = ctx.require("moderate");
    return toEscalation(await ctx.services.escalations.resolve(id, input, principal));
  }

  @FieldResolver(() => Trend)
  async trend(@Root() escalation: Escalation, @Ctx() ctx: GraphQLContext): Promise<Trend> {
    const row = await ctx.loaders.trend.load(escalation.trendId);
    if (!row) throw new Error(`escalation ${escalation.id} points to a missing trend`);
    return toTrend(row);
  }

  @FieldResolver(() => [ProvenanceEntry], { description: "The trend's audit trail" })
  async provenance(
    @Root() escalation: Escalation,
    @Ctx() ctx: GraphQLContext,
  ): Promise<ProvenanceEntry[]> {
    return (await ctx.loaders.provenance.load(escalation.trendId)).map(toProvenanceEntry);
  }
}
