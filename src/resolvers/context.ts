import DataLoader from "dataloader";

import {
  embeddingRecordsOfTrends,
  escalationsOfTrends,
  plansOfTrends,
  publicationsOfTrends,
} from "../db/trend-relation-queries.js";
import type {
  EmbeddingRecordRow,
  EscalationReviewRow,
  EscalationRow,
  PlannerIntentRow,
  ProvenanceRow,
  PublicationRow,
  TrendRow,
} from "../db/types.js";
import { DomainError } from "../domain/domain-error.js";
import { type Action, isAllowed } from "../domain/permissions.js";
import { DEFAULT_TENANT, type TenantScope } from "../domain/tenant-scope.js";
import type { IngestOrigin } from "../pipeline/ingest/ingest-service.js";
import { reviewsOf } from "../pipeline/review/review-queries.js";
import type { AppServices } from "../services/app-services.js";
import type { Principal } from "../services/auth-service.js";

export interface Loaders {
  trend: DataLoader<string, TrendRow | undefined>;
  provenance: DataLoader<string, ProvenanceRow[]>;
  escalations: DataLoader<string, EscalationRow[]>;
  /** Reviews of an escalation (by escalation id), oldest first. */
  reviews: DataLoader<string, EscalationReviewRow[]>;
  plan: DataLoader<string, PlannerIntentRow | undefined>;
  embedding: DataLoader<string, EmbeddingRecordRow | undefined>;
  publication: DataLoader<string, PublicationRow | undefined>;
}

export interface GraphQLContext {
  services: AppServices;
  principal: Principal | undefined;
  /** The tenants the caller may see (null = all); every query module takes it. */
  scope: TenantScope;
  loaders: Loaders;
  /** The principal if it may do `action`; otherwise UNAUTHENTICATED or FORBIDDEN. */
  require(action: Action): Principal;
}

function byKey<T>(ids: readonly string[], rows: T[], key: (row: T) => string): (T | undefined)[] {
  const map = new Map(rows.map((r) => [key(r), r]));
  return ids.map((id) => map.get(id));
}

function groupBy<T>(ids: readonly string[], rows: T[], key: (row: T) => string): T[][] {
  const map = new Map<string, T[]>();
  for (const row of rows) {
    const list = map.get(key(row)) ?? [];
    list.push(row);
    map.set(key(row), list);
  }
  return ids.map((id) => map.get(id) ?? []);
}

/** Per-request DataLoaders: one query per relation per request, however many trends are listed. */
export function createLoaders(services: AppServices): Loaders {
  const db = services.db;
  return {
    trend: new DataLoader(async (ids) =>
      byKey(ids, await services.trends.getMany(ids), (r) => r.id),
    ),
    provenance: new DataLoader(async (ids) => {
      const map = await services.provenance.forTrends(ids);
      return ids.map((id) => map.get(id) ?? []);
    }),
    escalations: new DataLoader(async (ids) =>
      groupBy(ids, await escalationsOfTrends(db, ids), (r) => r.trend_id),
    ),
    reviews: new DataLoader(async (ids) =>
      groupBy(ids, await reviewsOf(db, ids), (r) => r.escalation_id),
    ),
    plan: new DataLoader(async (ids) =>
      byKey(ids, await plansOfTrends(db, ids), (r) => r.trend_id),
    ),
    embedding: new DataLoader(async (ids) =>
      byKey(ids, await embeddingRecordsOfTrends(db, ids), (r) => r.trend_id),
    ),
    publication: new DataLoader(async (ids) =>
      byKey(ids, await publicationsOfTrends(db, ids), (r) => r.trend_id),
    ),
  };
}

export function createContext(
  services: AppServices,
  principal: Principal | undefined,
): GraphQLContext {
  let loaders: Loaders | undefined;
  return {
    services,
    principal,
    scope: principal?.tenants ?? null,
    // Made on first use: a subscriber's own context never loads anything (each shared event
    // execution gets a fresh context), and 10,000 idle DataLoader sets are memory for nothing.
    get loaders() {
      return (loaders ??= createLoaders(services));
    },
    require(action) {
      if (!principal) {
        throw new DomainError(
          "UNAUTHENTICATED",
          "an API key is required (Authorization: Bearer <key>)",
        );
      }
      if (!isAllowed(principal.role, action)) {
        throw new DomainError("FORBIDDEN", `role ${principal.role} may not ${action}`, {
          role: principal.role,
          action,
        });
      }
      return principal;
    },
  };
}

/** Where an ingest by this key goes: its tenant (an integrator has one; staff post to `default` or their first). */
export function ingestOrigin(principal: Principal): IngestOrigin {
  return { tenant: principal.tenants?.[0] ?? DEFAULT_TENANT, keyId: principal.keyId };
}

/** The bearer key from an Authorization header value. */
export function bearerKey(header: string | undefined | null): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}
