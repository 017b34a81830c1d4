import { useEffect, useState } from "preact/hooks";

/** Polls a query while the view is open. */
export function usePolled<T>(load: () => Promise<T>, everyMs: number | null, deps: unknown[] = []) {
  const [value, setValue] = useState<T | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    const run = () =>
      load()
        .then((v) => {
          if (!live) return;
          setValue(v);
          setError(undefined);
        })
        .catch((e: Error) => live && setError(e.message));
    void run();
    const timer = everyMs ? setInterval(run, everyMs) : undefined;
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [...deps, tick]);
  return { value, error, refresh: () => setTick((t) => t + 1) };
}
