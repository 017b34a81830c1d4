import { fnv1a } from "../features.js";
import { normalizeText } from "../normalize.js";

/**
 * The three-way split every training script and the validation bench share, by a hash of the
 * normalised text, so it is the same on every run and machine:
 * - validation (fnv1a % 100 < 15): never trained or calibrated on; reported only. Same rule as
 *   the seed's held-out set, so figures stay comparable.
 * - calibration (15–29): fits Platt scaling and the confidence model, and picks free constants.
 * - train (30–99): fits the classifiers.
 */
export type Split = "validation" | "calibration" | "train";

export function splitOf(normalizedText: string): Split {
  const bucket = fnv1a(normalizedText) % 100;
  return bucket < 15 ? "validation" : bucket < 30 ? "calibration" : "train";
}

/** The normalisation the split and training use: the enricher's, without its length cap. */
export function trainingText(text: string): string {
  return normalizeText(text, 5000);
}
