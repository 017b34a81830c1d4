/**
 * An async iterator over `source` whose next() is `next` and whose return() and throw() go
 * straight to the source. Hand-written on purpose: an async generator's return() waits for its
 * next yield, so a subscriber leaving while no event comes would stay subscribed.
 */
export function passThroughIterator<T, U>(
  source: AsyncIterableIterator<T>,
  next: () => Promise<IteratorResult<U, undefined>>,
): AsyncIterableIterator<U> {
  const iterator: AsyncIterableIterator<U> = {
    [Symbol.asyncIterator]: () => iterator,
    next,
    async return() {
      await source.return?.();
      return { value: undefined, done: true };
    },
    async throw(error?: unknown) {
      if (source.throw) await source.throw(error);
      throw error;
    },
  };
  return iterator;
}
