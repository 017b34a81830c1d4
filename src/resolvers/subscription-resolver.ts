import { LRUCache } from "lru-cache";
import { Arg, Ctx, ID, Resolver, Root, Subscription } from "type-graphql";
import type { SubscribeResolverData } from "type-graphql";
import { escalationById } from "../db/trend-relation-queries.js";
import type { EscalationRow } from "../db/types.js";
import type { Action } from "../domain/permissions.js";
import { type EmbeddingStatus, IssueType, TrendStatus } from "../schema/enums.js";
import { toEscalation } from "../schema/mappers.js";
import { Escalation, OperatorAlert } from "../schema/moderation-types.js";
import { TrendUpdate } from "../schema/trend-types.js";
import type { Envelope } from "../streams/envelope.js";
import { STREAMS } from "../streams/stream-names.js";
import type { StreamEvent } from "../subscriptions/stream-event.js";
import { tenantFiltered } from "../subscriptions/tenant-filtered.js";
import type { GraphQLContext } from "./context.js";
import { SubscriptionGapError } from "./format-error.js";

type Data = SubscribeResolverData<unknown, Record<string, unknown>, GraphQLContext>;

/** Subscribes to one stream for the caller, after checking what its key may see (its tenants only). */
function streamOf(stream: string, action: Action, filter: (e: Envelope, args: Record<string, unknown>) => boolean) {
  return ({ args, context }: Data): AsyncIterable<StreamEvent> => {
    context.require(action);
    const after = typeof args.after === "string" && args.after ? args.after : undefined;
    const source = context.services.pubsub.subscribe(stream, { after, filter: (e) => filter(e, args) });
    return tenantFiltered(source, context.scope, context.services.trendTenants);
  };
}

function throwIfGap(event: StreamEvent): asserts event is Extract<StreamEvent, { kind: "event" }> {
  if (event.kind === "gap") {
    throw new SubscriptionGapError(event.message, {
      reason: event.reason,
      cursor: event.cursor,
      missedFrom: event.missedFrom,
      missedTo: event.missedTo,
    });
  }
}

/**
 * Loaded escalations are shared by every subscriber that receives the same event, so a
 * fan-out to thousands of moderators costs one query per event, not one per subscriber. Keyed
 * by cursor and id (two streams can hand out the same entry id). A failed load is tried once
 * more and then dropped from the cache: one shared failure reaches every subscriber of the
 * event, and a cached rejection would keep failing whoever asks for that cursor again.
 */
const escalationByCursor = new LRUCache<string, Promise<EscalationRow | undefined>>({ max: 2000 });
function loadEscalation(ctx: GraphQLContext, cursor: string, id: string): Promise<EscalationRow | undefined> {
  const key = `${cursor}\u0000${id}`;
  let pending = escalationByCursor.get(key);
  if (!pending) {
    const load = () => escalationById(ctx.services.db, id);
    pending = load().catch(load);
    escalationByCursor.set(key, pending);
    pending.catch(() => {
      if (escalationByCursor.get(key) === pending) escalationByCursor.delete(key);
    });
  }
  return pending;
}

async function escalationFrom(event: StreamEvent, ctx: GraphQLContext): Promise<Escalation> {
  throwIfGap(event);
  const id = String(event.envelope.payload.escalationId ?? "");
  const row = await loadEscalation(ctx, event.cursor, id);
  if (!row) throw new Error(`escalation ${id} announced but not found`);
  return toEscalation(row, event.cursor);
}

const issueTypeMatches = (e: Envelope, args: Record<string, unknown>) => {
  const wanted = args.issueType as IssueType[] | undefined | null;
  return !wanted?.length || wanted.includes(e.payload.issueType as IssueType);
};

