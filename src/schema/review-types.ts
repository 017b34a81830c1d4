import { Field, ID, Int, ObjectType } from "type-graphql";

import { Decision } from "./enums.js";
import { DateTimeScalar } from "./scalars.js";

@ObjectType({
  description:
    "A reviewer: an API key (its id), shown with its name; two keys of one name are two reviewers",
})
export class Reviewer {
  @Field(() => ID, { description: "The key's id" }) id!: string;
  @Field(() => String) name!: string;
}

@ObjectType({
  description:
    "One reviewer's decision on an escalation. Before the outcome only operators (and the reviewer, for their own) see decision, reasonCode and note",
})
export class EscalationReview {
  @Field(() => String, {
    description: "The reviewer as shown: their key's name (the identity is reviewedBy.id)",
  })
  reviewer!: string;
  @Field(() => Reviewer, { description: "The reviewer: the key's id and name" })
  reviewedBy!: Reviewer;
  @Field(() => Decision, { nullable: true }) decision!: Decision | null;
  @Field(() => String, { nullable: true }) reasonCode!: string | null;
  @Field(() => String, { nullable: true }) note!: string | null;
  @Field(() => DateTimeScalar) at!: Date;
  @Field(() => Boolean, {
    description:
      "False when the reviewer's key was revoked before the outcome: the review does not count",
  })
  counted!: boolean;
}

@ObjectType({
  description:
    "Where an escalation stands on the way to consensus (k-of-n), without anyone's decision",
})
export class ReviewProgress {
  @Field(() => Int, {
    description: "Agreeing reviews the outcome needs (policy review.requiredReviews)",
  })
  required!: number;
  @Field(() => Int, { description: "Reviews recorded that count" }) received!: number;
  @Field(() => String, {
    nullable: true,
    description: "Set after a disagreement: only a reviewer with this skill decides, finally",
  })
  deciderSkill!: string | null;
}
