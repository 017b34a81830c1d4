import { readFileSync } from "node:fs";

import { sigmoid, type SparseVector } from "./features.js";
import { LinearModel, type LinearModelFile } from "./linear-model.js";

/** The shipped written-harm model (train/train-harm.ts); provenance names it `harm-lr-v2`. */
export const HARM_MODEL_FILE = "harm-v2.json";

export interface HarmModelFile extends LinearModelFile {
  /** The probability at or above which a text counts as written harm (1 % of clean texts). */
  readonly threshold: number;
}

/**
 * Harm written without a swear word or a slur, learned from posts written for the project
 * (train/train-harm.ts). It reads the toxicity model's hashed vector, so it costs one sparse dot
 * product. A hit is a floor, as a harm pattern's is (toxicity.ts): a human decides.
 */
export class HarmClassifier {
  readonly name: string;
  /** The logistic regression (read by ToxicityScorer to score it beside its own classifier). */
  readonly model: LinearModel;

  constructor(private readonly file: HarmModelFile) {
    this.model = new LinearModel(file);
    this.name = this.model.name;
  }

  static load(): HarmClassifier {
    const url = new URL(`./models/${HARM_MODEL_FILE}`, import.meta.url);
    return new HarmClassifier(JSON.parse(readFileSync(url, "utf8")) as HarmModelFile);
  }

  /** P(written harm) of a vector hashed with the toxicity model's features, and whether it hits. */
  score(vector: SparseVector): { probability: number; hit: boolean } {
    return this.scoreOfLogit(this.model.logits(vector)[0] ?? 0);
  }

  /** score() from the model's logit for the vector, when the caller computed it. */
  scoreOfLogit(logit: number): { probability: number; hit: boolean } {
    const probability = sigmoid(logit);
    return { probability, hit: probability >= this.file.threshold };
  }
}
