import { useState } from "preact/hooks";
import { GqlError } from "../../api/gql-client.js";
import { ClaimNextMutation } from "../../api/review-documents.js";
import type { LiveQueue } from "../../state/live-queue.js";
import type { Session } from "../../state/session.js";
import { navigate } from "../use-store.js";

/**
 * "Next item" (issue 14, item 10): the server picks and claims the most urgent escalation this
 * reviewer may take (claimNextEscalation: language, skill, capacity, not reviewed before), so a
 * moderator works through the queue with `n`, `a` and `r` without choosing. Null means nothing
 * is eligible for this reviewer now, which is said rather than shown as an error.
 */
export function useNextItem(session: Session, queue: LiveQueue) {
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string | undefined>();
  const next = async () => {
    if (busy) return;
    setBusy(true);
    setMessage(undefined);
    try {
      const { claimNextEscalation: item } = await session.client.request(ClaimNextMutation, {});
      if (!item) {
        setMessage(
          "Nothing waits for you right now: no open item matches your languages, skills and capacity.",
        );
        navigate("queue");
        return;
      }
      queue.store.applyEvent(item, undefined, false);
      navigate("queue", item.id);
    } catch (e) {
      setMessage(
        e instanceof GqlError && e.code === "FORBIDDEN"
          ? `Not now: ${e.message}`
          : (e as Error).message,
      );
    } finally {
      setBusy(false);
    }
  };
  return { next, busy, message };
}

export function NextItemButton({ onNext, busy }: { onNext(): void; busy: boolean }) {
  return (
    <button
      type="button"
      class="next-item"
      onClick={onNext}
      disabled={busy}
      data-testid="next-item"
    >
      Next item <kbd>n</kbd>
    </button>
  );
}
