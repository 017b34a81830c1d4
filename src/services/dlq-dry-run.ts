import type { Db } from "../db/database.js";
import { serviceConsumerOf, stageOfStream } from "../pipeline/registry.js";
import type { DryRunChange, StageDeps, StagePreview } from "../pipeline/stage.js";
import type { DeadLetterEntry } from "./dead-letter-service.js";

export type { DryRunChange };

export interface DryRunResult extends StagePreview {
  id: string;
  trendId: string | null;
}

/**
 * Runs a dead letter's stage code as deployed now, without writing anything, and reports what
 * a replay would change against what the database recorded. The stage comes from the registry
 * and previews with its own compute and checks, so the dry run cannot drift from the worker.
 */
export class DryRunner {
  constructor(private readonly deps: StageDeps & { db: Db }) {}

  async run(entry: DeadLetterEntry): Promise<DryRunResult> {
    const base = { id: entry.id, trendId: entry.trendId };
    if (!entry.envelope) return { ...base, outcome: "would_fail", message: "envelope does not parse; replay would fail again", changes: [] };
    if (serviceConsumerOf(entry.sourceStream)) {
      // Not a pipeline step: nothing of the item changes; the receivers that have not confirmed the event get it again.
      return { ...base, outcome: "would_succeed", message: `replay re-sends ${entry.envelope.type} to the receivers that have not confirmed it`, changes: [] };
    }
    if (!entry.trendId) return { ...base, outcome: "would_fail", message: "job names no trend", changes: [] };
    const stage = stageOfStream(entry.sourceStream);
    if (!stage) return { ...base, outcome: "would_fail", message: `no stage consumes ${entry.sourceStream}`, changes: [] };
    const row = await this.deps.db.selectFrom("enriched_trends").selectAll().where("id", "=", entry.trendId).executeTakeFirst();
    if (!row) return { ...base, outcome: "would_fail", message: `unknown trend id ${entry.trendId}`, changes: [] };
    // Replay first returns a FAILED item to the status it failed in; the stage runs from there.
    const trend = row.status === "FAILED" && row.failed_from ? { ...row, status: row.failed_from } : row;
    try {
      const preview = await (await stage.load()).preview(this.deps, trend);
      const changes = row.status === "FAILED" ? preview.changes.map((c) => (c.field === "status" ? { ...c, recorded: "FAILED" } : c)) : preview.changes;
      return { ...base, ...preview, changes };
    } catch (error) {
      return { ...base, outcome: "would_fail", message: `stage code fails now: ${(error as Error).message}`, changes: [] };
    }
  }
}
