import { Ctx, Field, ObjectType, Query, Resolver } from "type-graphql";
import { DomainError } from "../domain/domain-error.js";
import { Role } from "../schema/enums.js";
import type { GraphQLContext } from "./context.js";

@ObjectType({ description: "Who the API key belongs to; clients show the views its role allows" })
export class Me {
  @Field(() => String) name!: string;
  @Field(() => Role) role!: Role;
}

@Resolver()
export class MeResolver {
  @Query(() => Me, { description: "The caller's key: name and role (UNAUTHENTICATED without a valid key)" })
  me(@Ctx() ctx: GraphQLContext): Me {
    if (!ctx.principal) throw new DomainError("UNAUTHENTICATED", "an API key is required (Authorization: Bearer <key>)");
    return { name: ctx.principal.name, role: ctx.principal.role as Role };
  }
}
