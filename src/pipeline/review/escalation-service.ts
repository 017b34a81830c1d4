import type { Db } from "../../db/database.js";
import type { EscalationRow } from "../../db/types.js";
import type { TenantScope } from "../../domain/tenant-scope.js";
import type { Logger } from "../../observability/logger.js";
import { parsePolicy, type ReviewPolicy } from "../judge/judge-policy.js";
import type { Actor } from "./actor.js";
import { claimEscalation, claimNextEscalation, releaseEscalation } from "./claims.js";
import {
  type EscalationListOptions,
  getEscalation,
  listEscalations,
} from "./escalation-queries.js";
import type { ReasonCodeTaxonomy } from "./reason-codes.js";
import type { ResolutionInput } from "./resolution-input.js";
import { resolveEscalation } from "./resolve-escalation.js";

export type { Actor, Decision } from "./actor.js";

const DEFAULT_REVIEW = parsePolicy({}).review;

/**
 * Moderation use cases, one entry point for the resolvers, REST routes and tests: the queue
 * (escalation-queries.ts), claims (a lease with a fencing token, claims.ts), and resolutions
 * (resolve-escalation.ts). Every change takes the escalation's row lock, so of two racing
 * moderators exactly one wins and the other gets CONFLICT.
 */
export class EscalationService {
  constructor(
    private readonly deps: {
      db: Db;
      logger: Logger;
      claimLeaseMs: number;
      /** Refuse a resolution by the key that ingested the item (SEPARATION_OF_DUTIES). */
      separationOfDuties?: boolean;
      /** The review block of the Judge policy in force (default: one review, no skills). */
      reviewPolicy?: () => Promise<ReviewPolicy>;
      /** REASON_CODES_PATH's taxonomy: a REJECT needs a known code (budget overruns excepted). */
      reasonCodes: ReasonCodeTaxonomy;
    },
  ) {}

  /** The policy's review rules in force now. */
  reviewPolicy(): Promise<ReviewPolicy> {
    return this.deps.reviewPolicy?.() ?? Promise.resolve(DEFAULT_REVIEW);
  }

  /** One escalation; NOT_FOUND when unknown or its trend is outside `scope`. */
  get(id: string, scope: TenantScope = null): Promise<EscalationRow> {
    return getEscalation(this.deps.db, id, scope);
  }

  list(
    options: EscalationListOptions,
  ): Promise<{ rows: EscalationRow[]; hasNextPage: boolean; totalCount: number }> {
    return listEscalations(this.deps.db, options);
  }

  /** See {@link claimEscalation}. */
  claim(id: string, actor: Actor): Promise<EscalationRow> {
    return claimEscalation(this.claimDeps(), id, actor);
  }

  /** See {@link claimNextEscalation}. */
  claimNext(actor: Actor): Promise<EscalationRow | null> {
    return claimNextEscalation(this.claimDeps(), actor);
  }

  /** See {@link releaseEscalation}. */
  release(id: string, actor: Actor): Promise<EscalationRow> {
    return releaseEscalation(this.claimDeps(), id, actor);
  }

  /** See {@link resolveEscalation}. */
  resolve(id: string, rawInput: ResolutionInput, actor: Actor): Promise<EscalationRow> {
    return resolveEscalation(
      { ...this.deps, reviewPolicy: () => this.reviewPolicy() },
      id,
      rawInput,
      actor,
    );
  }

  private claimDeps() {
    return { ...this.deps, reviewPolicy: () => this.reviewPolicy() };
  }
}
