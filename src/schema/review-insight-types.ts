import { Field, Float, ID, Int, ObjectType } from "type-graphql";
import { Decision, IssueType } from "./enums.js";
import { Reviewer } from "./review-types.js";
import { DateTimeScalar } from "./scalars.js";
import { Trend } from "./trend-types.js";

@ObjectType({ description: "A past item like this one that a human decided (issue 14, item 9)" })
export class Precedent {
  @Field(() => Trend) trend!: Trend;
  @Field(() => Float, { description: "Cosine similarity of the two items (1 = same direction)" })
  score!: number;
  @Field(() => ID, {
    description: "The escalation whose human decision this is (the latest, e.g. an appeal's)",
  })
  escalationId!: string;
  @Field(() => IssueType) issueType!: IssueType;
  @Field(() => Decision) decision!: Decision;
  @Field(() => String, {
    nullable: true,
    description: "The reason code of the decision (REJECT carries one)",
  })
  reasonCode!: string | null;
  @Field(() => DateTimeScalar) decidedAt!: Date;
}

@ObjectType({
  description:
    "One reviewer's work over a period (issue 14, item 7); also exported as Prometheus gauges",
})
export class ReviewerStats {
  @Field(() => Reviewer, {
    description:
      "The reviewer's key (its id; two keys of one name are two reviewers), with the name of its latest review",
  })
  reviewer!: Reviewer;
  @Field(() => Int, { description: "Reviews recorded, counted towards an outcome or not" })
  reviews!: number;
  @Field(() => Float, {
    nullable: true,
    description:
      "Median seconds from the reviewer's claim to their review; null when no review followed a claim",
  })
  medianHandlingSeconds!: number | null;
  @Field(() => Int, { description: "Reviews of escalations that reached their outcome" })
  decided!: number;
  @Field(() => Float, {
    nullable: true,
    description: "Share of decided reviews agreeing with the escalation's final decision",
  })
  agreementRate!: number | null;
  @Field(() => Int, { description: "Decisions an appeal reversed" }) overturnedOnAppeal!: number;
  @Field(() => Int, {
    description: "Decided reviews of audit samples (items the Judge would have published)",
  })
  auditSamples!: number;
  @Field(() => Float, {
    nullable: true,
    description: "Share of audit-sample reviews agreeing with the final decision; null without any",
  })
  auditAgreementRate!: number | null;
}
