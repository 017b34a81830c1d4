import type { Envelope } from "../streams/envelope.js";

/**
 * What a subscription iterator yields (docs/PROTOCOL.md, "Subscription cursors").
 *
 * - `event`: one stream entry. `cursor` is its entry id; pass the last one you handled as
 *   `after` to resume with nothing missed. The object is shared by every subscriber that receives
 *   it and is frozen: do not mutate it.
 * - `gap`: entries the subscriber will never receive through this iterator. `TRIMMED`: Redis
 *   trimmed (or deleted) entries after your cursor before they were delivered; the iterator goes
 *   on with what remains. `OVERFLOW`: the subscriber read too slowly and its buffer was dropped;
 *   it is the last thing the iterator yields, resubscribe with `after: cursor` to get the rest.
 *   Ids in (`missedFrom`, `missedTo`] are the ones concerned.
 */
export type StreamEvent =
  | { kind: "event"; stream: string; cursor: string; envelope: Envelope }
  | {
      kind: "gap";
      stream: string;
      /** Resume from here (as `after`). */
      cursor: string;
      reason: "TRIMMED" | "OVERFLOW";
      missedFrom?: string;
      missedTo?: string;
      /** What was lost and what to re-query. */
      message: string;
    };
