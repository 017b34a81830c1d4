import { Field, Float, ID, InputType, Int, ObjectType } from "type-graphql";

import { Decision, EscalationStatus, IssueType } from "./enums.js";
import { Reviewer } from "./review-types.js";
import { DateTimeScalar, JSONScalar } from "./scalars.js";
import { PageInfo, Trend } from "./trend-types.js";

@ObjectType()
export class Resolution {
  @Field(() => Decision) decision!: Decision;
  @Field(() => String, {
    nullable: true,
    description: "The reasonCodes code of the decision (always set for REJECT)",
  })
  reasonCode!: string | null;
  @Field(() => String, { nullable: true }) note!: string | null;
  @Field(() => String) resolvedBy!: string;
  @Field(() => Reviewer, {
    nullable: true,
    description: "Who settled it: the key's id, with its name (resolvedBy)",
  })
  resolvedByReviewer!: Reviewer | null;
  @Field(() => DateTimeScalar) resolvedAt!: Date;
}

@ObjectType({ description: "An item waiting for (or decided by) a human" })
export class Escalation {
  @Field(() => ID) id!: string;
  @Field(() => ID) trendId!: string;
  @Field(() => IssueType) issueType!: IssueType;
  @Field(() => String) reason!: string;
  @Field(() => String, { nullable: true, description: "The Judge rule that fired" }) rule!:
    string | null;
  @Field(() => JSONScalar) scores!: unknown;
  @Field(() => EscalationStatus) status!: EscalationStatus;
  @Field(() => String, { nullable: true }) claimedBy!: string | null;
  @Field(() => Reviewer, {
    nullable: true,
    description: "The claim's holder: the key's id, with its name (claimedBy)",
  })
  claimedByReviewer!: Reviewer | null;
  @Field(() => String, {
    description: "Fencing token of the current claim; pass it to resolveEscalation",
  })
  claimToken!: string;
  @Field(() => DateTimeScalar, { nullable: true }) claimExpiresAt!: Date | null;
  @Field(() => Resolution, { nullable: true }) resolution!: Resolution | null;
  @Field(() => String, {
    nullable: true,
    description: "Only reviewers with this skill may take it (set by a deadline's reassign rung)",
  })
  requiredSkill!: string | null;
  @Field(() => ID, {
    nullable: true,
    description: "For an APPEAL: the decided escalation it reopens",
  })
  appealOf!: string | null;
  @Field(() => String, { nullable: true, description: "For an APPEAL: the appellant's statement" })
  appealStatement!: string | null;
  @Field(() => DateTimeScalar) createdAt!: Date;
  @Field(() => String, {
    nullable: true,
    description:
      "Stream entry id of the event that delivered this escalation; pass as `after` to resume a subscription",
  })
  cursor!: string | null;
  /** Resolved by a field resolver (DataLoader). */
  trend?: Trend;
  /** After a disagreement: the skill whose holder decides (shown through reviewProgress). */
  deciderSkill!: string | null;
}

@InputType()
export class ResolveEscalationInput {
  @Field(() => Decision) decision!: Decision;
  @Field(() => String, {
    nullable: true,
    description: "A code of the reasonCodes taxonomy; required for REJECT",
  })
  reasonCode?: string | null;
  @Field(() => String, { nullable: true }) note?: string | null;
  @Field(() => String, {
    nullable: true,
    description: "The claim's fencing token; a stale one is refused",
  })
  claimToken?: string | null;
}

@ObjectType()
export class EscalationEdge {
  @Field(() => String) cursor!: string;
  @Field(() => Escalation) node!: Escalation;
}

