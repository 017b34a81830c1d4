import { Webhook } from "standardwebhooks";

import type { Envelope } from "../streams/envelope.js";

export type WebhookFormat = "standard" | "slack";

export interface SignedWebhook {
  id: string;
  body: string;
  headers: Record<string, string>;
}

/** `msg_<envelope id>`: stable across retries and replays of one event. */
export const webhookIdOf = (envelope: Envelope): string => `msg_${envelope.id}`;

/**
 * The body of one event, the same bytes on every attempt: `{ type, timestamp, data }` as the
 * Standard Webhooks specification recommends, with `timestamp` the time of the change. The
 * `slack` format adds `text`, which a Slack incoming webhook (or a compatible chat) shows.
 */
export function webhookBody(envelope: Envelope, format: WebhookFormat): string {
  const standard = { type: envelope.type, timestamp: envelope.createdAt, data: envelope.payload };
  if (format === "standard") return JSON.stringify(standard);
  return JSON.stringify({ text: slackText(envelope), ...standard });
}

function slackText(envelope: Envelope): string {
  const d = envelope.payload as Record<string, unknown>;
  const what = [
    d.issueType && `issue ${String(d.issueType)}`,
    d.decision && `decision ${String(d.decision)}`,
    d.reasonCode && `reason ${String(d.reasonCode)}`,
    d.rule && `rule ${String(d.rule)}`,
  ]
    .filter(Boolean)
    .join(", ");
  return `Trendgate ${envelope.type}: trend ${String(d.trendId ?? envelope.trendId ?? "?")}${what ? ` (${what})` : ""}`;
}

/**
 * Signs one attempt with the `standardwebhooks` library (the specification's reference
 * implementation): `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">` under the
 * `whsec_` secret, `webhook-timestamp` the attempt's Unix seconds (receivers refuse stale ones).
 */
export class WebhookSigner {
  private readonly webhook: Webhook;

  constructor(secret: string) {
    this.webhook = new Webhook(secret);
  }

  sign(envelope: Envelope, format: WebhookFormat, now: Date): SignedWebhook {
    const id = webhookIdOf(envelope);
    const body = webhookBody(envelope, format);
    const timestamp = new Date(Math.floor(now.getTime() / 1000) * 1000);
    return {
      id,
      body,
      headers: {
        "content-type": "application/json",
        "webhook-id": id,
        "webhook-timestamp": String(timestamp.getTime() / 1000),
        "webhook-signature": this.webhook.sign(id, timestamp, body),
        "user-agent": "trendgate-webhooks",
      },
    };
  }
}
