import { Field, Float, Int, ObjectType } from "type-graphql";

import { DateTimeScalar, JSONScalar } from "./scalars.js";

@ObjectType({
  description: "Who stored a policy version: an operator's key, or the configuration (keyId null)",
})
export class PolicyAuthor {
  @Field(() => String, { nullable: true }) keyId!: string | null;
  @Field(() => String) name!: string;
}

@ObjectType({ description: "What one policy does to the judged items of a simulation" })
export class PolicyOutcomeCounts {
  @Field(() => Int, { description: "READY: published without a human" }) published!: number;
  @Field(() => Int) rejected!: number;
  @Field(() => Int) escalated!: number;
  @Field(() => Float) escalationRate!: number;
  @Field(() => Int, {
    description:
      "Items a moderator REJECTED that this policy would publish (leaks against human ground truth)",
  })
  moderatorRejectedPublished!: number;
  @Field(() => Int, { description: "Items a moderator APPROVED that this policy would reject" })
  moderatorApprovedRejected!: number;
}

@ObjectType({
  description:
    "What the Judge recorded at the time (any policy version; audit samples count as escalated)",
})
export class RecordedOutcomeCounts {
  @Field(() => Int) published!: number;
  @Field(() => Int) rejected!: number;
  @Field(() => Int) escalated!: number;
}

@ObjectType({
  description:
    "A proposed policy replayed on judged items from their stored scores, beside the active policy. Nothing is written",
})
export class PolicySimulation {
  @Field(() => DateTimeScalar) since!: Date;
  @Field(() => Int) activeVersion!: number;
  @Field(() => Int, { description: "Judged items replayed" }) items!: number;
  @Field(() => Int, { description: "Items with a moderator decision" }) labelled!: number;
  @Field(() => RecordedOutcomeCounts) recorded!: RecordedOutcomeCounts;
  @Field(() => PolicyOutcomeCounts) active!: PolicyOutcomeCounts;
  @Field(() => PolicyOutcomeCounts) proposed!: PolicyOutcomeCounts;
  @Field(() => Int, {
    description: "Escalated by the active policy, decided automatically by the proposal",
  })
  escalationsRemoved!: number;
  @Field(() => Int, {
    description: "Decided automatically by the active policy, escalated by the proposal",
  })
  escalationsAdded!: number;
  @Field(() => Int, { description: "Items whose outcome differs" }) changed!: number;
  @Field(() => Float) durationMs!: number;
}

@ObjectType({ description: "A stored Judge policy version; the latest one is in force" })
export class JudgePolicyVersion {
  @Field(() => Int) version!: number;
  @Field(() => JSONScalar) policy!: unknown;
  @Field(() => String, {
    description: "operator (applyJudgePolicy) or config (POLICY_PATH or the JUDGE_* defaults)",
  })
  origin!: string;
  @Field(() => PolicyAuthor) createdBy!: PolicyAuthor;
  @Field(() => String) justification!: string;
  @Field(() => JSONScalar, {
    nullable: true,
    description: "The simulation figures when it was applied",
  })
  simulation!: unknown;
  @Field(() => DateTimeScalar) createdAt!: Date;
}

@ObjectType({ description: "A policy's rates on labelled examples" })
export class CalibrationFigures {
  @Field(() => Int) examples!: number;
  @Field(() => Float) escalatedRate!: number;
  @Field(() => Float, { description: "Share of the toxic examples published without a human" })
  toxicPublishedRate!: number;
  @Field(() => Float, { description: "Share of the clean examples rejected without a human" })
  cleanRejectedRate!: number;
}

@ObjectType({
  description:
    "Thresholds that meet a target leak with the least human workload, from labelled decisions",
})
export class CalibrationProposal {
  @Field(() => Float) targetLeak!: number;
  @Field(() => JSONScalar, {
    nullable: true,
    description: "The proposed policy; null when refused",
  })
  policy!: unknown;
  @Field(() => String, { nullable: true }) refusedReason!: string | null;
  @Field(() => Int, {
    description: "Labelled examples used (moderator decisions, audit samples, label rows)",
  })
  decisions!: number;
  @Field(() => Int) moderatorDecisions!: number;
  @Field(() => Int, { description: "Resolved audit samples: the unbiased part" })
  auditDecisions!: number;
  @Field(() => Int) activeVersion!: number;
  @Field(() => CalibrationFigures) active!: CalibrationFigures;
  @Field(() => CalibrationFigures, { nullable: true }) proposed!: CalibrationFigures | null;
  @Field(() => PolicySimulation, {
    nullable: true,
    description: "The proposal replayed on the Judge's history",
  })
  simulation!: PolicySimulation | null;
}

@ObjectType({ description: "The Judge's figures for one time bucket and policy version" })
export class JudgeStatsBucket {
  @Field(() => DateTimeScalar) start!: Date;
  @Field(() => Int, { nullable: true }) policyVersion!: number | null;
  @Field(() => Int) judged!: number;
  @Field(() => Float) escalationRate!: number;
  @Field(() => Float) autoPublishRate!: number;
  @Field(() => Float) autoRejectRate!: number;
  @Field(() => Int) auditSamples!: number;
  @Field(() => Int) auditResolved!: number;
  @Field(() => Float, {
    nullable: true,
    description: "Share of resolved audit samples a moderator REJECTED",
  })
  auditDisagreementRate!: number | null;
  @Field(() => Int, { description: "Escalations of this bucket a moderator resolved" })
  resolved!: number;
  @Field(() => Int, {
    description:
      "Resolved against the Judge's lean (toxicity >= 0.5 approved, or below it / an audit sample rejected)",
  })
  overturns!: number;
  @Field(() => Float, { nullable: true }) overturnRate!: number | null;
}
