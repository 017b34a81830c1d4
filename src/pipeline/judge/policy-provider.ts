import { readFileSync, statSync } from "node:fs";

import type { Logger } from "../../observability/logger.js";
import { defaultPolicy, type JudgePolicy, parsePolicy, PolicyError } from "./judge-policy.js";

/**
 * The Judge's policy from a JSON file, reloaded when the file changes (checked at most once a
 * second), so thresholds and rules change without a restart. A file that is invalid at start
 * stops the process with a {@link PolicyError}; one that turns invalid later is refused with an
 * error log and the last good policy stays in force.
 */
export class PolicyProvider {
  private policy: JudgePolicy;
  private mtimeMs = 0;
  private checkedAt = 0;

  constructor(
    private readonly path: string | undefined,
    fallback: { minConfidence: number; maxToxicity: number },
    private readonly logger: Logger,
  ) {
    this.policy = defaultPolicy(fallback);
    if (path) {
      this.policy = this.read(path);
      this.mtimeMs = statSync(path).mtimeMs;
    }
  }

  current(): JudgePolicy {
    if (!this.path) return this.policy;
    const now = Date.now();
    if (now - this.checkedAt < 1000) return this.policy;
    this.checkedAt = now;
    try {
      const mtime = statSync(this.path).mtimeMs;
      if (mtime !== this.mtimeMs) {
        this.policy = this.read(this.path);
        this.mtimeMs = mtime;
        this.logger.info(
          { path: this.path, version: this.policy.version },
          "judge policy reloaded",
        );
      }
    } catch (error) {
      this.logger.error(
        { err: error, path: this.path },
        "judge policy not reloaded; keeping the last good one",
      );
    }
    return this.policy;
  }

  private read(path: string): JudgePolicy {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(path, "utf8"));
    } catch (error) {
      throw new PolicyError(`cannot read judge policy ${path}: ${(error as Error).message}`);
    }
    return parsePolicy(json);
  }
}
