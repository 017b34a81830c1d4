/** subscribe() after close(): the process is shutting down. */
export class PubSubClosedError extends Error {
  readonly code = "PUBSUB_CLOSED";
  constructor() {
    super("the stream pubsub is closed");
    this.name = "PubSubClosedError";
  }
}
