import { PipelineHealthQuery } from "../../api/operations-documents.js";
import type { Session } from "../../state/session.js";
import { ErrorLine } from "../error-line.js";
import { ms, time } from "../format.js";
import { usePolled } from "../use-polled.js";
import { EmbeddingProgressLine } from "./embedding-progress-line.js";
import { REFRESH_MS } from "./refresh.js";

export function PipelineHealthView({ session }: { session: Session }) {
  const { value, error } = usePolled(() => session.client.request(PipelineHealthQuery), REFRESH_MS);
  const health = value?.pipelineHealth;
  const embeddings = value?.embeddingProgress;
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
          {embeddings && <EmbeddingProgressLine progress={embeddings} />}
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
