import { Component } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { LiveQueue } from "../state/live-queue.js";
import type { IssueType, QueueFilter, QueueItem } from "../state/queue-store.js";
import type { Session } from "../state/session.js";
import { ContentReviewPanel } from "./content-review-panel.js";
import { NextItemButton, useNextItem } from "./review/next-item.js";
import { isTyping, time } from "./format.js";
import { navigate, useSubscription } from "./use-store.js";

const queues = new WeakMap<Session, LiveQueue>();

/** One live queue per signed-in session, kept while the moderator visits other views. */
export function queueFor(session: Session): LiveQueue {
  let queue = queues.get(session);
  if (!queue) {
    queue = new LiveQueue(session.client, session.me.role);
    queues.set(session, queue);
    void queue.start();
    session.client.onState((state) => state === "forbidden" && queue?.stop());
  }
  return queue;
}

const ISSUE_LABELS: Record<IssueType, string> = {
  TOXICITY: "Toxicity",
  LOW_CONFIDENCE: "Low confidence",
  BUDGET_OVERRUN: "Budget overrun",
  AUDIT_SAMPLE: "Audit sample",
  APPEAL: "Appeal",
};

export function QueueView({ session, selectedId }: { session: Session; selectedId: string | undefined }) {
  const queue = queueFor(session);
  const store = queue.store;
  useSubscription(store);
  const items = store.list();
  const [notice, setNotice] = useState<string | undefined>();
  const listRef = useRef<HTMLOListElement>(null);
  const canModerate = session.me.role === "MODERATOR" || session.me.role === "OPERATOR";
  const nextItem = useNextItem(session, queue);

  const move = (delta: number) => {
    if (!items.length) return;
    const at = selectedId ? items.findIndex((i) => i.id === selectedId) : -1;
    const next = at < 0 ? (delta > 0 ? 0 : items.length - 1) : Math.min(items.length - 1, Math.max(0, at + delta));
    const id = items[next]!.id;
    navigate("queue", id);
    listRef.current?.querySelector<HTMLElement>(`[data-id="${id}"]`)?.scrollIntoView({ block: "nearest" });
  };

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (isTyping(event)) return;
      if (event.key === "j") move(1);
      else if (event.key === "k") move(-1);
      else if (event.key === "n" && canModerate) void nextItem.next();
      else return;
      event.preventDefault();
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  });

  /** After a decision, or when another moderator won: the next item, else the previous one. */
  const moveOn = (id: string, message?: string) => {
    setNotice(message);
    const list = store.list();
    const at = items.findIndex((i) => i.id === id);
    const candidates = [...items.slice(at + 1), ...items.slice(0, Math.max(0, at)).reverse()];
    const next = candidates.find((i) => i.id !== id && list.some((l) => l.id === i.id));
    navigate("queue", ...(next ? [next.id] : []));
  };

  // Paging for long queues: the next page loads when the end of the list scrolls into view.
  const sentinel = useRef<HTMLLIElement>(null);
  useEffect(() => {
    const el = sentinel.current;
    if (!el || !store.page.hasNextPage) return undefined;
    const observer = new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && void queue.loadMore());
    observer.observe(el);
    return () => observer.disconnect();
  });

  return (
    <div class="queue-layout">
      <section class="queue" aria-labelledby="queue-heading">
        <div class="queue-head">
          <h2 id="queue-heading">
            Open escalations <span class="count" data-testid="queue-count">{store.totalCount}</span>
          </h2>
          <Filters queue={queue} />
          {store.arrivedBeyondPage > 0 && (
            <p class="muted" data-testid="arrived-beyond">
              {store.arrivedBeyondPage} new at the end of the queue
            </p>
          )}
          {queue.error && (
            <p role="alert" class="error">
              {queue.error}
            </p>
          )}
          {!canModerate && <p class="muted">Read-only: your key cannot resolve escalations.</p>}
          {canModerate && <NextItemButton onNext={() => void nextItem.next()} busy={nextItem.busy} />}
          <p class="muted keys" data-testid="keys-help">
            {canModerate && (
              <>
                <kbd>n</kbd> next item for you (claimed), <kbd>a</kbd> approve, <kbd>r</kbd> reject (pick a reason code first, <kbd>Esc</kbd> leaves the picker),{" "}
              </>
            )}
            <kbd>j</kbd>/<kbd>k</kbd> move{canModerate && <>, <kbd>c</kbd> claim, <kbd>u</kbd> release</>}
          </p>
        </div>
        <div class="sr-only" aria-live="polite" role="status">
          {notice}
        </div>
        {notice && (
          <p class="notice" data-testid="notice">
            {notice}
          </p>
        )}
        {nextItem.message && (
          <p class="notice" data-testid="next-item-message" role="status">
            {nextItem.message}
          </p>
        )}
        <ol class="queue-list" ref={listRef} data-testid="queue-list">
          {items.map((item) => (
            <QueueRow key={item.id} item={item} selected={item.id === selectedId} fresh={store.fresh.has(item.id)} me={session.me.name} />
          ))}
          {store.page.hasNextPage && (
            <li ref={sentinel} class="more">
              <button type="button" onClick={() => void queue.loadMore()}>
                Load more ({items.length} of {store.totalCount} shown)
              </button>
            </li>
          )}
          {!items.length && !queue.loading && <li class="empty">Nothing waits for review.</li>}
        </ol>
      </section>
      <section class="panel" aria-label="Review">
        {selectedId ? (
          <ContentReviewPanel key={selectedId} session={session} queue={queue} escalationId={selectedId} onDone={moveOn} />
        ) : (
          <p class="muted centered">
            {canModerate ? (
              <>
                Press <kbd>n</kbd> for the next item that waits for you, or select one (<kbd>j</kbd>).
              </>
            ) : (
              <>
                Select an escalation (or press <kbd>j</kbd>).
              </>
            )}
          </p>
        )}
      </section>
    </div>
  );
}

