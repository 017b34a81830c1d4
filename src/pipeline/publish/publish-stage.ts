import { changedFields, noOpPreview, type StageModule } from "../stage.js";
import { approvalFor, createPublisherHandler } from "./publisher-worker.js";

export const publishStage: StageModule = {
  async start(deps) {
    return { handler: createPublisherHandler({ db: deps.db, publisher: await deps.publisher(), logger: deps.logger }) };
  },

  async preview(deps, trend) {
    if (trend.status === "PUBLISHED") return noOpPreview(trend);
    // The publisher's own check (status, incidents, overrides), so the dry run cannot drift from it.
    const path = await approvalFor(deps.db, trend);
    if (!path) {
      return { outcome: "would_fail", message: `status ${trend.status} is not publishable (no override naming every incident)`, changes: [] };
    }
    return {
      outcome: "would_succeed",
      message: `would call the publish tool (approval path ${path.approvalPath})`,
      changes: changedFields([["status", trend.status, "PUBLISHED"]]),
    };
  },
};
