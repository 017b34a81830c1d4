import {
  createSourceEventStream,
  type DocumentNode,
  execute,
  type ExecutionArgs,
  type ExecutionResult,
  print,
} from "graphql";

import { passThroughIterator } from "./pass-through-iterator.js";
import type { SharedNextPayloads } from "./shared-next-payloads.js";

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
  private readonly results = new WeakMap<object, Map<string, Promise<ExecutionResult>>>();
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
    return mapIterator(source as AsyncIterableIterator<unknown>, (event) =>
      this.resultFor(event, args),
    );
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
    let result = byKey.get(key);
    if (!result) {
      result = this.run(event, args);
      if (this.payloads) result = result.then(this.share);
      byKey.set(key, result);
    }
    return result;
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

  private readonly share = (result: ExecutionResult): ExecutionResult =>
    this.payloads ? this.payloads.share(result) : result;

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

/** Maps an async iterator, passing return() straight through (see passThroughIterator). */
function mapIterator<T, U>(
  source: AsyncIterableIterator<T>,
  map: (value: T) => Promise<U>,
): AsyncIterableIterator<U> {
  return passThroughIterator(source, async () => {
    const next = await source.next();
    if (next.done) return { value: undefined, done: true };
    return { value: await map(next.value), done: false };
  });
}

function isAsyncIterable(value: unknown): boolean {
  return typeof value === "object" && value !== null && Symbol.asyncIterator in value;
}
