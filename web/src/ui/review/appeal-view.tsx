import { useState } from "preact/hooks";

import { GqlError } from "../../api/gql-client.js";
import { AppealMutation, AppealsQuery, RejectedTrendsQuery } from "../../api/review-documents.js";
import type { ResultOf } from "../../graphql.js";
import type { Session } from "../../state/session.js";
import { ErrorLine } from "../error-line.js";
import { usePolled } from "../use-polled.js";

type Rejected = ResultOf<typeof RejectedTrendsQuery>["trends"]["edges"][number]["node"];

const REFRESH_MS = 30_000;

/**
 * Appeals (issue 14, item 6): the rejected items an integrator posted (an operator sees every
 * tenant's), each with the decision's reason code and a statement to appeal it, and the appeals
 * made so far with where each stands. An appeal goes to a reviewer other than those who decided;
 * one appeal per decision, which the server enforces (a second is a CONFLICT, said plainly).
 */
export function AppealView({ session }: { session: Session }) {
  const rejected = usePolled(
    () => session.client.request(RejectedTrendsQuery, { first: 50 }),
    REFRESH_MS,
  );
  const appeals = usePolled(() => session.client.request(AppealsQuery, { first: 50 }), REFRESH_MS);
  const [notice, setNotice] = useState<string | undefined>();
  const items = rejected.value?.trends.edges.map((e) => e.node) ?? [];
  const made = appeals.value?.escalations.edges.map((e) => e.node) ?? [];
  const onAppealed = (title: string) => {
    setNotice(
      `Appeal opened for “${title}”: a reviewer who did not decide it will review it, and that decision is final.`,
    );
    rejected.refresh();
    appeals.refresh();
  };
  return (
    <section aria-labelledby="appeals-h" class="appeals">
      <h2 id="appeals-h">Appeals</h2>
      <p class="muted">
        Rejected items {session.me.role === "OPERATOR" ? "of every tenant" : "you posted"}, with the
        reason given. An appeal is decided by a reviewer who did not decide the item.
      </p>
      {notice && (
        <p role="status" class="notice" data-testid="appeal-outcome">
          {notice}
        </p>
      )}
      <ErrorLine error={rejected.error ?? appeals.error} />
      <h3>Rejected</h3>
      {rejected.value && items.length === 0 && (
        <p class="muted" data-testid="appeals-none">
          No rejected items.
        </p>
      )}
      <ul class="appeal-list">
        {items.map((item) => (
          <AppealItem key={item.id} session={session} item={item} onAppealed={onAppealed} />
        ))}
      </ul>
      <h3>Appealed</h3>
      {appeals.value && made.length === 0 && <p class="muted">No appeals yet.</p>}
      <ul class="appeal-list">
        {made.map((a) => (
          <li key={a.id} data-testid="appeal-made" data-trend={a.trend.id} data-status={a.status}>
            <strong>{a.trend.title || a.trend.body.slice(0, 80)}</strong>{" "}
            <span class="muted">
              {a.status === "RESOLVED"
                ? a.resolution?.decision === "APPROVE"
                  ? "approved on appeal"
                  : "rejection upheld"
                : "waiting for a reviewer"}{" "}
              · appealed {new Date(a.createdAt).toLocaleString()}
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}

function AppealItem({
  session,
  item,
  onAppealed,
}: {
  session: Session;
  item: Rejected;
  onAppealed(title: string): void;
}) {
  const [open, setOpen] = useState(false);
  const [statement, setStatement] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const decided = [...item.escalations].reverse().find((e) => e.resolution);
  const title = item.title || item.body.slice(0, 80);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!statement.trim() || busy) return;
    setBusy(true);
    setError(undefined);
    try {
      await session.client.request(AppealMutation, {
        trendId: item.id,
        statement: statement.trim(),
      });
      setOpen(false);
      onAppealed(title);
    } catch (failure) {
      const code = failure instanceof GqlError ? failure.code : undefined;
      setError(
        code === "CONFLICT"
          ? "This decision has already been appealed (one appeal per decision)."
          : (failure as Error).message,
      );
    } finally {
      setBusy(false);
    }
  };
  const titleId = `appeal-title-${item.id}`;
  return (
    <li data-testid="appeal-item" data-trend={item.id} aria-labelledby={titleId}>
      <strong id={titleId}>{title}</strong>{" "}
      <span class="muted">
        ({item.source}
        {decided?.resolution?.reasonCode && (
          <>
            , reason <code data-testid="appeal-reason">{decided.resolution.reasonCode}</code>
          </>
        )}
        )
      </span>
      {open ? (
        <form class="stack" onSubmit={submit}>
          <label for={`statement-${item.id}`}>Why the decision should change</label>
          <textarea
            id={`statement-${item.id}`}
            rows={3}
            value={statement}
            onInput={(e) => setStatement((e.target as HTMLTextAreaElement).value)}
            data-testid="appeal-statement"
          />
          <div class="buttons">
            <button type="submit" disabled={busy || !statement.trim()} data-testid="appeal-submit">
              Send appeal
            </button>
            <button type="button" onClick={() => setOpen(false)}>
              Cancel
            </button>
          </div>
        </form>
      ) : (
        <button type="button" onClick={() => setOpen(true)} data-testid="appeal-open">
          Appeal…
        </button>
      )}
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
    </li>
  );
}
