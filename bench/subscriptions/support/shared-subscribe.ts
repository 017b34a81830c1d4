import {
  createSourceEventStream,
  execute,
  type ExecutionArgs,
  type ExecutionResult,
} from "graphql";

/**
 * A prototype of the change fanout.ts's profile points at, for graphql-ws's `subscribe` option:
 * each subscriber keeps its own source stream (StreamPubSub's iterator: filter, replay, gaps,
 * resume stay per subscriber), but the GraphQL execution of an event is done once per distinct
 * operation and shared by every subscriber whose iterator yields the same event object.
 * StreamPubSub hands one frozen event object to every live subscriber, so a WeakMap keyed by
 * the event finds the shared result; replayed events are per subscriber and are executed alone.
 *
 * `keyOf` must capture everything the result depends on besides the event: the document, the
 * variables that change the selection (not `after`, which only moves the source), and what of
 * the context the resolvers read (the role).
 */
export function createSharedSubscribe(keyOf: (args: ExecutionArgs) => string) {
  const shared = new WeakMap<object, Map<string, Promise<ExecutionResult> | ExecutionResult>>();
  return async (args: ExecutionArgs): Promise<AsyncIterable<ExecutionResult> | ExecutionResult> => {
    const source = await createSourceEventStream(args);
    if (!(Symbol.asyncIterator in source)) return source as ExecutionResult;
    const key = keyOf(args);
    const events = (source as AsyncIterable<unknown>)[Symbol.asyncIterator]();
    const run = (event: unknown) => execute({ ...args, rootValue: event });
    const iterator: AsyncIterableIterator<ExecutionResult> = {
      [Symbol.asyncIterator]: () => iterator,
      async next() {
        const r = await events.next();
        if (r.done) return { done: true, value: undefined };
        const event = r.value;
        if (typeof event !== "object" || event === null)
          return { done: false, value: await run(event) };
        let byKey = shared.get(event);
        if (!byKey) shared.set(event, (byKey = new Map()));
        let result = byKey.get(key);
        if (!result) byKey.set(key, (result = run(event)));
        return { done: false, value: await result };
      },
      async return() {
        await events.return?.();
        return { done: true, value: undefined };
      },
      async throw(error: unknown) {
        await events.return?.();
        throw error;
      },
    };
    return iterator;
  };
}
