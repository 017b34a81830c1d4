import type { SimulatePolicyQuery } from "../../api/judge-documents.js";
import type { ResultOf } from "../../graphql.js";
import { percent } from "./judge-series.js";

type Simulation = ResultOf<typeof SimulatePolicyQuery>["simulateJudgePolicy"];

const ROWS = [
  ["Published without a human", "published"],
  ["Rejected without a human", "rejected"],
  ["Escalated", "escalated"],
  ["Moderator-rejected items published (leaks)", "moderatorRejectedPublished"],
  ["Moderator-approved items rejected", "moderatorApprovedRejected"],
] as const;

/** A simulation's counts, the active policy beside the proposal, on the same judged items. */
export function SimulationTable({
  simulation: s,
  caption,
  testId,
}: {
  simulation: Simulation;
  caption: string;
  testId: string;
}) {
  return (
    <table data-testid={testId} data-items={s.items}>
      <caption>
        {caption}: {s.items} items since {new Date(s.since).toLocaleString()}, {s.labelled} with a
        moderator decision
      </caption>
      <thead>
        <tr>
          <th scope="col">Outcome</th>
          <th scope="col">Active v{s.activeVersion}</th>
          <th scope="col">Proposed</th>
        </tr>
      </thead>
      <tbody>
        {ROWS.map(([label, key]) => (
          <tr key={key}>
            <th scope="row">{label}</th>
            <td>{s.active[key]}</td>
            <td data-testid={`${testId}-${key}`}>{s.proposed[key]}</td>
          </tr>
        ))}
        <tr>
          <th scope="row">Escalation rate</th>
          <td>{percent(s.active.escalationRate)}</td>
          <td data-testid={`${testId}-escalationRate`}>{percent(s.proposed.escalationRate)}</td>
        </tr>
      </tbody>
      <tfoot>
        <tr>
          <td colSpan={3} class="muted">
            {s.escalationsRemoved} escalations would disappear, {s.escalationsAdded} would be added;{" "}
            {s.changed} outcomes change (computed in {Math.round(s.durationMs)} ms).
          </td>
        </tr>
      </tfoot>
    </table>
  );
}
