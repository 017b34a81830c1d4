import type { Redis } from "ioredis";

import type { Logger } from "../observability/logger.js";
import type { StreamKeys } from "../streams/stream-names.js";

/**
 * Tells every gateway process that a key was revoked (Redis pub/sub on `<prefix>auth:revoked`),
 * so each drops the key from its cache and closes its sockets with 4403 at once. Pub/sub is not
 * durable: a gateway that misses a message still re-checks every open socket's key each second
 * (SocketGuard), so the message makes revocation immediate and the re-check makes it certain.
 */
export class KeyRevocationBus {
  private subscriber: Promise<Redis> | undefined;
  private readonly handlers = new Set<(keyId: string) => void>();

  constructor(private readonly deps: { redis: Redis; keys: StreamKeys; logger: Logger }) {}

  private get channel(): string {
    return this.deps.keys.key("auth:revoked");
  }

  async announce(keyId: string): Promise<void> {
    await this.deps.redis.publish(this.channel, keyId);
  }

  /**
   * Calls `onRevoked` for every revocation announced from now on (by any process); returns the
   * function that stops it. One Redis connection serves every listener of the process.
   */
  async listen(onRevoked: (keyId: string) => void): Promise<() => void> {
    this.handlers.add(onRevoked);
    this.subscriber ??= (async () => {
      const subscriber = this.deps.redis.duplicate();
      subscriber.on("error", (error: unknown) =>
        this.deps.logger.warn({ err: error }, "revocation listener: redis error"),
      );
      subscriber.on("message", (channel: string, keyId: string) => {
        if (channel === this.channel) for (const handler of this.handlers) handler(keyId);
      });
      await subscriber.subscribe(this.channel);
      return subscriber;
    })();
    await this.subscriber;
    return () => this.handlers.delete(onRevoked);
  }

  async close(): Promise<void> {
    const subscriber = await this.subscriber?.catch(() => undefined);
    this.subscriber = undefined;
    this.handlers.clear();
    await subscriber?.quit().catch(() => subscriber.disconnect());
  }
}
