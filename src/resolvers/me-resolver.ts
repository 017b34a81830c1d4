import { Ctx, Field, ID, Int, ObjectType, Query, Resolver } from "type-graphql";

import { DomainError } from "../domain/domain-error.js";
import { Role } from "../schema/enums.js";
import type { GraphQLContext } from "./context.js";

@ObjectType({ description: "Who the API key belongs to; clients show the views its role allows" })
export class Me {
  @Field(() => ID, {
    description: "The key's id: the reviewer's identity in claims, reviews and audit",
  })
  id!: string;
  @Field(() => String) name!: string;
  @Field(() => Role) role!: Role;
  @Field(() => [String], {
    description: "ISO 639-1 codes this reviewer reviews; empty = any language",
  })
  languages!: string[];
  @Field(() => [String], {
    description: "Skills the Judge policy's review.requiredSkill may ask for",
  })
  skills!: string[];
  @Field(() => Int, { description: "Escalations this reviewer may hold claimed at once" })
  capacity!: number;
}

@Resolver()
export class MeResolver {
  @Query(() => Me, {
    description:
      "The caller's key: name, role and reviewer profile (UNAUTHENTICATED without a valid key)",
  })
  me(@Ctx() ctx: GraphQLContext): Me {
    if (!ctx.principal)
      throw new DomainError(
        "UNAUTHENTICATED",
        "an API key is required (Authorization: Bearer <key>)",
      );
    const { keyId, name, role, profile } = ctx.principal;
    return {
      id: keyId,
      name,
      role: role as Role,
      languages: [...profile.languages],
      skills: [...profile.skills],
      capacity: profile.capacity,
    };
  }
}
