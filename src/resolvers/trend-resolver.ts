import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from "type-graphql";

import { encodeCursor } from "../db/keyset-cursor.js";
import { TrendStatus } from "../schema/enums.js";
import { toEscalation, toProvenanceEntry, toTrend } from "../schema/mappers.js";
import { Escalation, ProvenanceEntry } from "../schema/moderation-types.js";
import {
  EmbeddingRecord,
  IngestReceipt,
  PlannerIntent,
  Publication,
  SimilarTrend,
  SimilarTrendsFilter,
  Trend,
  TrendConnection,
  TrendFilter,
  TrendInput,
} from "../schema/trend-types.js";
import { type GraphQLContext, ingestOrigin } from "./context.js";

@Resolver(() => Trend)
export class TrendResolver {
  @Query(() => Trend, { description: "One trend; NOT_FOUND when the id is unknown" })
  async trend(@Arg("id", () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<Trend> {
    ctx.require("read");
    return toTrend(await ctx.services.trends.get(id, ctx.scope));
  }

  @Query(() => TrendConnection, { description: "Newest first, cursor-paginated" })
  async trends(
    @Ctx() ctx: GraphQLContext,
    @Arg("filter", () => TrendFilter, { nullable: true }) filter?: TrendFilter | null,
    @Arg("first", () => Int, { defaultValue: 20 }) first = 20,
    @Arg("after", () => String, { nullable: true }) after?: string | null,
  ): Promise<TrendConnection> {
    ctx.require("read");
    const { rows, hasNextPage } = await ctx.services.trends.list(
      filter ?? {},
      first,
      after,
      ctx.scope,
    );
    const edges = rows.map((row) => ({
      cursor: encodeCursor(row.created_at, row.id),
      node: toTrend(row),
    }));
    return { edges, pageInfo: { hasNextPage, endCursor: edges.at(-1)?.cursor ?? null } };
  }

  @Query(() => [SimilarTrend], { description: "Nearest trends by meaning: give trendId or text" })
  async similarTrends(
    @Ctx() ctx: GraphQLContext,
    @Arg("trendId", () => ID, { nullable: true }) trendId?: string | null,
    @Arg("text", () => String, { nullable: true }) text?: string | null,
    @Arg("first", () => Int, { defaultValue: 10 }) first = 10,
    @Arg("filter", () => SimilarTrendsFilter, { nullable: true })
    filter?: SimilarTrendsFilter | null,
  ): Promise<SimilarTrend[]> {
    const principal = ctx.require("read");
    if (text != null) await ctx.services.rateLimits.charge("similarText", principal.keyId);
    const matches = await ctx.services.search.similar({
      trendId,
      text,
      first,
      filter: filter ?? undefined,
      scope: ctx.scope,
    });
    return matches.map((m) => ({ trend: toTrend(m.trend), score: m.score }));
  }

  @Mutation(() => IngestReceipt, {
    description: "Post one item; idempotent on source + externalId",
  })
  async ingestTrend(
    @Arg("input", () => TrendInput) input: TrendInput,
    @Ctx() ctx: GraphQLContext,
  ): Promise<IngestReceipt> {
    const principal = ctx.require("ingest");
    await ctx.services.rateLimits.charge("ingest", principal.keyId);
    const receipt = await ctx.services.ingest.ingest(
      input,
      `integrator:${principal.name}`,
      ingestOrigin(principal),
    );
    return { ...receipt, status: receipt.status as TrendStatus };
  }

  @Mutation(() => [IngestReceipt], {
    description: "Post several items in one transaction: all or none",
  })
  async ingestTrends(
    @Arg("inputs", () => [TrendInput]) inputs: TrendInput[],
    @Ctx() ctx: GraphQLContext,
  ): Promise<IngestReceipt[]> {
    const principal = ctx.require("ingest");
    await ctx.services.rateLimits.charge("ingest", principal.keyId, Math.max(inputs.length, 1));
    const receipts = await ctx.services.ingest.ingestMany(
      inputs,
      `integrator:${principal.name}`,
      undefined,
      ingestOrigin(principal),
    );
    return receipts.map((r) => ({ ...r, status: r.status as TrendStatus }));
  }

  @FieldResolver(() => [Escalation])
  async escalations(@Root() trend: Trend, @Ctx() ctx: GraphQLContext): Promise<Escalation[]> {
    return (await ctx.loaders.escalations.load(trend.id)).map((row) => toEscalation(row));
  }

  @FieldResolver(() => [ProvenanceEntry], { description: "The item's audit trail in order" })
  async provenance(@Root() trend: Trend, @Ctx() ctx: GraphQLContext): Promise<ProvenanceEntry[]> {
    return (await ctx.loaders.provenance.load(trend.id)).map(toProvenanceEntry);
  }

  @FieldResolver(() => PlannerIntent, { nullable: true })
  async plan(@Root() trend: Trend, @Ctx() ctx: GraphQLContext): Promise<PlannerIntent | null> {
    const row = await ctx.loaders.plan.load(trend.id);
    return row
      ? {
          intent: row.intent,
          steps: row.steps,
          budget: row.budget,
          planner: row.planner,
          createdAt: row.created_at,
        }
      : null;
  }

  @FieldResolver(() => EmbeddingRecord, { nullable: true })
  async embedding(
    @Root() trend: Trend,
    @Ctx() ctx: GraphQLContext,
  ): Promise<EmbeddingRecord | null> {
    const row = await ctx.loaders.embedding.load(trend.id);
    return row
      ? {
          id: row.id,
          vectorId: row.vector_id,
          store: row.store,
          model: row.model,
          dimension: row.dimension,
          attempts: row.attempts,
          createdAt: row.created_at,
        }
      : null;
  }

  @FieldResolver(() => Publication, { nullable: true })
  async publication(@Root() trend: Trend, @Ctx() ctx: GraphQLContext): Promise<Publication | null> {
    const row = await ctx.loaders.publication.load(trend.id);
    return row
      ? {
          id: row.id,
          adapter: row.adapter,
          tool: row.tool,
          externalRef: row.external_ref,
          approvalPath: row.approval_path,
          overrideId: row.override_id,
          createdAt: row.created_at,
        }
      : null;
  }
}
