import { Field, Float, ID, InputType, Int, ObjectType } from "type-graphql";

import { EmbeddingStatus, TrendStatus } from "./enums.js";
import { DateTimeScalar, JSONScalar } from "./scalars.js";

@ObjectType({ description: "Sentiment of the normalized text, score in -1..1" })
export class Sentiment {
  @Field(() => Float) score!: number;
  @Field(() => String) label!: string;
}

@ObjectType({ description: "Compute units the plan allows and what the steps have charged" })
export class Budget {
  @Field(() => Float) limit!: number;
  @Field(() => Float) spent!: number;
}

@ObjectType()
export class EmbeddingRecord {
  @Field(() => ID) id!: string;
  @Field(() => String) vectorId!: string;
  @Field(() => String) store!: string;
  @Field(() => String) model!: string;
  @Field(() => Int) dimension!: number;
  @Field(() => Int) attempts!: number;
  @Field(() => DateTimeScalar) createdAt!: Date;
}

@ObjectType({ description: "The Planner's intent, steps and budget for one item" })
export class PlannerIntent {
  @Field(() => String) intent!: string;
  @Field(() => JSONScalar) steps!: unknown;
  @Field(() => Float) budget!: number;
  @Field(() => String) planner!: string;
  @Field(() => DateTimeScalar) createdAt!: Date;
}

@ObjectType()
export class Publication {
  @Field(() => ID) id!: string;
  @Field(() => String) adapter!: string;
  @Field(() => String) tool!: string;
  @Field(() => String) externalRef!: string;
  @Field(() => String) approvalPath!: string;
  @Field(() => ID, { nullable: true }) overrideId!: string | null;
  @Field(() => DateTimeScalar) createdAt!: Date;
}

@ObjectType({
  description: "Why a FAILED item stopped: the stage whose job went to the dead letters",
})
export class TrendFailure {
  @Field(() => String, { description: "etl, embedding, judge or publisher" }) stage!: string;
  @Field(() => String, { description: "The error code and message of the last attempt" })
  error!: string;
  @Field(() => DateTimeScalar) at!: Date;
}

/** The GraphQL Trend; its relations (escalations, provenance, ...) are field resolvers. */
@ObjectType()
export class Trend {
  @Field(() => ID) id!: string;
  @Field(() => String) traceId!: string;
  @Field(() => String) source!: string;
  @Field(() => String, { nullable: true }) externalId!: string | null;
  @Field(() => String, { nullable: true }) title!: string | null;
  @Field(() => String) body!: string;
  @Field(() => String, { nullable: true }) url!: string | null;
  @Field(() => String, { nullable: true }) author!: string | null;
  @Field(() => DateTimeScalar, { nullable: true }) publishedAt!: Date | null;
  @Field(() => JSONScalar, { nullable: true }) metadata!: unknown;
  @Field(() => String, { nullable: true }) language!: string | null;
  @Field(() => TrendStatus) status!: TrendStatus;
  @Field(() => EmbeddingStatus) embeddingStatus!: EmbeddingStatus;
  @Field(() => Sentiment, { nullable: true }) sentiment!: Sentiment | null;
  @Field(() => [String]) topics!: string[];
  @Field(() => Float, { nullable: true }) toxicityScore!: number | null;
  @Field(() => Float, { nullable: true }) confidence!: number | null;
  @Field(() => String, { nullable: true }) summary!: string | null;
  @Field(() => JSONScalar, {
    nullable: true,
    description: "Keywords and the signals behind the scores",
  })
  enrichment!: unknown;
  @Field(() => Budget) budget!: Budget;
  @Field(() => String, { nullable: true, description: "The step a PAUSED item stopped before" })
  pausedStep!: string | null;
  @Field(() => TrendFailure, {
    nullable: true,
    description: "Set while FAILED; replaying the dead letter moves the item on",
  })
  failure!: TrendFailure | null;
  @Field(() => DateTimeScalar) createdAt!: Date;
  @Field(() => DateTimeScalar) updatedAt!: Date;
}

@InputType({ description: "Content posted by an integrator" })
export class TrendInput {
  @Field(() => String) source!: string;
  @Field(() => String, {
    nullable: true,
    description: "Idempotency: the same source + externalId is one trend",
  })
  externalId?: string | null;
  @Field(() => String, { nullable: true }) title?: string | null;
  @Field(() => String) body!: string;
  @Field(() => String, { nullable: true }) url?: string | null;
  @Field(() => String, { nullable: true }) author?: string | null;
  @Field(() => DateTimeScalar, { nullable: true }) publishedAt?: Date | null;
  @Field(() => JSONScalar, { nullable: true }) metadata?: unknown;
}

@InputType()
export class TrendFilter {
  @Field(() => [TrendStatus], { nullable: true }) status?: TrendStatus[] | null;
  @Field(() => String, { nullable: true }) source?: string | null;
  @Field(() => String, { nullable: true }) topic?: string | null;
  @Field(() => DateTimeScalar, { nullable: true }) createdAfter?: Date | null;
  @Field(() => DateTimeScalar, { nullable: true }) createdBefore?: Date | null;
}

@ObjectType()
export class IngestReceipt {
  @Field(() => ID) id!: string;
  @Field(() => String) traceId!: string;
  @Field(() => TrendStatus) status!: TrendStatus;
  @Field(() => Boolean, {
    description: "True when source + externalId was posted before; id is the earlier trend",
  })
  duplicate!: boolean;
}

@ObjectType()
export class PageInfo {
  @Field(() => Boolean) hasNextPage!: boolean;
  @Field(() => String, { nullable: true }) endCursor!: string | null;
}

@ObjectType()
export class TrendEdge {
  @Field(() => String) cursor!: string;
  @Field(() => Trend) node!: Trend;
}

@ObjectType()
export class TrendConnection {
  @Field(() => [TrendEdge]) edges!: TrendEdge[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
}

@ObjectType()
export class SimilarTrend {
  @Field(() => Trend) trend!: Trend;
  @Field(() => Float, { description: "Cosine similarity, higher is closer" }) score!: number;
}

@InputType()
export class SimilarTrendsFilter {
  @Field(() => String, { nullable: true }) source?: string | null;
  @Field(() => [TrendStatus], { nullable: true }) status?: TrendStatus[] | null;
  @Field(() => DateTimeScalar, { nullable: true }) createdAfter?: Date | null;
  @Field(() => DateTimeScalar, { nullable: true }) createdBefore?: Date | null;
}

@ObjectType({ description: "A change of one trend, as trendUpdated delivers it" })
export class TrendUpdate {
  @Field(() => ID) trendId!: string;
  @Field(() => TrendStatus, { nullable: true }) from!: TrendStatus | null;
  @Field(() => TrendStatus) to!: TrendStatus;
  @Field(() => EmbeddingStatus, { nullable: true }) embeddingStatus!: EmbeddingStatus | null;
  @Field(() => String, { nullable: true }) reason!: string | null;
  @Field(() => String, { nullable: true }) actor!: string | null;
  @Field(() => TrendFailure, { nullable: true, description: "Set when the item moved to FAILED" })
  failure!: TrendFailure | null;
  @Field(() => String) traceId!: string;
  @Field(() => DateTimeScalar) at!: Date;
  @Field(() => String, { description: "Stream entry id; pass as `after` to resume" })
  cursor!: string;
}
