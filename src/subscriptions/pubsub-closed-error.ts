import { DomainError } from "../domain/domain-error.js";

/** subscribe() after close(): this process is shutting down; a client retries elsewhere. */
export class PubSubClosedError extends DomainError {
  constructor() {
    super("UNAVAILABLE", "subscriptions are closed: the gateway is shutting down", {
      reason: "PUBSUB_CLOSED",
    });
    this.name = "PubSubClosedError";
  }
}
