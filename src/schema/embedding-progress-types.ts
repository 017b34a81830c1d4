import { Field, Float, Int, ObjectType } from "type-graphql";

import { DateTimeScalar } from "./scalars.js";

@ObjectType({ description: "Embedding records whose vector one model made" })
export class ModelRecords {
  @Field(() => String) model!: string;
  @Field(() => Int) records!: number;
}

@ObjectType({
  description:
    "How far re-embedding has come after the embedding model changed (EMBEDDER); the same figures as trendgate_embedding_records and trendgate_reembed_pending on /metrics",
})
export class EmbeddingProgress {
  @Field(() => String, { description: "The model this deployment embeds with" })
  model!: string;
  @Field(() => [ModelRecords], { description: "Records per model, by model name" })
  records!: ModelRecords[];
  @Field(() => Int) total!: number;
  @Field(() => Int, {
    description: "Records whose vector another model made, waiting to be re-embedded",
  })
  pending!: number;
  @Field(() => Float, {
    description: "Share of the records already made by `model`, 0 to 1 (1 when there is none)",
  })
  done!: number;
  @Field(() => DateTimeScalar) at!: Date;
}
