import { Field, ObjectType } from "type-graphql";

import { Decision } from "./enums.js";

@ObjectType("ReasonCode", {
  description:
    "A code of the reason-code taxonomy (REASON_CODES_PATH; default: the EU DSA statement-of-reasons categories)",
})
export class ReasonCodeEntry {
  @Field(() => String) code!: string;
  @Field(() => String) label!: string;
  @Field(() => String, { nullable: true }) description!: string | null;
  @Field(() => String, {
    nullable: true,
    description: "The DSA Transparency Database category it maps to",
  })
  dsaCategory!: string | null;
  @Field(() => [Decision], { description: "The decisions it may justify" }) decisions!: Decision[];
}
