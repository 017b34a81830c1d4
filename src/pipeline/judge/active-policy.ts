import { createHash } from "node:crypto";

import type { Db } from "../../db/database.js";
import type { Logger } from "../../observability/logger.js";
import { type JudgePolicy, parsePolicy } from "./judge-policy.js";
import type { PolicyProvider } from "./policy-provider.js";
import { latestPolicyVersion, syncConfiguredPolicy } from "./policy-queries.js";

/** A policy with the stored version number the Judge names in every provenance entry. */
export interface VersionedPolicy {
  version: number;
  policy: JudgePolicy;
}

/** Where the Judge (and the API) get the policy in force. */
export interface PolicySource {
  current(): Promise<VersionedPolicy>;
}

/**
 * The active Judge policy: the latest version in judge_policies, cached and re-read at most once
 * per `refreshMs`, so a version applied by any process is in force everywhere within about a
 * second (one indexed single-row read a second; no listener connection to keep alive).
 *
 * The configured policy (POLICY_PATH, hot-reloaded by {@link PolicyProvider}, or the JUDGE_*
 * defaults) is the first version on an empty table, and a changed file becomes a new version.
 */
export class ActiveJudgePolicy implements PolicySource {
  private cached: VersionedPolicy | undefined;
  private checkedAt = Number.NEGATIVE_INFINITY;
  private inFlight: Promise<VersionedPolicy> | undefined;
  private syncedConfig: JudgePolicy | undefined;
  private readonly refreshMs: number;
  private readonly now: () => number;

  constructor(
    private readonly deps: {
      db: Db;
      configured: PolicyProvider;
      /** Says where the configured policy comes from, for the version's author and justification. */
      configSource: string;
      logger: Logger;
      refreshMs?: number;
      now?: () => number;
    },
  ) {
    this.refreshMs = deps.refreshMs ?? 1000;
    this.now = deps.now ?? Date.now;
  }

  current(): Promise<VersionedPolicy> {
    if (this.cached && this.now() - this.checkedAt < this.refreshMs)
      return Promise.resolve(this.cached);
    this.inFlight ??= this.refresh().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  /** The next `current()` reads the database (after this process applied a version). */
  invalidate(): void {
    this.checkedAt = Number.NEGATIVE_INFINITY;
  }

  private async refresh(): Promise<VersionedPolicy> {
    await this.syncConfigured();
    const row = await latestPolicyVersion(this.deps.db);
    if (!row) throw new Error("judge_policies is empty after storing the configured policy");
    if (row.version !== this.cached?.version) {
      try {
        this.cached = { version: row.version, policy: parsePolicy(row.policy) };
        this.deps.logger.info({ policyVersion: row.version }, "judge policy version in force");
      } catch (error) {
        // Stored versions were valid when applied; one this code cannot read keeps the last good.
        if (!this.cached) throw error;
        this.deps.logger.error(
          { err: error, policyVersion: row.version },
          "stored judge policy unreadable; keeping the last good one",
        );
      }
    }
    this.checkedAt = this.now();
    return this.cached;
  }

  private async syncConfigured(): Promise<void> {
    const configured = this.deps.configured.current();
    if (configured === this.syncedConfig) return;
    const first = this.syncedConfig === undefined;
    const stored = await syncConfiguredPolicy(this.deps.db, {
      policy: configured,
      configDigest: policyDigest(configured),
      source: this.deps.configSource,
      justification: first
        ? `configured policy (${this.deps.configSource})`
        : `policy file changed (${this.deps.configSource})`,
    });
    if (stored)
      this.deps.logger.info(
        { policyVersion: stored.version, source: this.deps.configSource },
        "configured judge policy stored as a new version",
      );
    this.syncedConfig = configured;
  }
}

/** Stable digest of a parsed policy (zod emits keys in schema order). */
export function policyDigest(policy: JudgePolicy): string {
  return createHash("sha256").update(JSON.stringify(policy)).digest("hex");
}
