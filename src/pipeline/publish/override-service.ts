import { randomUUID } from "node:crypto";

import type { Db } from "../../db/database.js";
import { enqueueOutbox } from "../../db/outbox.js";
import { appendProvenance } from "../../db/provenance.js";
import { tenantCondition } from "../../db/tenant-filter.js";
import { badInput, conflict, notFound } from "../../domain/domain-error.js";
import { assertUuid } from "../../domain/uuid.js";
import { makeEnvelope } from "../../streams/envelope.js";
import { STREAMS } from "../../streams/stream-names.js";
import type { Actor } from "../review/escalation-service.js";

/**
 * An operator's decision to publish what the pipeline would not: recorded with its
 * justification in provenance (the database's publish trigger checks that entry exists), then
 * handed to the publisher. An incident still blocks publishing unless the override names it.
 */
export class OverrideService {
  constructor(private readonly db: Db) {}

  async overridePublish(
    trendId: string,
    justification: string,
    actor: Actor,
    incidentId?: string | null,
  ): Promise<{
    id: string;
    trendId: string;
    operator: string;
    justification: string;
    incidentId: string | null;
    createdAt: Date;
  }> {
    assertUuid(trendId, "trendId");
    const text = justification?.trim() ?? "";
    if (!text) throw badInput("justification", "is required and must not be empty");
    if (text.length > 5000) throw badInput("justification", "must be at most 5000 characters");
    if (incidentId) assertUuid(incidentId, "incidentId");
    return this.db.transaction().execute(async (trx) => {
      const trend = await trx
        .selectFrom("enriched_trends")
        .selectAll()
        .where("id", "=", trendId)
        .where(tenantCondition(actor.tenants ?? null, "enriched_trends.tenant"))
        .forUpdate()
        .executeTakeFirst();
      if (!trend) throw notFound("trend", trendId);
      if (trend.status === "PUBLISHED") throw conflict(`trend ${trendId} is already published`);
      if (trend.status === "CANCELLED") throw conflict(`trend ${trendId} is cancelled`);
      if (incidentId) {
        const incident = await trx
          .selectFrom("incidents")
          .select("id")
          .where("id", "=", incidentId)
          .where("trend_id", "=", trendId)
          .executeTakeFirst();
        if (!incident)
          throw badInput("incidentId", `no incident ${incidentId} on trend ${trendId}`);
      }
      const row = {
        id: randomUUID(),
        trend_id: trendId,
        operator: actor.name,
        justification: text,
        incident_id: incidentId ?? null,
      };
      await trx.insertInto("publish_overrides").values(row).execute();
      await appendProvenance(trx, {
        traceId: trend.trace_id,
        trendId,
        step: "override",
        actor: `operator:${actor.name}`,
        input: {
          justification: text,
          incidentId: incidentId ?? null,
          statusAtOverride: trend.status,
        },
        output: { overrideId: row.id },
      });
      await enqueueOutbox(
        trx,
        STREAMS.publishJobs,
        makeEnvelope("trend.override", {
          traceId: trend.trace_id,
          trendId,
          payload: { trendId, overrideId: row.id },
        }),
      );
      return {
        id: row.id,
        trendId,
        operator: actor.name,
        justification: text,
        incidentId: incidentId ?? null,
        createdAt: new Date(),
      };
    });
  }
}
