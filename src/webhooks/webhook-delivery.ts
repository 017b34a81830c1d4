import type { Redis } from "ioredis";

import type { Logger } from "../observability/logger.js";
import type { StreamKeys } from "../streams/stream-names.js";
import type { JobHandler } from "../workers/runtime/stream-consumer.js";
import { type WebhookFormat, webhookIdOf, type WebhookSigner } from "./webhook-message.js";

/** Receivers that did not confirm (2xx) an event; the runtime retries, then dead-letters. */
export class WebhookDeliveryError extends Error {
  readonly code = "WEBHOOK_DELIVERY_FAILED";
  constructor(readonly failures: { url: string; reason: string }[]) {
    super(`webhook not confirmed by ${failures.map((f) => `${f.url} (${f.reason})`).join(", ")}`);
    this.name = "WebhookDeliveryError";
  }
}

/** How long a receiver's confirmation of an event id is remembered (replays within it skip that receiver). */
const CONFIRMED_TTL_S = 7 * 24 * 3600;

export interface WebhookDeliveryDeps {
  redis: Redis;
  keys: StreamKeys;
  urls: readonly string[];
  signer: WebhookSigner;
  format: WebhookFormat;
  timeoutMs: number;
  logger: Logger;
  /** The attempt's clock (signature timestamps); tests pin it. */
  now?: () => Date;
  fetch?: typeof fetch;
}

/**
 * Delivers one event to every configured receiver that has not confirmed it yet. Confirmations
 * are remembered per event id in Redis, so a retry or a replay after a receiver's outage does not
 * re-send to the receivers that already have it; one whose confirmation was lost gets it again
 * (at least once, with the same `webhook-id` to deduplicate on). Each attempt is signed afresh.
 */
export function createWebhookDeliveryHandler(deps: WebhookDeliveryDeps): JobHandler {
  const now = deps.now ?? (() => new Date());
  const post = deps.fetch ?? fetch;
  return async (job, signal) => {
    const id = webhookIdOf(job.envelope);
    const confirmedKey = deps.keys.key(`webhook:confirmed:${id}`);
    const confirmed = new Set(await deps.redis.smembers(confirmedKey));
    const failures: { url: string; reason: string }[] = [];
    for (const url of deps.urls) {
      if (confirmed.has(url)) continue;
      const message = deps.signer.sign(job.envelope, deps.format, now());
      try {
        const res = await post(url, {
          method: "POST",
          headers: message.headers,
          body: message.body,
          signal: AbortSignal.any([signal, AbortSignal.timeout(deps.timeoutMs)]),
          redirect: "manual",
        });
        await res.body?.cancel().catch(() => undefined);
        if (res.status < 200 || res.status > 299) {
          failures.push({ url, reason: `HTTP ${res.status}` });
          continue;
        }
        await deps.redis
          .multi()
          .sadd(confirmedKey, url)
          .expire(confirmedKey, CONFIRMED_TTL_S)
          .exec();
      } catch (error) {
        failures.push({
          url,
          reason: (error as Error).name === "TimeoutError" ? "timeout" : (error as Error).message,
        });
      }
    }
    if (failures.length) {
      deps.logger.debug(
        { webhook_id: id, type: job.envelope.type, attempt: job.attempt, failures },
        "webhook delivery failed",
      );
      throw new WebhookDeliveryError(failures);
    }
  };
}
