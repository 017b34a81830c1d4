import {
  createSourceEventStream,
  type DocumentNode,
  execute,
  type ExecutionArgs,
  type ExecutionResult,
  print,
} from "graphql";

import { passThroughIterator } from "./pass-through-iterator.js";
import type { AheadSubscriber, SharedNextPayloads } from "./shared-next-payloads.js";

/**
 * Shares the execution of subscription events across subscribers, as Hasura multiplexes live
 * queries. Each subscriber keeps its own source (its cursor, replay, filter and gap events stay
 * its own), but a live event is one object handed to every subscriber of its stream (see
 * StreamPubSub), so the result for (event, document, variables, role) is computed once and the
 * same result object goes to all of them. Without this, 10,000 moderators on
 * `escalationCreated` cost 10,000 executions, and as many result trees for the garbage
 * collector, per event.
 *
 * The `after` variable is left out of the key: it decides which events a subscriber gets, never
 * what an event resolves to. The role stays in: what a field returns may depend on it.
 */
export class SharedSubscriptions {
  private readonly results = new WeakMap<object, Map<string, ShareGroup>>();
  private readonly keys = new WeakMap<ExecutionArgs, string>();
  private readonly printedDocuments = new WeakMap<DocumentNode, string>();
  private executions = 0;

  constructor(
    /** A fresh context per shared execution, so per-request caches (DataLoaders) are never stale. */
    private readonly contextForEvent: (subscriberContext: unknown) => unknown = (c) => c,
    /** Told of every result shared by subscribers, so its `next` payload is serialized once. */
    private readonly payloads?: SharedNextPayloads,
  ) {}

  /** graphql-ws's `subscribe` hook: the contract of graphql-js `subscribe`. */
  subscribe = async (
    args: ExecutionArgs,
  ): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> => {
    // Authorization, cursor checks and the subscriber's own source happen here, per subscriber.
    const source = await createSourceEventStream(args);
    if (!isAsyncIterable(source)) return source as ExecutionResult;
    const events = source as AsyncIterableIterator<unknown>;
    const subscriber = this.payloads?.subscriberOf(args.contextValue);
    return passThroughIterator(events, async () => {
      for (;;) {
        const next = await events.next();
        if (next.done) return { value: undefined, done: true };
        const result = await this.resultFor(next.value, args);
        const written = subscriber?.written;
        if (written === undefined) return { value: result, done: false };
        // Written ahead (ShareGroup): graphql-ws must not send it again. Wait for the write as
        // its send would (backpressure), then go on to this subscriber's next event.
        subscriber!.written = undefined;
        await written;
      }
    });
  };

  /** Executions run so far (each shared by every subscriber that got the same event). */
  get executionCount(): number {
    return this.executions;
  }

  /** Hot path: runs once per event per subscriber, so it makes no closure of its own. */
  private resultFor(event: unknown, args: ExecutionArgs): Promise<ExecutionResult> {
    if (typeof event !== "object" || event === null) return this.run(event, args);
    let byKey = this.results.get(event);
    if (!byKey) {
      byKey = new Map();
      this.results.set(event, byKey);
    }
    const key = this.keyOf(args);
    let group = byKey.get(key);
    if (!group) {
      group = new ShareGroup(this.run(event, args), this.payloads);
      byKey.set(key, group);
    }
    // This subscriber's iterator is waiting on exactly this result, so every earlier message of
    // its subscription is already written: the result may go to its socket as soon as it exists.
    if (group.waiting !== undefined) {
      const subscriber = this.payloads?.subscriberOf(args.contextValue);
      if (subscriber !== undefined) group.waiting.push(subscriber);
    }
    return group.result;
  }

  private run(event: unknown, args: ExecutionArgs): Promise<ExecutionResult> {
    this.executions++;
    return Promise.resolve(
      execute({
        ...args,
        rootValue: event,
        contextValue: this.contextForEvent(args.contextValue),
      }),
    );
  }

  /** One print per document: subscribers of the same query share one AST (DocumentCache). */
  private printed(document: DocumentNode): string {
    let text = this.printedDocuments.get(document);
    if (text === undefined) {
      text = print(document);
      this.printedDocuments.set(document, text);
    }
    return text;
  }

  private keyOf(args: ExecutionArgs): string {
    let key = this.keys.get(args);
    if (key === undefined) {
      const role =
        (args.contextValue as { principal?: { role?: string } } | undefined)?.principal?.role ??
        "anonymous";
      const { after: _after, ...variables } = (args.variableValues ?? {}) as Record<
        string,
        unknown
      >;
      key = `${role}\u0000${args.operationName ?? ""}\u0000${this.printed(args.document)}\u0000${JSON.stringify(variables)}`;
      this.keys.set(args, key);
    }
    return key;
  }
}

/**
 * One (event, document, variables, role) result and, until it resolves, the subscribers waiting
 * on it whose sockets can take it ahead of graphql-ws's chain (SharedNextPayloads.writeAhead).
 * A subscriber that asks after it resolved takes graphql-ws's normal path.
 */
class ShareGroup {
  readonly result: Promise<ExecutionResult>;
  waiting: AheadSubscriber[] | undefined;

  constructor(
    result: Promise<ExecutionResult>,
    private readonly payloads: SharedNextPayloads | undefined,
  ) {
    this.waiting = payloads ? [] : undefined;
    this.result = payloads ? result.then(this.settle) : result;
  }

  private readonly settle = (result: ExecutionResult): ExecutionResult => {
    const waiting = this.waiting;
    this.waiting = undefined;
    this.payloads!.share(result);
    if (waiting !== undefined && waiting.length > 0) this.payloads!.writeAhead(result, waiting);
    return result;
  };
}

function isAsyncIterable(value: unknown): boolean {
  return typeof value === "object" && value !== null && Symbol.asyncIterator in value;
}
