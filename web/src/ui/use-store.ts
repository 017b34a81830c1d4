import { useEffect, useReducer } from "preact/hooks";

/** Re-renders the component whenever `source` says it changed. */
export function useSubscription(
  source: { subscribe(listener: () => void): () => void } | undefined,
): void {
  const [, bump] = useReducer((n: number) => n + 1, 0);
  useEffect(() => source?.subscribe(() => bump(undefined)), [source]);
}

/** The hash route, e.g. `#/queue/<id>` → ["queue", "<id>"]. */
export function useRoute(): string[] {
  const [, bump] = useReducer((n: number) => n + 1, 0);
  useEffect(() => {
    const onChange = () => bump(undefined);
    window.addEventListener("hashchange", onChange);
    return () => window.removeEventListener("hashchange", onChange);
  }, []);
  return location.hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
}

export function navigate(...parts: string[]): void {
  location.hash = `#/${parts.map(encodeURIComponent).join("/")}`;
}
