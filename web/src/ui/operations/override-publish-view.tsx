import { useState } from "preact/hooks";

import { OverridePublishMutation } from "../../api/operations-documents.js";
import type { Session } from "../../state/session.js";

export function OverridePublishView({
  session,
  trendId: initialTrend,
  incidentId: initialIncident,
}: {
  session: Session;
  trendId?: string;
  incidentId?: string;
}) {
  const [trendId, setTrendId] = useState(initialTrend ?? "");
  const [incidentId, setIncidentId] = useState(initialIncident ?? "");
  const [justification, setJustification] = useState("");
  const [outcome, setOutcome] = useState<{ ok: boolean; text: string } | undefined>();
  const submit = async (event: Event) => {
    event.preventDefault();
    if (!justification.trim()) {
      setOutcome({ ok: false, text: "A justification is required; it is recorded in provenance." });
      return;
    }
    try {
      const { overridePublish: o } = await session.client.request(OverridePublishMutation, {
        trendId: trendId.trim(),
        justification: justification.trim(),
        incidentId: incidentId.trim() || null,
      });
      setOutcome({
        ok: true,
        text: `Override ${o.id} recorded by ${o.operator}; the publisher will publish ${o.trendId}.`,
      });
    } catch (e) {
      setOutcome({ ok: false, text: (e as Error).message });
    }
  };
  return (
    <section aria-labelledby="override-h">
      <h2 id="override-h">Override publish</h2>
      <p class="muted">
        Publishes despite the pipeline's decision. Who and why go to the item's provenance.
      </p>
      <form class="stack" onSubmit={submit}>
        <label for="ov-trend">Trend id</label>
        <input
          id="ov-trend"
          required
          value={trendId}
          onInput={(e) => setTrendId((e.target as HTMLInputElement).value)}
        />
        <label for="ov-incident">Incident id (required when the item has an incident)</label>
        <input
          id="ov-incident"
          value={incidentId}
          onInput={(e) => setIncidentId((e.target as HTMLInputElement).value)}
        />
        <label for="ov-why">Justification (required)</label>
        <textarea
          id="ov-why"
          required
          rows={3}
          value={justification}
          onInput={(e) => setJustification((e.target as HTMLTextAreaElement).value)}
        />
        <button type="submit">Override and publish</button>
      </form>
      {outcome && (
        <p
          role={outcome.ok ? "status" : "alert"}
          class={outcome.ok ? "notice" : "error"}
          data-testid="override-outcome"
        >
          {outcome.text}
        </p>
      )}
    </section>
  );
}
