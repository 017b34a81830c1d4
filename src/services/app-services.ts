import type { Redis } from "ioredis";

import type { Config } from "../config.js";
import type { Db } from "../db/database.js";
import type { Logger } from "../observability/logger.js";
import type { ReembedProgress } from "../pipeline/embed/reembed-progress.js";
import type { SearchService } from "../pipeline/embed/search-service.js";
import type { IngestService } from "../pipeline/ingest/ingest-service.js";
import type { JudgePolicyService } from "../pipeline/judge/judge-policy-service.js";
import type { OverrideService } from "../pipeline/publish/override-service.js";
import type { AppealService } from "../pipeline/review/appeal-service.js";
import type { EscalationService } from "../pipeline/review/escalation-service.js";
import type { PrecedentService } from "../pipeline/review/precedents.js";
import type { ReasonCodeTaxonomy } from "../pipeline/review/reason-codes.js";
import type { StreamKeys } from "../streams/stream-names.js";
import type { StreamPubSub } from "../subscriptions/stream-pubsub.js";
import type { TrendTenants } from "../subscriptions/tenant-filtered.js";
import type { AuthService } from "./auth-service.js";
import type { DeadLetterService } from "./dead-letter-service.js";
import type { DryRunner } from "./dlq-dry-run.js";
import type { KeyRevocationBus } from "./key-revocation-bus.js";
import type { ProvenanceService } from "./provenance-service.js";
import type { RateLimits } from "./rate-limits.js";
import type { TrendQueryService } from "./trend-query-service.js";

/** Everything the API layer may call; built once by the composition root (main.ts). */
export interface AppServices {
  config: Config;
  db: Db;
  redis: Redis;
  keys: StreamKeys;
  logger: Logger;
  auth: AuthService;
  /** Announces revocations to every gateway process. */
  revocations: KeyRevocationBus;
  rateLimits: RateLimits;
  ingest: IngestService;
  trends: TrendQueryService;
  provenance: ProvenanceService;
  escalations: EscalationService;
  /** The reason-code taxonomy (REASON_CODES_PATH or the shipped DSA set). */
  reasonCodes: ReasonCodeTaxonomy;
  appeals: AppealService;
  overrides: OverrideService;
  deadLetters: DeadLetterService;
  search: SearchService;
  /** Re-embedding progress towards the model this process was configured with. */
  embeddingProgress: () => Promise<ReembedProgress>;
  /** Past human decisions on similar items (Escalation.precedents). */
  precedents: PrecedentService;
  judgePolicy: JudgePolicyService;
  pubsub: StreamPubSub;
  /** Tenant of a trend, cached: filters subscriptions of tenant-limited keys. */
  trendTenants: TrendTenants;
  /** Built on first use: it loads the models the stages run. */
  dryRunner: () => Promise<DryRunner>;
}
