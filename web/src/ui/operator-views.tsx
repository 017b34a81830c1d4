import { useEffect, useState } from "preact/hooks";

import {
  BudgetOverrunsQuery,
  DeadLettersQuery,
  IncidentsQuery,
  OperatorAlertsSubscription,
  OverridePublishMutation,
  PipelineHealthQuery,
  PipelineStagesQuery,
  ReplayMutation,
} from "../api/documents.js";
import type { ResultOf } from "../graphql.js";
import type { Session } from "../state/session.js";
import { ms, time, timeAgo } from "./format.js";
import { navigate } from "./use-store.js";

const REFRESH_MS = 5000;

/** Polls a query while the view is open. */
export function usePolled<T>(load: () => Promise<T>, everyMs: number | null, deps: unknown[] = []) {
  const [value, setValue] = useState<T | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    const run = () =>
      load()
        .then((v) => {
          if (!live) return;
          setValue(v);
          setError(undefined);
        })
        .catch((e: Error) => live && setError(e.message));
    void run();
    const timer = everyMs ? setInterval(run, everyMs) : undefined;
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [...deps, tick]);
  return { value, error, refresh: () => setTick((t) => t + 1) };
}

export function ErrorLine({ error }: { error: string | undefined }) {
  return error ? (
    <p role="alert" class="error">
      {error}
    </p>
  ) : null;
}

export function PipelineHealthView({ session }: { session: Session }) {
  const { value, error } = usePolled(() => session.client.request(PipelineHealthQuery), REFRESH_MS);
  const health = value?.pipelineHealth;
  return (
    <section aria-labelledby="health-h">
      <h2 id="health-h">Pipeline health</h2>
      <ErrorLine error={error} />
      {health && (
        <>
          <p class="muted">
            at {time(health.at)} · outbox backlog{" "}
            <strong data-testid="outbox-backlog">{health.outboxBacklog}</strong> · refreshes every{" "}
            {REFRESH_MS / 1000} s
          </p>
          <table data-testid="health-table">
            <caption class="sr-only">Streams and consumer groups</caption>
            <thead>
              <tr>
                <th scope="col">Stream</th>
                <th scope="col">Length</th>
                <th scope="col">Group</th>
                <th scope="col">Lag</th>
                <th scope="col">Pending</th>
                <th scope="col">Oldest pending</th>
                <th scope="col">Consumers (pending, idle)</th>
              </tr>
            </thead>
            <tbody>
              {health.streams.flatMap((s) =>
                (s.groups.length ? s.groups : [undefined]).map((g, i) => (
                  <tr key={`${s.stream}-${g?.name ?? "none"}`}>
                    <td>{i === 0 ? s.stream : ""}</td>
                    <td>{i === 0 ? s.length : ""}</td>
                    <td>{g?.name ?? <span class="muted">no group</span>}</td>
                    <td>{g?.lag ?? "—"}</td>
                    <td class={g && g.pending > 0 ? "warn" : undefined}>{g?.pending ?? "—"}</td>
                    <td>{ms(g?.oldestPendingAgeMs)}</td>
                    <td>
                      {g?.consumers
                        .map((c) => `${c.name} (${c.pending}, ${ms(c.idleMs)})`)
                        .join("; ") || "—"}
                    </td>
                  </tr>
                )),
              )}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}

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
