import { type ExecutionArgs, type ExecutionResult, print, subscribe as graphqlSubscribe } from "graphql";

/**
 * Multiplexes identical GraphQL subscriptions in one gateway process, as Hasura multiplexes live
 * queries: subscribers whose document, variables and role are the same share one execution,
 * and each event is resolved once and handed to all of them as the same result object. Without
 * it, 10,000 moderators on `escalationCreated` cost 10,000 executions (and as many result
 * trees for the garbage collector) per event.
 *
 * Sharing is safe because what a subscription returns depends only on those three things:
 * resolvers read the principal's role for authorization, never its identity.
 */
export class SharedSubscriptions {
  private readonly groups = new Map<string, SharedSource>();

  constructor(private readonly options: { bufferSize?: number } = {}) {}

  /** graphql-ws's `subscribe` hook: the same contract as graphql-js `subscribe`. */
  subscribe = async (
    args: ExecutionArgs,
  ): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> => {
    const key = this.keyOf(args);
    let group = this.groups.get(key);
    if (!group) {
      const source = await graphqlSubscribe(args);
      if (!isAsyncIterator(source)) return source; // refused (auth, bad cursor): not shared
      group = this.groups.get(key);
      if (group) {
        // Another subscriber created the group while we awaited; ours is not needed.
        void source.return?.();
      } else {
        group = new SharedSource(source, () => this.groups.delete(key), this.options.bufferSize ?? 1000);
        this.groups.set(key, group);
      }
    }
    return group.join();
  };

  /** Distinct executions running now (for metrics and tests). */
  get size(): number {
    return this.groups.size;
  }

  private keyOf(args: ExecutionArgs): string {
    const role = (args.contextValue as { principal?: { role?: string } } | undefined)?.principal?.role ?? "anonymous";
    return `${role}\u0000${args.operationName ?? ""}\u0000${print(args.document)}\u0000${JSON.stringify(args.variableValues ?? {})}`;
  }
}

/** One running execution and the subscribers that share it. */
class SharedSource {
  private readonly members = new Set<Member>();
  private pumping: Promise<void> | undefined;
  private ended = false;

  constructor(
    private readonly source: AsyncIterator<ExecutionResult>,
    private readonly onEmpty: () => void,
    private readonly bufferSize: number,
  ) {}

  join(): AsyncIterableIterator<ExecutionResult> {
    const member = new Member(this.bufferSize, () => this.leave(member));
    this.members.add(member);
    this.pumping ??= this.pump();
    return member.iterator();
  }

  private leave(member: Member): void {
    this.members.delete(member);
    if (this.members.size === 0 && !this.ended) {
      this.ended = true;
      this.onEmpty();
      void this.source.return?.();
    }
  }

  private async pump(): Promise<void> {
    try {
      for (;;) {
        const next = await this.source.next();
        if (next.done) break;
        for (const member of this.members) member.push(next.value);
      }
    } catch (error) {
      for (const member of this.members) member.fail(error);
    } finally {
      if (!this.ended) {
        this.ended = true;
        this.onEmpty();
      }
      for (const member of this.members) member.end();
    }
  }
}

/** A subscriber's own queue: it reads at its own pace; one that falls too far behind is ended. */
class Member {
  private readonly queue: ExecutionResult[] = [];
  private waiting: ((r: IteratorResult<ExecutionResult>) => void) | undefined;
  private done = false;
  private error: unknown;

  constructor(
    private readonly bufferSize: number,
    private readonly onLeave: () => void,
  ) {}

  push(result: ExecutionResult): void {
    if (this.done) return;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve({ value: result, done: false });
      return;
    }
    if (this.queue.length >= this.bufferSize) {
      // Same contract as the stream pubsub's OVERFLOW gap: say so, end, let the client resume.
      this.queue.length = 0;
      this.queue.push({
        errors: [
          {
            message: "this subscriber fell too far behind; resubscribe with `after` set to the last cursor it processed",
            extensions: { code: "SUBSCRIPTION_GAP", reason: "OVERFLOW" },
          } as never,
        ],
      });
      this.end();
      return;
    }
    this.queue.push(result);
  }

  fail(error: unknown): void {
    this.error = error;
    this.end();
  }

  end(): void {
    if (this.done) return;
    this.done = true;
    if (this.waiting && this.queue.length === 0) {
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve({ value: undefined, done: true });
    }
    this.onLeave();
  }

  /**
   * Written by hand, not as an async generator: a generator's return() waits until it next
   * yields, so a subscriber who leaves while no event comes would stay registered.
   */
  iterator(): AsyncIterableIterator<ExecutionResult> {
    const next = async (): Promise<IteratorResult<ExecutionResult>> => {
      const queued = this.queue.shift();
      if (queued) return { value: queued, done: false };
      if (this.done) {
        const error = this.error;
        this.error = undefined;
        if (error) throw error;
        return { value: undefined, done: true };
      }
      return new Promise((resolve) => {
        this.waiting = resolve;
      });
    };
    const leave = async (): Promise<IteratorResult<ExecutionResult>> => {
      this.queue.length = 0;
      this.end();
      return { value: undefined, done: true };
    };
    const iterator: AsyncIterableIterator<ExecutionResult> = {
      [Symbol.asyncIterator]: () => iterator,
      next,
      return: leave,
    };
    return iterator;
  }
}

function isAsyncIterator(value: unknown): value is AsyncIterator<ExecutionResult> & AsyncIterable<ExecutionResult> {
  return typeof value === "object" && value !== null && Symbol.asyncIterator in value;
}