@ObjectType()
export class EscalationConnection {
  @Field(() => [EscalationEdge]) edges!: EscalationEdge[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
  @Field(() => Int) totalCount!: number;
  @Field(() => String, {
    description:
      "The judge:escalations stream's position read just before this list: subscribe to escalationCreated/escalationUpdated with `after` set to it and nothing falls between the list and the live feed",
  })
  streamCursor!: string;
  @Field(() => String, { description: "Likewise for hitl:resolution (escalationResolved)" })
  resolutionCursor!: string;
}

@ObjectType({ description: "A policy violation: the item was rejected and publishing is blocked" })
export class Incident {
  @Field(() => ID) id!: string;
  @Field(() => ID) trendId!: string;
  @Field(() => String) rule!: string;
  @Field(() => String) reason!: string;
  @Field(() => String) severity!: string;
  @Field(() => JSONScalar, { description: "The provenance chain at the time of the incident" })
  provenance!: unknown;
  @Field(() => DateTimeScalar) createdAt!: Date;
}

@ObjectType()
export class IncidentEdge {
  @Field(() => String) cursor!: string;
  @Field(() => Incident) node!: Incident;
}

@ObjectType()
export class IncidentConnection {
  @Field(() => [IncidentEdge]) edges!: IncidentEdge[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
}

@ObjectType()
export class PublishOverride {
  @Field(() => ID) id!: string;
  @Field(() => ID) trendId!: string;
  @Field(() => String) operator!: string;
  @Field(() => String) justification!: string;
  @Field(() => ID, { nullable: true }) incidentId!: string | null;
  @Field(() => DateTimeScalar) createdAt!: Date;
}

@ObjectType({ description: "Something an operator should look at" })
export class OperatorAlert {
  @Field(() => String) kind!: string;
  @Field(() => String) severity!: string;
  @Field(() => String) message!: string;
  @Field(() => ID, { nullable: true }) trendId!: string | null;
  @Field(() => JSONScalar) data!: unknown;
  @Field(() => DateTimeScalar) createdAt!: Date;
  @Field(() => String) cursor!: string;
}

@ObjectType()
export class ProvenanceEntry {
  @Field(() => ID) id!: string;
  @Field(() => String) traceId!: string;
  @Field(() => ID, { nullable: true }) trendId!: string | null;
  @Field(() => String) step!: string;
  @Field(() => String) actor!: string;
  @Field(() => JSONScalar) input!: unknown;
  @Field(() => JSONScalar) output!: unknown;
  @Field(() => DateTimeScalar) createdAt!: Date;
}

@ObjectType()
export class ProvenanceEdge {
  @Field(() => ID) from!: string;
  @Field(() => ID) to!: string;
  @Field(() => String) kind!: string;
}

@ObjectType({ description: "The audit trail of an item as a graph" })
export class ProvenanceGraph {
  @Field(() => [ProvenanceEntry]) entries!: ProvenanceEntry[];
  @Field(() => [ProvenanceEdge]) edges!: ProvenanceEdge[];
}

@ObjectType()
export class ConsumerHealth {
  @Field(() => String) name!: string;
  @Field(() => Int) pending!: number;
  @Field(() => Float) idleMs!: number;
}

@ObjectType()
export class GroupHealth {
  @Field(() => String) name!: string;
  @Field(() => Int, { nullable: true, description: "Entries not yet delivered to the group" })
  lag!: number | null;
  @Field(() => Int) pending!: number;
  @Field(() => Float, { nullable: true }) oldestPendingAgeMs!: number | null;
  @Field(() => [ConsumerHealth]) consumers!: ConsumerHealth[];
}

@ObjectType({ description: "One stream stage of the pipeline, as the stage registry defines it" })
export class PipelineStage {
  @Field(() => String, { description: "Worker name (`trendgate worker <name>`)" }) name!: string;
  @Field(() => String, { description: "The pipeline step it runs (span and budget step)" })
  step!: string;
  @Field(() => String) stream!: string;
  @Field(() => String) group!: string;
  @Field(() => String) deadLetterStream!: string;
}

@ObjectType()
export class StreamHealth {
  @Field(() => String) stream!: string;
  @Field(() => Int) length!: number;
  @Field(() => String, { nullable: true }) lastEntryId!: string | null;
  @Field(() => [GroupHealth]) groups!: GroupHealth[];
}

@ObjectType()
export class PipelineHealth {
  @Field(() => [StreamHealth]) streams!: StreamHealth[];
  @Field(() => Int) outboxBacklog!: number;
  @Field(() => DateTimeScalar) at!: Date;
}

@ObjectType()
export class DeadLetter {
  @Field(() => ID, { description: "Entry id in the dead-letter stream" }) id!: string;
  @Field(() => String) stream!: string;
  @Field(() => String) sourceStream!: string;
  @Field(() => String, { nullable: true }) sourceId!: string | null;
  @Field(() => String, { nullable: true }) group!: string | null;
  @Field(() => ID, { nullable: true }) trendId!: string | null;
  @Field(() => String) error!: string;
  @Field(() => String, { nullable: true }) errorCode!: string | null;
  @Field(() => Int) attempts!: number;
  @Field(() => DateTimeScalar, { nullable: true }) firstFailedAt!: Date | null;
  @Field(() => DateTimeScalar, { nullable: true }) lastFailedAt!: Date | null;
  @Field(() => JSONScalar, { nullable: true }) envelope!: unknown;
}

@ObjectType()
export class DeadLetterConnection {
  @Field(() => [DeadLetter]) items!: DeadLetter[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
  @Field(() => Int) totalCount!: number;
}

@ObjectType({
  description:
    "What a replay would do to one dead letter, found by running the stage's current code without writing",
})
export class DryRunOutcome {
  @Field(() => ID) id!: string;
  @Field(() => ID, { nullable: true }) trendId!: string | null;
  @Field(() => String, { description: "would_succeed | would_fail | no_op" }) outcome!: string;
  @Field(() => String) message!: string;
  @Field(() => JSONScalar, { description: "[{ field, recorded, wouldBe }]" }) changes!: unknown;
}

@ObjectType()
export class ReplayResult {
  @Field(() => Boolean, { description: "True when nothing was written (dryRun)" }) dryRun!: boolean;
  @Field(() => [DryRunOutcome], { description: "Per entry, with dryRun" })
  outcomes!: DryRunOutcome[];
  @Field(() => Int) replayed!: number;
  @Field(() => [String], { description: "Dead-letter ids that were re-enqueued" }) ids!: string[];
  @Field(() => [String], { description: "Ids not found or not replayable" }) skipped!: string[];
}
