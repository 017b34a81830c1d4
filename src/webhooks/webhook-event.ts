import type { Kysely, Transaction } from "kysely";

import { enqueueOutbox } from "../db/outbox.js";
import type { Database } from "../db/types.js";
import { type Envelope, makeEnvelope } from "../streams/envelope.js";
import { STREAMS } from "../streams/stream-names.js";

/** The events receivers may subscribe to (issue 14, item 8). */
export const WEBHOOK_EVENT_TYPES = [
  "escalation.created",
  "escalation.resolved",
  "escalation.deadline",
  "appeal.opened",
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export interface WebhookEvent {
  type: WebhookEventType;
  traceId: string;
  trendId: string;
  /** The `data` object of the delivered body. */
  data: Record<string, unknown>;
}

/**
 * Writes a webhook event to the outbox in the transaction of the change it announces, so a
 * receiver hears of a committed change at least once and of a rolled-back one never. The
 * envelope id becomes the Standard Webhooks `webhook-id` (`msg_<id>`), the same on every retry
 * and replay, for receivers to deduplicate.
 */
export function enqueueWebhookEvent(
  trx: Transaction<Database> | Kysely<Database>,
  event: WebhookEvent,
): Promise<string> {
  return enqueueOutbox(trx, STREAMS.webhooks, webhookEventEnvelope(event));
}

/** The outbox envelope of a webhook event (for batch writers that insert many in one statement). */
export function webhookEventEnvelope(event: WebhookEvent): Envelope {
  return makeEnvelope(event.type, {
    traceId: event.traceId,
    trendId: event.trendId,
    payload: event.data,
  });
}
