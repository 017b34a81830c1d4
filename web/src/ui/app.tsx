import { useEffect, useState } from "preact/hooks";

import type { ConnectionState } from "../api/gql-client.js";
import { type Session, signIn, signOut, storedKey } from "../state/session.js";
import { JudgeView } from "./judge/judge-view.js";
import { BudgetOverrunsView } from "./operations/budget-overruns-view.js";
import { DeadLettersView } from "./operations/dead-letters-view.js";
import { IncidentsView } from "./operations/incidents-view.js";
import { OverridePublishView } from "./operations/override-publish-view.js";
import { PipelineHealthView } from "./operations/pipeline-health-view.js";
import { ProvenanceView } from "./provenance-graph.js";
import { QueueView } from "./queue-view.js";
import { AppealView } from "./review/appeal-view.js";
import { ReviewerStatsView } from "./review/reviewer-stats-view.js";
import { SignIn } from "./sign-in.js";
import { navigate, useRoute } from "./use-store.js";

const OPERATOR_TABS = [
  ["health", "Pipeline health"],
  ["dead-letters", "Dead letters"],
  ["incidents", "Incidents"],
  ["budget", "Budget overruns"],
  ["override", "Override publish"],
] as const;

export function App() {
  const [session, setSession] = useState<Session | undefined>();
  const [restoring, setRestoring] = useState(() => Boolean(storedKey()));

  useEffect(() => {
    const key = storedKey();
    if (!key) return;
    signIn(key)
      .then(setSession)
      .catch(() => signOut(undefined))
      .finally(() => setRestoring(false));
  }, []);

  if (restoring) return <p class="centered">Signing in…</p>;
  if (!session) return <SignIn onSignedIn={setSession} />;
  return (
    <Shell
      session={session}
      onSignOut={() => {
        signOut(session);
        setSession(undefined);
      }}
    />
  );
}

function Shell({ session, onSignOut }: { session: Session; onSignOut(): void }) {
  const route = useRoute();
  const [state, setState] = useState<ConnectionState>(session.client.connectionState);
  useEffect(() => session.client.onState(setState), [session]);
  const role = session.me.role;
  const operator = role === "OPERATOR";
  // The Judge's figures are for operators (who also change its policy) and viewers (read-only).
  const judgeReader = operator || role === "VIEWER";
  // Reviewer figures: an operator sees everyone's, a moderator their own (the API decides).
  const reviewer = operator || role === "MODERATOR";
  // Appeals: the integrator that posted a rejected item, or an operator (the API decides which items).
  const appellant = operator || role === "INTEGRATOR";
  // An integrator's console is its appeals: it does not moderate.
  const [section = role === "INTEGRATOR" ? "appeals" : "queue", ...rest] = route;

  return (
    <div class="shell">
      <header class="topbar">
        <h1>Trendgate console</h1>
        <nav aria-label="Views">
          <a href="#/queue" aria-current={section === "queue" ? "page" : undefined}>
            Queue
          </a>
          {judgeReader && (
            <a href="#/judge" aria-current={section === "judge" ? "page" : undefined}>
              Judge
            </a>
          )}
          {reviewer && (
            <a href="#/reviewers" aria-current={section === "reviewers" ? "page" : undefined}>
              Reviewers
            </a>
          )}
          {appellant && (
            <a href="#/appeals" aria-current={section === "appeals" ? "page" : undefined}>
              Appeals
            </a>
          )}
          {operator &&
            OPERATOR_TABS.map(([id, label]) => (
              <a
                key={id}
                href={`#/ops/${id}`}
                aria-current={section === "ops" && rest[0] === id ? "page" : undefined}
              >
                {label}
              </a>
            ))}
        </nav>
        <div class="who">
          {(role === "MODERATOR" || role === "OPERATOR" || role === "VIEWER") && (
            <ConnectionPill state={state} />
          )}
          <span data-testid="whoami">
            {session.me.name} · <strong>{role.toLowerCase()}</strong>
          </span>
          <button type="button" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </header>
      <main>
        {section === "queue" && <QueueView session={session} selectedId={rest[0]} />}
        {section === "provenance" && rest[0] && (
          <ProvenanceView session={session} trendId={rest[0]} />
        )}
        {section === "judge" && judgeReader && <JudgeView session={session} />}
        {section === "judge" && !judgeReader && (
          <p role="alert">The Judge page needs an operator or viewer key.</p>
        )}
        {section === "reviewers" && reviewer && <ReviewerStatsView session={session} />}
        {section === "reviewers" && !reviewer && (
          <p role="alert">The reviewer figures need a moderator or operator key.</p>
        )}
        {section === "appeals" && appellant && <AppealView session={session} />}
        {section === "appeals" && !appellant && (
          <p role="alert">
            Appeals are made with the integrator key that posted the item, or an operator key.
          </p>
        )}
        {section === "ops" && !operator && (
          <p role="alert">The operator views need an operator key.</p>
        )}
        {section === "ops" && operator && rest[0] === "health" && (
          <PipelineHealthView session={session} />
        )}
        {section === "ops" && operator && rest[0] === "dead-letters" && (
          <DeadLettersView session={session} />
        )}
        {section === "ops" && operator && rest[0] === "incidents" && (
          <IncidentsView session={session} />
        )}
        {section === "ops" && operator && rest[0] === "budget" && (
          <BudgetOverrunsView session={session} />
        )}
        {section === "ops" && operator && rest[0] === "override" && (
          <OverridePublishView session={session} trendId={rest[1]} incidentId={rest[2]} />
        )}
        {section === "ops" && operator && !rest[0] && <PipelineHealthView session={session} />}
        {!["queue", "provenance", "ops", "judge", "reviewers", "appeals"].includes(section) && (
          <p>
            Unknown page.{" "}
            <a href="#/queue" onClick={() => navigate("queue")}>
              Back to the queue
            </a>
          </p>
        )}
      </main>
    </div>
  );
}

function ConnectionPill({ state }: { state: ConnectionState }) {
  const label = {
    connecting: "connecting…",
    live: "live",
    reconnecting: "reconnecting…",
    forbidden: "key rejected",
  }[state];
  return (
    <span class={`pill pill-${state}`} role="status" data-testid="connection" data-state={state}>
      {label}
    </span>
  );
}
