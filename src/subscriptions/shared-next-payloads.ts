/**
 * Serializes the `payload` of a graphql-ws `next` message once per shared result, for every
 * socket that sends it (issue 15). graphql-ws's server (makeServer) builds
 * `{ id, type: "next", payload }` per subscriber and JSON.stringifies all of it per socket: at
 * 10,000 subscribers of one live event that is 10,000 serializations of the same result.
 *
 * How it fits into graphql-ws without forking it:
 * - `onNext` returns the shared result object itself (SharedSubscriptions hands the same object
 *   to every subscriber with the same document, variables and role), so makeServer puts that
 *   very object in the message;
 * - makeServer's `jsonMessageReplacer` (this class's `replacer`) sees that object under the
 *   top-level `payload` key and swaps in a short marker, so the per-socket stringify only
 *   writes `{"id":"…","type":"next","payload":"<marker>"}`;
 * - makeServer then calls the socket's `send` synchronously, in the same turn, and the socket
 *   class (shared-payload-socket.ts) asks `splice` for the finished message: the head it was
 *   given, the payload bytes serialized once, and the closing brace, as one text frame.
 * The bytes on the wire are exactly what graphql-ws would have sent (payload last, as its
 * message literal orders the keys), so clients see no difference.
 */
export class SharedNextPayloads {
  private readonly shared = new WeakSet<object>();
  private readonly bytes = new WeakMap<object, Buffer>();
  /** The payload the last stringify replaced, waiting for the send that follows it. */
  private pending: { suffix: string; bytes: Buffer } | undefined;
  private markers = 0;
  private serialized = 0;

  /** Marks a result that several subscribers receive as the same object. */
  share<T extends object>(result: T): T {
    this.shared.add(result);
    return result;
  }

  isShared(value: unknown): value is object {
    return typeof value === "object" && value !== null && this.shared.has(value);
  }

  /** Payloads serialized so far (each once, however many sockets sent it). */
  get serializations(): number {
    return this.serialized;
  }

  /** graphql-ws's `jsonMessageReplacer` (called for every key of every message it sends). */
  readonly replacer = (key: string, value: unknown): unknown => {
    if (key !== "payload" || !this.isShared(value)) return value;
    let bytes = this.bytes.get(value);
    if (!bytes) {
      bytes = Buffer.from(JSON.stringify(value));
      this.bytes.set(value, bytes);
      this.serialized++;
    }
    // A NUL cannot appear unescaped in JSON text, so no user string can forge this marker.
    const marker = `\u0000tg-next-${++this.markers}`;
    this.pending = { suffix: `"payload":${JSON.stringify(marker)}}`, bytes };
    return marker;
  };

  /**
   * The message `data` stands for, with the shared payload in place of its marker; undefined when
   * `data` carries no marker (every other message goes out as graphql-ws made it).
   */
  splice(data: string): Buffer | undefined {
    const pending = this.pending;
    this.pending = undefined;
    if (!pending || !data.endsWith(pending.suffix)) return undefined;
    const head = Buffer.from(`${data.slice(0, -pending.suffix.length)}"payload":`);
    return Buffer.concat([head, pending.bytes, CLOSE], head.length + pending.bytes.length + 1);
  }
}

const CLOSE = Buffer.from("}");
