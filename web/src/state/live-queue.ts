import {
  EscalationCreatedSubscription,
  EscalationResolvedSubscription,
  EscalationsQuery,
  EscalationUpdatedSubscription,
  QueueCountQuery,
  TrendUpdatedSubscription,
} from "../api/documents.js";
import type { GqlClient } from "../api/gql-client.js";
import type { Role } from "./session.js";
import { type QueueFilter, type QueueItem, QueueStore } from "./queue-store.js";

export const PAGE_SIZE = 100;
/** Roles without the escalation subscriptions follow trend changes, or poll. */
const POLL_MS = 5000;

/**
 * Keeps a {@link QueueStore} current: pages from `escalations`, live changes from
 * `escalationCreated`, `escalationUpdated` and `escalationResolved`, each resumed after a dropped
 * connection from the last cursor it handled, and a re-query on SUBSCRIPTION_GAP.
 */
export class LiveQueue {
  readonly store = new QueueStore();
  loading = false;
  error: string | undefined;
  private readonly stops: (() => void)[] = [];
  private countTimer: ReturnType<typeof setTimeout> | undefined;
  private reloadTimer: ReturnType<typeof setTimeout> | undefined;
  private generation = 0;
  private cursors: { escalations: string; resolutions: string } = { escalations: "0", resolutions: "0" };

  constructor(
    private readonly client: GqlClient,
    private readonly role: Role,
  ) {}

  async start(): Promise<void> {
    await this.reload();
    // The list reported where the streams stood just before it was read: subscribing after
    // those positions leaves no gap between the first page and the live feed.
    const after = this.cursors.escalations;
    const afterResolution = this.cursors.resolutions;
    if (this.role === "MODERATOR" || this.role === "OPERATOR") {
      const onGap = () => this.scheduleReload();
      this.stops.push(
        this.client.subscribe({
          document: EscalationCreatedSubscription,
          cursor: after,
          variables: (cursor) => ({ after: cursor ?? null }),
          next: (data) => this.onEvent(data.escalationCreated, true),
          gap: onGap,
        }),
        this.client.subscribe({
          document: EscalationUpdatedSubscription,
          cursor: after,
          variables: (cursor) => ({ after: cursor ?? null }),
          next: (data) => this.onEvent(data.escalationUpdated, false),
          gap: onGap,
        }),
        this.client.subscribe({
          document: EscalationResolvedSubscription,
          cursor: afterResolution,
          variables: (cursor) => ({ after: cursor ?? null }),
          next: (data) => {
            this.store.markResolved(data.escalationResolved.id);
            this.scheduleCount();
            return data.escalationResolved.cursor;
          },
          gap: onGap,
        }),
      );
    } else if (this.role === "VIEWER") {
      this.stops.push(
        this.client.subscribe({
          document: TrendUpdatedSubscription,
          cursor: after,
          variables: (cursor) => ({ after: cursor ?? null }),
          next: (data) => {
            if (data.trendUpdated.to !== "RECEIVED") this.scheduleReload();
            return data.trendUpdated.cursor;
          },
          gap: () => this.scheduleReload(),
        }),
      );
    } else {
      const timer = setInterval(() => void this.reload(), POLL_MS);
      this.stops.push(() => clearInterval(timer));
    }
  }

  stop(): void {
    for (const stop of this.stops.splice(0)) stop();
    clearTimeout(this.countTimer);
    clearTimeout(this.reloadTimer);
  }

  async setFilter(filter: QueueFilter): Promise<void> {
    this.store.filter = filter;
    await this.reload();
  }

  /** The first page again (filter change, gap, or a role without live escalations). */
  async reload(): Promise<void> {
    const generation = ++this.generation;
    this.loading = true;
    try {
      const data = await this.client.request(EscalationsQuery, { ...this.queryFilter(), first: PAGE_SIZE, after: null });
      if (generation !== this.generation) return;
      const c = data.escalations;
      this.cursors = { escalations: c.streamCursor, resolutions: c.resolutionCursor };
      this.error = undefined;
      this.store.reset(
        c.edges.map((e) => e.node),
        c.pageInfo,
        c.totalCount,
      );
    } catch (error) {
      this.error = (error as Error).message;
      this.store.setCount(this.store.totalCount);
    } finally {
      if (generation === this.generation) this.loading = false;
    }
  }

  async loadMore(): Promise<void> {
    const { hasNextPage, endCursor } = this.store.page;
    if (!hasNextPage || this.loading) return;
    const generation = this.generation;
    this.loading = true;
    try {
      const data = await this.client.request(EscalationsQuery, { ...this.queryFilter(), first: PAGE_SIZE, after: endCursor });
      if (generation !== this.generation) return;
      const c = data.escalations;
      this.store.appendPage(
        c.edges.map((e) => e.node),
        c.pageInfo,
        c.totalCount,
      );
    } finally {
      this.loading = false;
    }
  }

  private onEvent(item: QueueItem, created: boolean): string | null {
    this.store.applyEvent(item, item.cursor, created);
    this.scheduleCount();
    return item.cursor;
  }

  private queryFilter() {
    const { issueType, source } = this.store.filter;
    // IN_REVIEW: some of the reviews consensus needs are in; the item still waits for others.
    return { status: ["OPEN", "CLAIMED", "IN_REVIEW"] as ("OPEN" | "CLAIMED" | "IN_REVIEW")[], issueType: issueType ? [issueType] : null, source: source || null };
  }

  /** One count query per burst of events, not one per event. */
  private scheduleCount(): void {
    clearTimeout(this.countTimer);
    this.countTimer = setTimeout(() => {
      const { issueType, source } = this.queryFilter();
      this.client
        .request(QueueCountQuery, { issueType, source })
        .then((data) => this.store.setCount(data.escalations.totalCount))
        .catch(() => undefined);
    }, 250);
  }

  private scheduleReload(): void {
    clearTimeout(this.reloadTimer);
    this.reloadTimer = setTimeout(() => void this.reload(), 300);
  }
}
