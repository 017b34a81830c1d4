import { useState } from "preact/hooks";

import { IncidentsQuery } from "../../api/operations-documents.js";
import type { Session } from "../../state/session.js";
import { ErrorLine } from "../error-line.js";
import { timeAgo } from "../format.js";
import { usePolled } from "../use-polled.js";
import { navigate } from "../use-store.js";
import { REFRESH_MS } from "./refresh.js";

export function IncidentsView({ session }: { session: Session }) {
  const [after, setAfter] = useState<string[]>([]);
  const { value, error } = usePolled(
    () => session.client.request(IncidentsQuery, { first: 50, after: after.at(-1) ?? null }),
    REFRESH_MS,
    [after.length],
  );
  const incidents = value?.incidents;
  return (
    <section aria-labelledby="incidents-h">
      <h2 id="incidents-h">Incidents</h2>
      <ErrorLine error={error} />
      {incidents && incidents.edges.length === 0 && <p class="muted">No incidents.</p>}
      {incidents && incidents.edges.length > 0 && (
        <table data-testid="incidents-table">
          <caption class="sr-only">Policy violations, newest first</caption>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Severity</th>
              <th scope="col">Rule</th>
              <th scope="col">Reason</th>
              <th scope="col">Trend</th>
              <th scope="col">Action</th>
            </tr>
          </thead>
          <tbody>
            {incidents.edges.map(({ node: i }) => (
              <tr key={i.id}>
                <td>{timeAgo(i.createdAt)}</td>
                <td>{i.severity}</td>
                <td>
                  <code>{i.rule}</code>
                </td>
                <td>{i.reason}</td>
                <td>
                  <a href={`#/provenance/${i.trendId}`}>{i.trendId.slice(0, 8)}</a>
                </td>
                <td>
                  <button
                    type="button"
                    onClick={() => navigate("ops", "override", i.trendId, i.id)}
                  >
                    Override publish…
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div class="toolbar">
        {after.length > 0 && (
          <button type="button" onClick={() => setAfter(after.slice(0, -1))}>
            Newer
          </button>
        )}
        {incidents?.pageInfo.hasNextPage && (
          <button type="button" onClick={() => setAfter([...after, incidents.pageInfo.endCursor!])}>
            Older
          </button>
        )}
      </div>
    </section>
  );
}
