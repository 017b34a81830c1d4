import { useEffect, useRef, useState } from "preact/hooks";
import { ClaimMutation, ReleaseMutation, ResolveMutation, ReviewQuery, SimilarQuery } from "../api/documents.js";
import { GqlError } from "../api/gql-client.js";
import type { ResultOf } from "../graphql.js";
import type { LiveQueue } from "../state/live-queue.js";
import type { Session } from "../state/session.js";
import { isTyping, score, time } from "./format.js";
import { ConsensusState } from "./review/consensus-state.js";
import { fitsDecision, ReasonCodePicker, reasonCodes } from "./review/reason-code-picker.js";
import { PrecedentsList } from "./review/precedents-list.js";
import { useSubscription } from "./use-store.js";

type Review = ResultOf<typeof ReviewQuery>["escalation"];
type Similar = ResultOf<typeof SimilarQuery>["similarTrends"];

/**
 * One escalation under review: the item, its scores with the Judge's reason and rule, similar
 * items and the provenance timeline; claim/release and approve/reject. The server decides every
 * race: when another moderator got there first its CONFLICT is said plainly and the queue moves on.
 */
export function ContentReviewPanel({
  session,
  queue,
  escalationId,
  onDone,
}: {
  session: Session;
  queue: LiveQueue;
  escalationId: string;
  onDone(id: string, message?: string): void;
}) {
  const { client, me } = session;
  const store = queue.store;
  useSubscription(store);
  const [review, setReview] = useState<Review | undefined>();
  const [similar, setSimilar] = useState<Similar | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [note, setNote] = useState("");
  const [busy, setBusy] = useState<string | undefined>();
  const [claimToken, setClaimToken] = useState<string | undefined>();
  /** Bumped when this reviewer's review is recorded, so the consensus line reloads. */
  const [reviewed, setReviewed] = useState(0);
  const [reasonCode, setReasonCode] = useState("");
  const [reasonMissing, setReasonMissing] = useState(false);

  useEffect(() => {
    let live = true;
    client
      .request(ReviewQuery, { id: escalationId })
      .then((data) => {
        if (!live) return;
        setReview(data.escalation);
        if (data.escalation.claimedBy === me.name && data.escalation.status === "CLAIMED") setClaimToken(data.escalation.claimToken);
      })
      .catch((e: Error) => live && setError(e.message));
    return () => {
      live = false;
    };
  }, [escalationId]);

  useEffect(() => {
    if (!review) return undefined;
    let live = true;
    client
      .request(SimilarQuery, { trendId: review.trend.id })
      .then((data) => live && setSimilar(data.similarTrends.filter((s) => s.trend.id !== review.trend.id)))
      .catch(() => live && setSimilar([]));
    return () => {
      live = false;
    };
  }, [review?.trend.id]);

  const canModerate = me.role === "MODERATOR" || me.role === "OPERATOR";
  const current = store.get(escalationId);
  const claimedBy = current ? current.claimedBy : review?.claimedBy;
  const status = current ? current.status : review?.status;
  const resolvedElsewhere = store.isResolved(escalationId) || status === "RESOLVED";
  const mine = status === "CLAIMED" && claimedBy === me.name;

  const run = async (action: "claim" | "release" | "APPROVE" | "REJECT") => {
    if (!canModerate || busy || !review) return;
    setBusy(action);
    setError(undefined);
    try {
      if (action === "claim") {
        const { claimEscalation } = await client.request(ClaimMutation, { id: escalationId });
        setClaimToken(claimEscalation.claimToken);
        // Not busy before the queue shows "claimed by you": a moderator who sees that and presses
        // a/r at once must not find the panel still busy with the claim.
        setBusy(undefined);
        store.applyEvent(claimEscalation, undefined, false);
      } else if (action === "release") {
        const { releaseEscalation } = await client.request(ReleaseMutation, { id: escalationId });
        setClaimToken(undefined);
        store.applyEvent(releaseEscalation, undefined, false);
      } else {
        // A rejection states its reason (issue 14, item 5): without a fitting code the picker is
        // focused and nothing is sent. An approval carries the code only when it fits.
        const codes = await reasonCodes(session).catch(() => []);
        const fits = fitsDecision(codes, reasonCode, action);
        if (action === "REJECT" && !fits) {
          setReasonMissing(true);
          document.getElementById("reason-code")?.focus();
          return;
        }
        setReasonMissing(false);
        const { resolveEscalation: after } = await client.request(ResolveMutation, {
          id: escalationId,
          input: { decision: action, reasonCode: fits ? reasonCode : null, note: note.trim() || null, claimToken: mine ? (claimToken ?? null) : null },
        });
        const verb = action === "APPROVE" ? "Approved" : "Rejected";
        if (after.status === "RESOLVED") {
          store.markResolved(escalationId);
          onDone(escalationId, `${verb}: ${title(review)}`);
        } else {
          // k-of-n: the review is recorded, the item waits for other reviewers (IN_REVIEW).
          store.applyEvent(after, undefined, false);
          setReviewed((n) => n + 1);
          onDone(escalationId, `${verb} (your review is recorded; the outcome waits for other reviewers): ${title(review)}`);
        }
      }
    } catch (e) {
      if (e instanceof GqlError && e.code === "CONFLICT") {
        const ext = e.extensions;
        const message =
          typeof ext.resolvedBy === "string"
            ? `Another moderator won the race: ${ext.resolvedBy} already resolved “${title(review)}”. Moved on.`
            : typeof ext.claimedBy === "string"
              ? `Another moderator won the race: ${ext.claimedBy} has claimed “${title(review)}”. Moved on.`
              : `Another moderator changed “${title(review)}” first (${e.message}). Moved on.`;
        if (typeof ext.resolvedBy === "string") store.markResolved(escalationId);
        onDone(escalationId, message);
      } else {
        setError((e as Error).message);
      }
    } finally {
      setBusy(undefined);
    }
  };

  // The listener is registered once and calls the latest render's `run` (updated during render,
  // before paint), so a key pressed the moment the panel shows acts on what it shows.
  const runRef = useRef(run);
  runRef.current = run;
  useEffect(() => {
    if (!canModerate) return undefined;
    const onKey = (event: KeyboardEvent) => {
      if (isTyping(event)) {
        if (event.key === "Escape") (event.target as HTMLElement).blur();
        return;
      }
      const action = ({ c: "claim", u: "release", a: "APPROVE", r: "REJECT" } as const)[event.key as "c" | "u" | "a" | "r"];
      if (!action) return;
      event.preventDefault();
      void runRef.current(action);
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [canModerate]);

  if (error && !review) {
    return (
      <p role="alert" class="error">
        {error}
      </p>
    );
  }
  if (!review) return <p class="muted">Loading…</p>;
  const trend = review.trend;
  const provenance = [...review.provenance].sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));

  return (
    <article class="review" data-testid="review-panel" data-id={review.id} aria-busy={busy ? "true" : "false"} aria-labelledby="review-title">
      <header>
        <h2 id="review-title">{title(review)}</h2>
        <p class="row-meta">
          <span class={`badge badge-${review.issueType.toLowerCase()}`}>{review.issueType.replace("_", " ").toLowerCase()}</span>
          <span>
            source <strong>{trend.source}</strong>
          </span>
          {trend.url && (
            <a href={trend.url} target="_blank" rel="noopener noreferrer">
              {trend.url}
            </a>
          )}
          <span data-testid="review-status">
            {resolvedElsewhere ? "resolved" : status === "CLAIMED" ? `claimed by ${mine ? "you" : claimedBy}` : status === "IN_REVIEW" ? "in review" : "open"}
          </span>
        </p>
      </header>

      <blockquote class="body" data-testid="review-body">
        {trend.body}
      </blockquote>
      {review.issueType === "APPEAL" && (
        <p class="notice" data-testid="appeal-statement-shown">
          <strong>Appeal of a rejection.</strong> {review.appealStatement ? `The appellant says: “${review.appealStatement}”` : ""} Your decision is final.
        </p>
      )}

      <section aria-labelledby="scores-h">
        <h3 id="scores-h">Scores and the Judge</h3>
        <dl class="scores">
          <div>
            <dt>Sentiment</dt>
            <dd>
              {score(trend.sentiment?.score)} {trend.sentiment?.label && <span class="muted">({trend.sentiment.label})</span>}
            </dd>
          </div>
          <div>
            <dt>Toxicity</dt>
            <dd data-testid="score-toxicity">{score(trend.toxicityScore)}</dd>
          </div>
          <div>
            <dt>Confidence</dt>
            <dd>{score(trend.confidence)}</dd>
          </div>
          <div>
            <dt>Rule</dt>
            <dd>
              <code data-testid="review-rule">{review.rule ?? "—"}</code>
            </dd>
          </div>
        </dl>
        <p data-testid="review-reason">
          <strong>Judge:</strong> {review.reason}
        </p>
      </section>

      {canModerate && <ConsensusState session={session} escalationId={review.id} version={reviewed} />}

      {canModerate && (
        <section class="actions" aria-label="Decision">
          <ReasonCodePicker
            session={session}
            value={reasonCode}
            invalid={reasonMissing}
            onChange={(code) => {
              setReasonCode(code);
              setReasonMissing(false);
            }}
          />
          <label for="note">Note (optional, goes to provenance)</label>
          <textarea id="note" rows={2} value={note} onInput={(e) => setNote((e.target as HTMLTextAreaElement).value)} />
          <div class="buttons">
            {mine ? (
              <button type="button" onClick={() => void run("release")} disabled={Boolean(busy) || resolvedElsewhere}>
                Release <kbd>u</kbd>
              </button>
            ) : (
              <button type="button" onClick={() => void run("claim")} disabled={Boolean(busy) || resolvedElsewhere} data-testid="claim">
                Claim <kbd>c</kbd>
              </button>
            )}
            <button type="button" class="approve" onClick={() => void run("APPROVE")} disabled={Boolean(busy) || resolvedElsewhere} data-testid="approve">
              Approve <kbd>a</kbd>
            </button>
            <button type="button" class="reject" onClick={() => void run("REJECT")} disabled={Boolean(busy) || resolvedElsewhere} data-testid="reject">
              Reject <kbd>r</kbd>
            </button>
          </div>
          {error && (
            <p role="alert" class="error">
              {error}
            </p>
          )}
          {resolvedElsewhere && <p class="notice">This escalation has been resolved.</p>}
        </section>
      )}

      {canModerate && <PrecedentsList session={session} escalationId={review.id} />}

      <section aria-labelledby="similar-h">
        <h3 id="similar-h">Similar items</h3>
        {!similar ? (
          <p class="muted">Looking…</p>
        ) : similar.length === 0 ? (
          <p class="muted">None found.</p>
        ) : (
          <ul class="similar" data-testid="similar">
            {similar.map((s) => (
              <li key={s.trend.id}>
                <span class="score">{s.score.toFixed(2)}</span> {s.trend.title || s.trend.body.slice(0, 70)} <span class="muted">({s.trend.source}, {s.trend.status.toLowerCase()})</span>
              </li>
            ))}
          </ul>
        )}
      </section>

      <section aria-labelledby="prov-h">
        <h3 id="prov-h">
          Provenance <span class="muted">trace {trend.traceId}</span>
        </h3>
        {trend.plan && (
          <p data-testid="planner-intent">
            <strong>Planner intent:</strong> {trend.plan.intent}
          </p>
        )}
        <ol class="timeline" data-testid="provenance-timeline">
          {provenance.map((entry) => (
            <li key={entry.id}>
              <strong>{entry.step}</strong> <span class="muted">by {entry.actor}</span> <time dateTime={entry.createdAt}>{time(entry.createdAt)}</time>
            </li>
          ))}
        </ol>
        <a href={`#/provenance/${trend.id}`}>Provenance graph</a>
      </section>
    </article>
  );
}

function title(review: Review): string {
  return review.trend.title || review.trend.body.slice(0, 60);
}
