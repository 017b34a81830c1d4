import type { Db } from "../db/database.js";
import { stageOfStream } from "../pipeline/registry.js";
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
    if (!entry.trendId) return { ...base, outcome: "would_fail", message: "job names no trend", changes: [] };
    const stage = stageOfStream(entry.sourceStream);
    if (!stage) return { ...base, outcome: "would_fail", message: `no stage consumes ${entry.sourceStream}`, changes: [] };
    const trend = await this.deps.db.selectFrom("enriched_trends").selectAll().where("id", "=", entry.trendId).executeTakeFirst();
    if (!trend) return { ...base, outcome: "would_fail", message: `unknown trend id ${entry.trendId}`, changes: [] };
    try {
      return { ...base, ...(await (await stage.load()).preview(this.deps, trend)) };
    } catch (error) {
      return { ...base, outcome: "would_fail", message: `stage code fails now: ${(error as Error).message}`, changes: [] };
    }
  }
}