@Resolver()
export class SubscriptionResolver {
  @Subscription(() => Escalation, {
    description: "New escalations, live; pass `after` (a cursor) to first receive what you missed",
    subscribe: streamOf(STREAMS.escalations, "subscribe:escalations", (e, args) => e.type === "escalation.created" && issueTypeMatches(e, args)),
  })
  async escalationCreated(
    @Root() event: StreamEvent,
    @Ctx() ctx: GraphQLContext,
    @Arg("after", () => String, { nullable: true }) _after?: string | null,
    @Arg("issueType", () => [IssueType], { nullable: true }) _issueType?: IssueType[] | null,
  ): Promise<Escalation> {
    return escalationFrom(event, ctx);
  }

  @Subscription(() => Escalation, {
    description: "Claims, releases and reviews short of the outcome (IN_REVIEW) of escalations, live and resumable",
    subscribe: streamOf(
      STREAMS.escalations,
      "subscribe:escalations",
      (e) => e.type === "escalation.claimed" || e.type === "escalation.released" || e.type === "escalation.reviewed",
    ),
  })
  async escalationUpdated(
    @Root() event: StreamEvent,
    @Ctx() ctx: GraphQLContext,
    @Arg("after", () => String, { nullable: true }) _after?: string | null,
  ): Promise<Escalation> {
    return escalationFrom(event, ctx);
  }

  @Subscription(() => Escalation, {
    description: "Resolutions (hitl:resolution), live and resumable",
    subscribe: streamOf(STREAMS.resolutions, "subscribe:escalations", (e) => e.type === "escalation.resolved"),
  })
  async escalationResolved(
    @Root() event: StreamEvent,
    @Ctx() ctx: GraphQLContext,
    @Arg("after", () => String, { nullable: true }) _after?: string | null,
  ): Promise<Escalation> {
    return escalationFrom(event, ctx);
  }

  @Subscription(() => TrendUpdate, {
    description: "Every status change of one trend (id) or of all",
    subscribe: streamOf(STREAMS.trendUpdates, "subscribe:trends", (e, args) => !args.id || e.trendId === args.id),
  })
  trendUpdated(
    @Root() event: StreamEvent,
    @Arg("id", () => ID, { nullable: true }) _id?: string | null,
    @Arg("after", () => String, { nullable: true }) _after?: string | null,
  ): TrendUpdate {
    throwIfGap(event);
    const p = event.envelope.payload;
    return {
      trendId: String(p.trendId),
      from: (p.from as TrendStatus | null) ?? null,
      to: p.to as TrendStatus,
      embeddingStatus: (p.embeddingStatus as EmbeddingStatus | null) ?? null,
      reason: (p.reason as string | null) ?? null,
      actor: (p.actor as string | null) ?? null,
      failure: toFailure(p.failure),
      traceId: event.envelope.traceId,
      at: new Date(event.envelope.createdAt),
      cursor: event.cursor,
    };
  }

  @Subscription(() => OperatorAlert, {
    description: "Budget overruns, incidents, SLA breaches, lag and dead-letter alerts",
    subscribe: streamOf(STREAMS.operatorAlerts, "subscribe:alerts", () => true),
  })
  operatorAlerts(@Root() event: StreamEvent, @Arg("after", () => String, { nullable: true }) _after?: string | null): OperatorAlert {
    throwIfGap(event);
    const { kind, severity, message, ...data } = event.envelope.payload;
    return {
      kind: String(kind ?? event.envelope.type),
      severity: String(severity ?? "warning"),
      message: String(message ?? event.envelope.type),
      trendId: event.envelope.trendId ?? null,
      data,
      createdAt: new Date(event.envelope.createdAt),
      cursor: event.cursor,
    };
  }
}

/** The `failure` of a trend.updated payload (absent in events written before migration 0005). */
function toFailure(raw: unknown): TrendUpdate["failure"] {
  if (!raw || typeof raw !== "object") return null;
  const f = raw as Record<string, unknown>;
  return { stage: String(f.stage ?? ""), error: String(f.error ?? ""), at: new Date(String(f.at ?? 0)) };
}
