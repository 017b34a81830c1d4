import { randomUUID } from "node:crypto";

import type { Db } from "../../db/database.js";
import { enqueueOutbox } from "../../db/outbox.js";
import { appendProvenance } from "../../db/provenance.js";
import type { TrendRow } from "../../db/types.js";
import { estimateStepCost } from "../../domain/budget.js";
import { toValidJson } from "../../domain/valid-text.js";
import type { Logger } from "../../observability/logger.js";
import { makeEnvelope } from "../../streams/envelope.js";
import { STREAMS } from "../../streams/stream-names.js";
import type { JobHandler } from "../../workers/runtime/stream-consumer.js";
import { jobLogger, loadJobTrend } from "../../workers/stage-support.js";
import { chargeOrPause } from "../budget-service.js";
import { openEscalation } from "../review/open-escalation.js";
import { transitionTrend } from "../trend-lifecycle.js";
import type { PolicySource } from "./active-policy.js";
import { applyAuditSample } from "./audit-sample.js";
import { judge } from "./judge-policy.js";

/**
 * The Judge stage (`trend:judge:jobs`, group judge). The decision, its provenance entry (with
 * the rule that fired) and what follows from it — an incident, an escalation event, or a
 * publish job — commit in one transaction; the status guard makes redelivery a no-op. The
 * provenance entry names the policy version that decided; a READY item may be held back as an
 * audit sample (`auditSampleRate`, default none).
 */
/** What the Judge reads of a trend (the worker and its dry run alike). */
export function judgeInputOf(trend: TrendRow) {
  return {
    source: trend.source,
    title: trend.title,
    body: trend.normalized_body ?? trend.body,
    toxicityScore: trend.toxicity_score ?? 0,
    confidence: trend.confidence ?? 0,
  };
}

export function createJudgeHandler(deps: {
  db: Db;
  policy: PolicySource;
  logger: Logger;
  auditSampleRate?: number;
}): JobHandler {
  return async (job) => {
    const trend = await loadJobTrend(deps.db, job);
    if (trend.status !== "EMBEDDED") return;
    const log = await jobLogger(deps.db, deps.logger, trend);
    const { version: policyVersion, policy } = await deps.policy.current();
    const judged = judge(judgeInputOf(trend), policy);
    const { decision, auditSampled } = applyAuditSample(
      judged,
      trend.id,
      deps.auditSampleRate ?? 0,
    );
    const scores = {
      toxicityScore: trend.toxicity_score,
      confidence: trend.confidence,
      sentiment: trend.sentiment_score,
    };
    await deps.db.transaction().execute(async (trx) => {
      if (
        (await chargeOrPause(trx, trend, "judge", estimateStepCost("judge", ""), log)) === "paused"
      )
        return;
      const moved = await transitionTrend(
        trx,
        trend.id,
        ["EMBEDDED"],
        decision.outcome,
        {},
        {
          actor: "judge",
          reason: decision.reason,
        },
      );
      if (!moved) return;
      const entry = await appendProvenance(trx, {
        traceId: trend.trace_id,
        trendId: trend.id,
        step: "judge",
        actor: `judge:policy-v${policyVersion}`,
        input: { ...scores, thresholds: policy.thresholds },
        output: {
          outcome: decision.outcome,
          rule: decision.rule,
          reason: decision.reason,
          policyVersion,
          ...(auditSampled
            ? { auditSample: true, judgeOutcome: judged.outcome, judgeRule: judged.rule }
            : {}),
        },
      });
      const envelope = (type: string, payload: Record<string, unknown>) =>
        makeEnvelope(type, {
          traceId: trend.trace_id,
          trendId: trend.id,
          payload: { trendId: trend.id, ...payload },
        });

      if (decision.outcome === "REJECTED") {
        const chain = await trx
          .selectFrom("provenance_log")
          .select(["id", "step", "actor", "created_at"])
          .where("trend_id", "=", trend.id)
          .orderBy("id")
          .execute();
        const incidentId = randomUUID();
        await trx
          .insertInto("incidents")
          .values({
            id: incidentId,
            trend_id: trend.id,
            rule: decision.rule,
            reason: decision.reason,
            provenance: toValidJson(
              chain.map((c) => ({ ...c, created_at: new Date(c.created_at).toISOString() })),
            ),
          })
          .onConflict((oc) => oc.columns(["trend_id", "rule"]).doNothing())
          .execute();
        await enqueueOutbox(
          trx,
          STREAMS.operatorAlerts,
          envelope("alert.incident", {
            kind: "INCIDENT",
            severity: "critical",
            message: `trend ${trend.id} rejected by policy: ${decision.reason}`,
            incidentId,
            rule: decision.rule,
          }),
        );
      } else if (decision.outcome === "ESCALATED") {
        await openEscalation(trx, trend, {
          issueType: decision.issueType,
          reason: decision.reason,
          rule: decision.rule,
          scores,
          event: { provenanceId: entry.id, policyVersion },
        });
        // An operator overrode before the Judge ran; the publisher skipped it then (an unjudged
        // item cannot move to PUBLISHED) and nothing else would send it there again.
        const override = await trx
          .selectFrom("publish_overrides")
          .select("id")
          .where("trend_id", "=", trend.id)
          .limit(1)
          .executeTakeFirst();
        if (override)
          await enqueueOutbox(
            trx,
            STREAMS.publishJobs,
            envelope("trend.override", { overrideId: override.id }),
          );
      } else {
        await enqueueOutbox(
          trx,
          STREAMS.publishJobs,
          envelope("trend.ready", { approvalPath: "judge" }),
        );
      }
    });
    log.info(
      { outcome: decision.outcome, rule: decision.rule, reason: decision.reason, policyVersion },
      "item judged",
    );
  };
}
