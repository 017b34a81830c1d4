import { Arg, Ctx, ID, Int, Mutation, Query, Resolver } from "type-graphql";

import { outboxBacklog } from "../db/gauge-queries.js";
import { listIncidents } from "../db/incident-queries.js";
import { decodeCursor, encodeCursor } from "../db/keyset-cursor.js";
import { assertUuid } from "../domain/uuid.js";
import { DEAD_LETTER_STREAMS, STAGE_STREAMS, STAGES } from "../pipeline/registry.js";
import { EmbeddingProgress } from "../schema/embedding-progress-types.js";
import { toIncident, toProvenanceEntry } from "../schema/mappers.js";
import {
  DeadLetterConnection,
  IncidentConnection,
  PipelineHealth,
  PipelineStage,
  ProvenanceGraph,
  PublishOverride,
  ReplayResult,
} from "../schema/moderation-types.js";
import { STREAMS } from "../streams/stream-names.js";
import { readGroupHealth } from "../workers/runtime/group-health.js";
import type { GraphQLContext } from "./context.js";

/** The stages' work streams, moderator decisions, then the dead letters (from the registry). */
const HEALTH_STREAMS = [...STAGE_STREAMS, STREAMS.resolutions, ...DEAD_LETTER_STREAMS];

@Resolver()
export class OperationsResolver {
  @Query(() => ProvenanceGraph, {
    description: "The audit trail of a trace or trend as entries and edges",
  })
  async provenance(
    @Ctx() ctx: GraphQLContext,
    @Arg("traceId", () => String, { nullable: true }) traceId?: string | null,
    @Arg("trendId", () => ID, { nullable: true }) trendId?: string | null,
  ): Promise<ProvenanceGraph> {
    ctx.require("read");
    const graph = await ctx.services.provenance.graph({ traceId, trendId }, ctx.scope);
    return { entries: graph.entries.map(toProvenanceEntry), edges: graph.edges };
  }

  @Query(() => IncidentConnection, { description: "Policy violations, newest first" })
  async incidents(
    @Ctx() ctx: GraphQLContext,
    @Arg("trendId", () => ID, { nullable: true }) trendId?: string | null,
    @Arg("first", () => Int, { defaultValue: 50 }) first = 50,
    @Arg("after", () => String, { nullable: true }) after?: string | null,
  ): Promise<IncidentConnection> {
    ctx.require("read");
    // A malformed id is the caller's mistake (BAD_USER_INPUT), not Postgres's 22P02 (fuzz campaign).
    if (trendId) assertUuid(trendId, "trendId");
    const page = await listIncidents(ctx.services.db, {
      trendId,
      first: Math.min(Math.max(first, 1), 500),
      after: after ? decodeCursor(after) : undefined,
      scope: ctx.scope,
    });
    const edges = page.rows.map((row) => ({
      cursor: encodeCursor(row.created_at, row.id),
      node: toIncident(row),
    }));
    return {
      edges,
      pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null },
    };
  }

  @Query(() => [PipelineStage], {
    description: "The pipeline's stream stages, in order (for lists of streams and dead letters)",
  })
  pipelineStages(@Ctx() ctx: GraphQLContext): PipelineStage[] {
    ctx.require("read");
    return STAGES.map(({ name, step, stream, group, deadLetterStream }) => ({
      name,
      step,
      stream,
      group,
      deadLetterStream,
    }));
  }

  @Query(() => PipelineHealth, {
    description: "Streams, consumer groups, lag, pending and consumers",
  })
  async pipelineHealth(@Ctx() ctx: GraphQLContext): Promise<PipelineHealth> {
    ctx.require("read");
    const [streams, outbox] = await Promise.all([
      readGroupHealth(ctx.services.redis, ctx.services.keys, HEALTH_STREAMS),
      outboxBacklog(ctx.services.db),
    ]);
    return {
      streams: streams.map((s) => ({
        stream: s.stream,
        length: s.length,
        lastEntryId: s.lastEntryId ?? null,
        groups: s.groups.map((g) => ({
          name: g.name,
          lag: g.lag ?? null,
          pending: g.pending,
          oldestPendingAgeMs: g.oldestPendingAgeMs ?? null,
          consumers: g.consumers.map((c) => ({
            name: c.name,
            pending: c.pending,
            idleMs: c.idleMs,
          })),
        })),
      })),
      outboxBacklog: outbox,
      at: new Date(),
    };
  }

  @Query(() => EmbeddingProgress, {
    description:
      "Re-embedding after an embedding model change: records per model, how many wait, the share done",
  })
  async embeddingProgress(@Ctx() ctx: GraphQLContext): Promise<EmbeddingProgress> {
    ctx.require("read");
    return { ...(await ctx.services.embeddingProgress()), at: new Date() };
  }

  @Query(() => DeadLetterConnection, { description: "Entries a stage gave up on (operator)" })
  async deadLetters(
    @Ctx() ctx: GraphQLContext,
    @Arg("stream", () => String) stream: string,
    @Arg("first", () => Int, { defaultValue: 50 }) first = 50,
    @Arg("after", () => String, { nullable: true }) after?: string | null,
  ): Promise<DeadLetterConnection> {
    ctx.require("operate");
    return ctx.services.deadLetters.list(stream, { first, after: after ?? undefined });
  }

  @Mutation(() => ReplayResult, {
    description:
      "Re-run dead letters with the code deployed now: by ids, or all when ids is omitted. With dryRun, run the stage's code on each without writing and say what would change",
  })
  async replayDeadLetters(
    @Ctx() ctx: GraphQLContext,
    @Arg("stream", () => String) stream: string,
    @Arg("ids", () => [String], { nullable: true }) ids?: string[] | null,
    @Arg("dryRun", () => Boolean, { defaultValue: false }) dryRun = false,
  ): Promise<ReplayResult> {
    const principal = ctx.require("operate");
    if (dryRun) {
      const entries = await ctx.services.deadLetters.find(stream, { ids: ids ?? undefined });
      const runner = await ctx.services.dryRunner();
      const outcomes = [];
      for (const entry of entries) outcomes.push(await runner.run(entry));
      const found = new Set(entries.map((e) => e.id));
      return {
        dryRun: true,
        outcomes,
        replayed: 0,
        ids: [],
        skipped: (ids ?? []).filter((id) => !found.has(id)),
      };
    }
    const result = await ctx.services.deadLetters.replay(stream, {
      ids: ids ?? undefined,
      actor: principal.name,
    });
    return { dryRun: false, outcomes: [], ...result };
  }

  @Mutation(() => PublishOverride, {
    description: "Publish despite the pipeline's decision; the justification goes to provenance",
  })
  async overridePublish(
    @Ctx() ctx: GraphQLContext,
    @Arg("trendId", () => ID) trendId: string,
    @Arg("justification", () => String) justification: string,
    @Arg("incidentId", () => ID, {
      nullable: true,
      description: "Required when the trend has an incident",
    })
    incidentId?: string | null,
  ): Promise<PublishOverride> {
    const principal = ctx.require("operate");
    return ctx.services.overrides.overridePublish(trendId, justification, principal, incidentId);
  }
}