interface RowProps {
  item: QueueItem;
  selected: boolean;
  fresh: boolean;
  me: string;
}

/**
 * Store items are replaced, never mutated, so a row whose props are the same objects renders the
 * same: skipping it keeps a live event cheap with thousands of rows on the page.
 */
class QueueRow extends Component<RowProps> {
  override shouldComponentUpdate(next: RowProps): boolean {
    const p = this.props;
    return p.item !== next.item || p.selected !== next.selected || p.fresh !== next.fresh || p.me !== next.me;
  }

  override render({ item, selected, fresh, me }: RowProps) {
    const title = item.trend.title || item.trend.body.slice(0, 80);
    return (
      <li data-testid="queue-item" data-id={item.id} data-status={item.status} class={selected ? "selected" : undefined}>
        <a href={`#/queue/${item.id}`} aria-current={selected ? "true" : undefined}>
          <span class="row-title">{title}</span>
          <span class="row-meta">
            <span class={`badge badge-${item.issueType.toLowerCase()}`}>{ISSUE_LABELS[item.issueType]}</span>
            <span>{item.trend.source}</span>
            <time dateTime={item.createdAt}>{time(item.createdAt)}</time>
            {fresh && <span class="badge badge-new">new</span>}
            {item.status === "IN_REVIEW" && <span class="badge badge-in-review">in review</span>}
            {item.status === "CLAIMED" && item.claimedBy && (
              <span class="claimed" data-testid="claimed-by">
                claimed by {item.claimedBy === me ? "you" : item.claimedBy}
              </span>
            )}
          </span>
        </a>
      </li>
    );
  }
}

function Filters({ queue }: { queue: LiveQueue }) {
  const [filter, setFilter] = useState<QueueFilter>(queue.store.filter);
  const apply = (next: QueueFilter) => {
    setFilter(next);
    void queue.setFilter(next);
  };
  return (
    <form
      class="filters"
      onSubmit={(e) => {
        e.preventDefault();
        apply(filter);
      }}
    >
      <label>
        Issue{" "}
        <select value={filter.issueType} onChange={(e) => apply({ ...filter, issueType: (e.target as HTMLSelectElement).value as IssueType | "" })} data-testid="filter-issue">
          <option value="">all</option>
          {Object.entries(ISSUE_LABELS).map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
      </label>
      <label>
        Source{" "}
        <input
          value={filter.source}
          onInput={(e) => setFilter({ ...filter, source: (e.target as HTMLInputElement).value })}
          onBlur={() => filter.source !== queue.store.filter.source && apply(filter)}
          placeholder="any"
          size={10}
          data-testid="filter-source"
        />
      </label>
    </form>
  );
}
