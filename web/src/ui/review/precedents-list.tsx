import { useEffect, useState } from "preact/hooks";

import { PrecedentsQuery } from "../../api/review-documents.js";
import type { ResultOf } from "../../graphql.js";
import type { Session } from "../../state/session.js";

type Precedents = ResultOf<typeof PrecedentsQuery>["escalation"]["precedents"];

/**
 * Past items like this one that a human decided, with the decision and its reason code, so a
 * reviewer decides alike cases alike (issue 14, item 9). Only the outcome is shown, never who
 * decided: the reviewer weighs the case, not the colleague.
 */
export function PrecedentsList({
  session,
  escalationId,
}: {
  session: Session;
  escalationId: string;
}) {
  const [precedents, setPrecedents] = useState<Precedents | undefined>();
  const [error, setError] = useState<string | undefined>();

  useEffect(() => {
    let live = true;
    session.client
      .request(PrecedentsQuery, { id: escalationId, first: 5 })
      .then((data) => live && setPrecedents(data.escalation.precedents))
      .catch((e: Error) => live && setError(e.message));
    return () => {
      live = false;
    };
  }, [escalationId]);

  return (
    <section aria-labelledby="precedents-h">
      <h3 id="precedents-h">Precedents</h3>
      {error ? (
        <p class="muted">Precedents could not be loaded: {error}</p>
      ) : !precedents ? (
        <p class="muted">Looking…</p>
      ) : precedents.length === 0 ? (
        <p class="muted" data-testid="precedents-none">
          No similar item has been decided by a reviewer yet.
        </p>
      ) : (
        <ul class="similar precedents" data-testid="precedents">
          {precedents.map((p) => (
            <li
              key={p.escalationId}
              data-testid="precedent"
              data-decision={p.decision}
              data-trend={p.trend.id}
            >
              <span class="score" title="similarity">
                {p.score.toFixed(2)}
              </span>{" "}
              <span class={`badge badge-${p.decision.toLowerCase()}`}>
                {p.decision === "APPROVE" ? "approved" : "rejected"}
              </span>
              {p.reasonCode && (
                <>
                  {" "}
                  <code data-testid="precedent-reason">{p.reasonCode}</code>
                </>
              )}{" "}
              {p.trend.title || p.trend.body.slice(0, 70)}{" "}
              <span class="muted">
                ({p.trend.source}, {new Date(p.decidedAt).toLocaleDateString()})
              </span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
