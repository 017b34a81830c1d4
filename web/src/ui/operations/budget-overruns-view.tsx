import { useEffect, useState } from "preact/hooks";

import { BudgetOverrunsQuery, OperatorAlertsSubscription } from "../../api/operations-documents.js";
import type { ResultOf } from "../../graphql.js";
import type { Session } from "../../state/session.js";
import { ErrorLine } from "../error-line.js";
import { timeAgo } from "../format.js";
import { usePolled } from "../use-polled.js";
import { REFRESH_MS } from "./refresh.js";

type Alert = ResultOf<typeof OperatorAlertsSubscription>["operatorAlerts"];

export function BudgetOverrunsView({ session }: { session: Session }) {
  const { value, error } = usePolled(
    () =>
      session.client.request(BudgetOverrunsQuery, {
        status: ["OPEN", "CLAIMED"],
        first: 100,
        after: null,
      }),
    REFRESH_MS,
  );
  const [alerts, setAlerts] = useState<Alert[]>([]);
  useEffect(
    () =>
      session.client.subscribe({
        document: OperatorAlertsSubscription,
        cursor: `${Math.floor(session.client.serverNow() - 3_600_000)}-0`,
        variables: (cursor) => ({ after: cursor ?? null }),
        next: (data) => {
          setAlerts((list) =>
            [
              data.operatorAlerts,
              ...list.filter((a) => a.cursor !== data.operatorAlerts.cursor),
            ].slice(0, 50),
          );
          return data.operatorAlerts.cursor;
        },
      }),
    [session],
  );
  const overruns = value?.escalations;
  return (
    <section aria-labelledby="budget-h">
      <h2 id="budget-h">Budget overruns</h2>
      <ErrorLine error={error} />
      <p class="muted">
        Approving an overrun grants budget and resumes the item; rejecting cancels it (from the
        queue).
      </p>
      {overruns && overruns.edges.length === 0 && (
        <p class="muted">No item is paused over its budget.</p>
      )}
      {overruns && overruns.edges.length > 0 && (
        <table data-testid="budget-table">
          <caption class="sr-only">Items paused over budget</caption>
          <thead>
            <tr>
              <th scope="col">Item</th>
              <th scope="col">Spent / limit</th>
              <th scope="col">Paused before</th>
              <th scope="col">Status</th>
              <th scope="col">Since</th>
            </tr>
          </thead>
          <tbody>
            {overruns.edges.map(({ node: e }) => (
              <tr key={e.id}>
                <td>
                  <a href={`#/queue/${e.id}`}>{e.trend.title || e.trend.body.slice(0, 60)}</a>
                </td>
                <td>
                  {e.trend.budget.spent.toFixed(1)} / {e.trend.budget.limit.toFixed(1)}
                </td>
                <td>{e.trend.pausedStep ?? "—"}</td>
                <td>{e.status === "CLAIMED" ? `claimed by ${e.claimedBy}` : "open"}</td>
                <td>{timeAgo(e.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h3>Operator alerts (live)</h3>
      {alerts.length === 0 ? (
        <p class="muted">No alert in the last hour.</p>
      ) : (
        <ul class="alerts" data-testid="alerts">
          {alerts.map((a) => (
            <li key={a.cursor} class={`sev-${a.severity}`}>
              <strong>{a.kind}</strong> {a.message}{" "}
              <span class="muted">{timeAgo(a.createdAt)}</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
