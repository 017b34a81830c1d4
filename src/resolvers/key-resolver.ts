import { Arg, Ctx, ID, Mutation, Resolver } from "type-graphql";

import type { GraphQLContext } from "./context.js";

@Resolver()
export class KeyResolver {
  @Mutation(() => Boolean, {
    description:
      "Revoke a stored API key: it stops working at once and its open sockets close with 4403 on every gateway. NOT_FOUND for an unknown or already revoked id (configured keys are removed from TRENDGATE_API_KEYS_FILE and reloaded with SIGHUP)",
  })
  async revokeApiKey(
    @Arg("id", () => ID) id: string,
    @Ctx() ctx: GraphQLContext,
  ): Promise<boolean> {
    ctx.require("operate");
    await ctx.services.auth.revokeKeyOrThrow(id);
    return true;
  }
}
