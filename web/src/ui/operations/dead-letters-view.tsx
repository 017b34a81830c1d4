import { useState } from "preact/hooks";

import {
  DeadLettersQuery,
  PipelineStagesQuery,
  ReplayMutation,
} from "../../api/operations-documents.js";
import type { ResultOf } from "../../graphql.js";
import type { Session } from "../../state/session.js";
import { ErrorLine } from "../error-line.js";
import { timeAgo } from "../format.js";
import { usePolled } from "../use-polled.js";
import { REFRESH_MS } from "./refresh.js";

type Replay = ResultOf<typeof ReplayMutation>["replayDeadLetters"];

export function DeadLettersView({ session }: { session: Session }) {
  // The dead-letter streams come from the server's stage registry, not from a list kept here.
  const stages = usePolled(() => session.client.request(PipelineStagesQuery), null).value
    ?.pipelineStages;
  const [chosen, setStream] = useState<string | undefined>();
  // The embedding stage's dead letters first: its external adapter is what fails most often.
  const stream =
    chosen ??
    stages?.find((s) => s.name === "embedding")?.deadLetterStream ??
    stages?.[0]?.deadLetterStream ??
    "";
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [dryRun, setDryRun] = useState(false);
  const [outcome, setOutcome] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const { value, error, refresh } = usePolled(
    async () =>
      stream
        ? session.client.request(DeadLettersQuery, { stream, first: 100, after: null })
        : undefined,
    REFRESH_MS,
    [stream],
  );
  const letters = value?.deadLetters;

  const replay = async (ids: string[] | null) => {
    const count = ids ? ids.length : (letters?.totalCount ?? 0);
    if (!dryRun && !ids && !confirm(`Replay all ${count} dead letters of ${stream}?`)) return;
    setBusy(true);
    try {
      // A dry run runs each stage's current code on the server without writing anything.
      const { replayDeadLetters: r } = await session.client.request(ReplayMutation, {
        stream,
        ids,
        dryRun,
      });
      setOutcome(describe(r));
      setSelected(new Set());
      refresh();
    } catch (e) {
      setOutcome(`Replay failed: ${(e as Error).message}`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="dlq-h">
      <h2 id="dlq-h">Dead letters</h2>
      <div class="toolbar">
        <label>
          Stream{" "}
          <select
            value={stream}
            onChange={(e) => setStream((e.target as HTMLSelectElement).value)}
            data-testid="dlq-stream"
          >
            {(stages ?? []).map((s) => (
              <option key={s.deadLetterStream} value={s.deadLetterStream}>
                {s.deadLetterStream}
              </option>
            ))}
          </select>
        </label>
        <label>
          <input
            type="checkbox"
            checked={dryRun}
            onChange={(e) => setDryRun((e.target as HTMLInputElement).checked)}
            data-testid="dlq-dry-run"
          />{" "}
          Dry run
        </label>
        <button
          type="button"
          disabled={busy || selected.size === 0}
          onClick={() => void replay([...selected])}
          data-testid="replay-selected"
        >
          Replay selected ({selected.size})
        </button>
        <button
          type="button"
          disabled={busy || !letters?.totalCount}
          onClick={() => void replay(null)}
          data-testid="replay-all"
        >
          Replay all ({letters?.totalCount ?? 0})
        </button>
      </div>
      <ErrorLine error={error} />
      {outcome && (
        <p role="status" class="notice" data-testid="replay-outcome">
          {outcome}
        </p>
      )}
      {letters && letters.items.length === 0 && <p class="muted">No dead letters on {stream}.</p>}
      {letters && letters.items.length > 0 && (
        <table data-testid="dlq-table">
          <caption class="sr-only">Dead letters of {stream}</caption>
          <thead>
            <tr>
              <th scope="col">Select</th>
              <th scope="col">Entry</th>
              <th scope="col">Trend</th>
              <th scope="col">Attempts</th>
              <th scope="col">Error</th>
              <th scope="col">Last failed</th>
              <th scope="col">Replay</th>
            </tr>
          </thead>
          <tbody>
            {letters.items.map((d) => (
              <tr key={d.id} data-testid="dead-letter" data-id={d.id} data-trend={d.trendId ?? ""}>
                <td>
                  <input
                    type="checkbox"
                    aria-label={`Select ${d.id}`}
                    checked={selected.has(d.id)}
                    onChange={(e) => {
                      const next = new Set(selected);
                      if ((e.target as HTMLInputElement).checked) next.add(d.id);
                      else next.delete(d.id);
                      setSelected(next);
                    }}
                  />
                </td>
                <td>
                  <code>{d.id}</code>
                </td>
                <td>
                  {d.trendId ? (
                    <a href={`#/provenance/${d.trendId}`}>{d.trendId.slice(0, 8)}</a>
                  ) : (
                    "—"
                  )}
                </td>
                <td>{d.attempts}</td>
                <td>
                  {d.errorCode && <code>{d.errorCode}</code>} {d.error}
                </td>
                <td>{d.lastFailedAt ? timeAgo(d.lastFailedAt) : "—"}</td>
                <td>
                  <button
                    type="button"
                    disabled={busy}
                    onClick={() => void replay([d.id])}
                    data-testid="replay-one"
                    aria-label={`Replay ${d.id}`}
                  >
                    Replay
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function describe(r: Replay): string {
  if (r.dryRun) {
    const lines = r.outcomes.map((o) => {
      const changes = (
        (o.changes ?? []) as { field: string; recorded: unknown; wouldBe: unknown }[]
      )
        .map((c) => `${c.field}: ${JSON.stringify(c.recorded)} → ${JSON.stringify(c.wouldBe)}`)
        .join(", ");
      return `${o.id}: ${o.outcome.replace("_", " ")} — ${o.message}${changes ? ` (${changes})` : ""}`;
    });
    return `Dry run, nothing was changed. ${lines.join("; ") || "No matching entries."}`;
  }
  const skipped = r.skipped.length ? `; skipped ${r.skipped.length} (${r.skipped.join(", ")})` : "";
  return `Replayed ${r.replayed} entr${r.replayed === 1 ? "y" : "ies"}${skipped}.`;
}
