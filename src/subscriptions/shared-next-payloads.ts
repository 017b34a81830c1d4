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
 * - makeServer's `jsonMessageReplacer` (this class's `replacer`) is called first with the whole
 *   message (key ""): for a `next` carrying a shared result it keeps the message aside and
 *   returns one constant marker, so the per-socket stringify writes a dozen bytes and walks
 *   nothing;
 * - makeServer then calls the socket's `send` synchronously, in the same turn, and the socket
 *   class (shared-payload-socket.ts) asks `take` for the message the marker stands for and
 *   writes it as one text frame: the head with this socket's subscription id, then the payload
 *   bytes serialized once for the group.
 * The bytes on the wire are exactly what graphql-ws would have sent (`{"id":…,"type":"next",
 * "payload":…}`, its message literal's key order), so clients see no difference.
 */
export class SharedNextPayloads {
  private readonly shared = new WeakSet<object>();
  /** The payload's JSON and the message's closing brace, once per shared result. */
  private readonly tails = new WeakMap<object, Buffer>();
  /** The message the last marker stood for, waiting for the send that follows it. */
  private pending: SharedNext | undefined;
  private serialized = 0;
  private writtenAhead = 0;
  private readonly subscribers = new WeakMap<object, AheadSubscriber>();

  /** Marks a result that several subscribers receive as the same object. */
  share<T extends object>(result: T): T {
    this.shared.add(result);
    return result;
  }

  isShared(value: unknown): value is object {
    return typeof value === "object" && value !== null && this.shared.has(value);
  }

  /**
   * Names the socket and subscription id a subscriber's context belongs to (graphql-ws's
   * `context` hook), so a shared result can be written ahead to that socket (writeAhead).
   */
  attach<T extends object>(context: T, socket: unknown, id: string): T {
    if (isAheadWriter(socket)) this.subscribers.set(context, { socket, id, written: undefined });
    return context;
  }

  /** The subscriber a context was attached to, if its socket can take a write-ahead. */
  subscriberOf(context: unknown): AheadSubscriber | undefined {
    return typeof context === "object" && context !== null
      ? this.subscribers.get(context)
      : undefined;
  }

  /**
   * Writes a shared result's `next` message now to every subscriber waiting on exactly that
   * result (see SharedSubscriptions): one synchronous loop over pre-built frames. Each written
   * subscriber gets its write in `written`; its iterator waits on that and does not yield the
   * result, so graphql-ws's per-subscriber steps (iterator, onNext, stringify, send) do not run
   * for it at all. Returns how many were written.
   */
  writeAhead(result: object, waiting: readonly AheadSubscriber[]): number {
    if (!this.isShared(result) || hasErrors(result)) return 0;
    const tail = this.tailOf(result);
    let written = 0;
    for (const subscriber of waiting) {
      const write = subscriber.socket.writeAhead({ id: subscriber.id, tail });
      if (write !== undefined) {
        subscriber.written = write;
        written++;
      }
    }
    this.writtenAhead += written;
    return written;
  }

  /** Messages written ahead of graphql-ws's send so far. */
  get writesAhead(): number {
    return this.writtenAhead;
  }

  /** Payloads serialized so far (each once, however many sockets sent it). */
  get serializations(): number {
    return this.serialized;
  }

  /** graphql-ws's `jsonMessageReplacer` (called for every key of every message it sends). */
  readonly replacer = (key: string, value: unknown): unknown => {
    if (key !== "" || !isNextMessage(value) || !this.isShared(value.payload)) return value;
    this.pending = { id: value.id, tail: this.tailOf(value.payload) };
    return MARKER;
  };

  /**
   * The shared `next` message `data` stands for; undefined when `data` is not the marker (every
   * other message goes out as graphql-ws made it).
   */
  take(data: string): SharedNext | undefined {
    const pending = this.pending;
    this.pending = undefined;
    return data === MARKER_TEXT ? pending : undefined;
  }

  private tailOf(payload: object): Buffer {
    let tail = this.tails.get(payload);
    if (!tail) {
      tail = Buffer.from(`${JSON.stringify(payload)}}`);
      this.tails.set(payload, tail);
      this.serialized++;
    }
    return tail;
  }
}

/** One socket's `next` message: its subscription id, and the group's payload bytes. */
export interface SharedNext {
  id: string;
  /** `<payload JSON>}`: the same Buffer for every socket of the share group. Never mutate. */
  tail: Buffer;
}

/** A socket that can write a shared `next` before graphql-ws sends it (SharedPayloadSocket). */
export interface AheadWriter {
  writeAhead(next: SharedNext): Promise<void> | undefined;
}

/** One subscription of a socket, as a write-ahead target. */
export interface AheadSubscriber {
  socket: AheadWriter;
  id: string;
  /** The write of the result just written ahead, for its iterator to wait on instead of yielding. */
  written: Promise<void> | undefined;
}

function isAheadWriter(socket: unknown): socket is AheadWriter {
  return (
    typeof socket === "object" &&
    socket !== null &&
    typeof (socket as { writeAhead?: unknown }).writeAhead === "function"
  );
}

/** What the gateway's onNext checks too: a result with errors is sent as its formatted copy. */
function hasErrors(result: object): boolean {
  const errors = (result as { errors?: readonly unknown[] }).errors;
  return errors !== undefined && errors.length > 0;
}

/** `{"id":<id>,"type":"next","payload":`, the part of the message that is the socket's own. */
export function nextHead(id: string): string {
  return `{"id":${JSON.stringify(id)},"type":"next","payload":`;
}

/** The whole message as bytes (for sockets that cannot take a pre-built frame). */
export function nextMessage(next: SharedNext): Buffer {
  const head = Buffer.from(nextHead(next.id));
  return Buffer.concat([head, next.tail], head.length + next.tail.length);
}

// A NUL cannot appear unescaped in JSON text, so no message graphql-ws makes can equal this text.
const MARKER = "\u0000tg-shared-next";
const MARKER_TEXT = JSON.stringify(MARKER);

function isNextMessage(value: unknown): value is { id: string; type: "next"; payload: unknown } {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as { type?: unknown }).type === "next" &&
    typeof (value as { id?: unknown }).id === "string"
  );
}
