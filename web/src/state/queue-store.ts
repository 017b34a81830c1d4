import type { QueueItemFields } from "../api/documents.js";
import type { ResultOf } from "../graphql.js";

export type QueueItem = ResultOf<typeof QueueItemFields>;
export type IssueType = QueueItem["issueType"];

export interface QueueFilter {
  issueType: IssueType | "";
  source: string;
}

export interface PageInfo {
  hasNextPage: boolean;
  endCursor: string | null;
}

/** Orders two stream entry ids (`ms-seq`), as Redis does. */
export function compareStreamIds(a: string, b: string): number {
  const [am = "0", as = "0"] = a.split("-");
  const [bm = "0", bs = "0"] = b.split("-");
  const ms = BigInt(am) - BigInt(bm);
  if (ms !== 0n) return ms < 0n ? -1 : 1;
  const seq = BigInt(as) - BigInt(bs);
  return seq === 0n ? 0 : seq < 0n ? -1 : 1;
}

const byAge = (a: QueueItem, b: QueueItem) =>
  a.createdAt === b.createdAt ? (a.id < b.id ? -1 : 1) : a.createdAt < b.createdAt ? -1 : 1;

/**
 * The open part of the moderation queue as this page knows it, merged from list pages and the
 * three escalation subscriptions. Every merge is idempotent, so a replay after a reconnect (or
 * the overlap between the first page and the subscription's starting cursor) never shows an
 * item twice, and a resolution, once seen, is final whatever arrives after it.
 *
 * The server's queue is oldest first; while more pages wait (`hasNextPage`), a new escalation is
 * left to paging (it sorts after them) and only counted in `arrivedBeyondPage`.
 */
export class QueueStore {
  private readonly items = new Map<string, QueueItem>();
  /** Cursor of the last judge:escalations event applied to each item (created, claimed, released). */
  private readonly applied = new Map<string, string>();
  private readonly resolved = new Set<string>();
  private sorted: QueueItem[] | undefined;
  private readonly listeners = new Set<() => void>();
  page: PageInfo = { hasNextPage: false, endCursor: null };
  totalCount = 0;
  arrivedBeyondPage = 0;
  /** Ids that came in live since the page was shown, for a "new" marker. */
  readonly fresh = new Set<string>();

  constructor(public filter: QueueFilter = { issueType: "", source: "" }) {}

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  list(): QueueItem[] {
    this.sorted ??= [...this.items.values()].sort(byAge);
    return this.sorted;
  }

  get(id: string): QueueItem | undefined {
    return this.items.get(id);
  }

  isResolved(id: string): boolean {
    return this.resolved.has(id);
  }

  matches(item: QueueItem): boolean {
    if (this.filter.issueType && item.issueType !== this.filter.issueType) return false;
    if (this.filter.source && item.trend.source !== this.filter.source) return false;
    return true;
  }

  /** A fresh first page (filter change, gap): forgets what was listed, keeps what was resolved. */
  reset(items: readonly QueueItem[], page: PageInfo, totalCount: number): void {
    this.items.clear();
    this.fresh.clear();
    this.arrivedBeyondPage = 0;
    this.appendPage(items, page, totalCount);
  }

  appendPage(items: readonly QueueItem[], page: PageInfo, totalCount: number): void {
    for (const item of items) {
      if (this.resolved.has(item.id) || item.status === "RESOLVED") continue;
      if (!this.items.has(item.id)) this.items.set(item.id, item);
    }
    this.page = page;
    this.totalCount = totalCount;
    this.changed();
  }

  /** escalationCreated / escalationUpdated: both come from judge:escalations, in stream order. */
  applyEvent(item: QueueItem, cursor: string | null | undefined, live: boolean): void {
    if (this.resolved.has(item.id) || item.status === "RESOLVED") {
      this.markResolved(item.id);
      return;
    }
    if (cursor) {
      const last = this.applied.get(item.id);
      if (last && compareStreamIds(cursor, last) <= 0) return;
      this.applied.set(item.id, cursor);
    }
    if (!this.matches(item)) return;
    const known = this.items.get(item.id);
    if (!known && this.page.hasNextPage) {
      this.arrivedBeyondPage += 1;
      this.changed();
      return;
    }
    this.items.set(
      item.id,
      known ? { ...known, ...item, cursor: known.cursor ?? item.cursor } : item,
    );
    if (!known && live) this.fresh.add(item.id);
    this.changed();
  }

  /** escalationResolved, or our own successful resolve. */
  markResolved(id: string): void {
    const had = this.items.delete(id);
    const first = !this.resolved.has(id);
    this.resolved.add(id);
    this.fresh.delete(id);
    if (had || first) this.changed();
  }

  setCount(totalCount: number): void {
    if (this.totalCount === totalCount) return;
    this.totalCount = totalCount;
    this.changed();
  }

  private changed(): void {
    this.sorted = undefined;
    for (const listener of this.listeners) listener();
  }
}
