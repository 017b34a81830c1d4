import type { Config } from "../../config.js";
import type { Logger } from "../../observability/logger.js";
import { PolicyProvider } from "./policy-provider.js";

/**
 * The configured Judge policy (POLICY_PATH, hot-reloaded, or the JUDGE_* thresholds): the first
 * stored version on an empty table, and a new version whenever the file changes. A bad file
 * throws here (a PolicyError).
 */
export function readConfiguredPolicy(
  config: Config,
  logger: Logger,
): { configured: PolicyProvider; configSource: string } {
  const fallback = {
    minConfidence: config.JUDGE_MIN_CONFIDENCE,
    maxToxicity: config.JUDGE_MAX_TOXICITY,
  };
  return {
    configured: new PolicyProvider(config.POLICY_PATH, fallback, logger),
    configSource: config.POLICY_PATH
      ? `POLICY_PATH=${config.POLICY_PATH}`
      : `JUDGE_MIN_CONFIDENCE=${fallback.minConfidence}, JUDGE_MAX_TOXICITY=${fallback.maxToxicity}`,
  };
}
