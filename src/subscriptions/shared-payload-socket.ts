import type { Writable } from "node:stream";

import { WebSocket } from "ws";

import {
  nextHead,
  nextMessage,
  type SharedNext,
  type SharedNextPayloads,
} from "./shared-next-payloads.js";
import { textFrame } from "./text-frame.js";

type SendCallback = (error?: Error) => void;
type SendOptions = Parameters<WebSocket["send"]>[1];

const WRITTEN = Promise.resolve();
const NOTHING = Buffer.alloc(0);

/** Settles once everything queued on `tcp` so far has reached the kernel (writes keep order). */
function flushed(tcp: Writable): Promise<void> {
  return new Promise((resolve, reject) =>
    tcp.write(NOTHING, (error) => (error ? reject(error) : resolve())),
  );
}

/**
 * The parts of ws 8's Sender (lib/sender.js) the fast path relies on. `sendFrame` is what ws's own
 * `send` ends in: it writes a finished frame to the TCP socket. It may only be called while the
 * sender is idle (`_state` 0: not deflating, not reading a Blob) and between messages
 * (`_firstFragment`), otherwise the frame would overtake or split a message ws has queued.
 */
interface WsSender {
  _state: number;
  _firstFragment: boolean;
  sendFrame(list: Buffer[], cb?: SendCallback): void;
}

/**
 * The `ws` socket class the gateway's WebSocketServer creates (its `WebSocket` option): a shared
 * `next` message (see SharedNextPayloads) goes out as a text frame built here (textFrame: the
 * socket's own head, then the group's payload bytes) and handed to the TCP socket in one write,
 * skipping graphql-ws's per-socket serialization and ws's per-send option objects and
 * two-buffer writev. Every other message is sent through ws untouched.
 *
 * Falls back to ws's `send` (same bytes, framed by ws) when the frame cannot be pre-built: a
 * negotiated permessage-deflate (ws must compress it), a socket not open, or a sender that is
 * busy. The send callback is ws's, so graphql-ws still waits for each message to reach the
 * kernel before the next of that subscription (its per-subscription backpressure), and
 * `bufferedAmount` still counts what is queued.
 */
export function sharedPayloadSocket(payloads: SharedNextPayloads): typeof WebSocket {
  return class SharedPayloadSocket extends WebSocket {
    /** No extension negotiated (they are fixed at the handshake; ws's getter joins them anew). */
    private plain: boolean | undefined;
    /** The last subscription id's message head: a socket mostly carries one subscription. */
    private headId: string | undefined;
    private head: Buffer | undefined;

    /**
     * Writes a shared `next` now, in place of graphql-ws's send of it (SharedSubscriptions calls
     * it when the group's result resolves, for subscribers whose iterator is waiting on exactly
     * that result, so every earlier message of the subscription has already been written; the
     * iterator then waits on the returned write instead of yielding the result to graphql-ws).
     * Settles once the frame has reached the kernel (at once when the write went straight in),
     * as graphql-ws's send does, so the subscription's next message still waits for this one.
     * Undefined, and nothing written, when the frame cannot be pre-built now: the result then
     * goes through graphql-ws. Relies on ws's `_socket` (the TCP socket) beside its sender.
     */
    writeAhead(next: SharedNext): Promise<void> | undefined {
      const sender = this.idleSender();
      if (sender === undefined) return undefined;
      const frame = this.frameOf(next);
      const tcp = (this as unknown as { _socket: Writable })._socket;
      if (tcp.writableLength > 0) {
        // Bytes wait in Node's queue already: this write settles with its own callback.
        return new Promise((resolve, reject) =>
          sender.sendFrame(frame, (error) => (error ? reject(error) : resolve())),
        );
      }
      // Nearly always the write goes straight into the kernel: then there is nothing to wait
      // for, and no promise and callback per socket (at 10,000 subscribers of one event, without
      // them delivery p99 fell from ~191 to ~166 ms and peak RSS by ~5 %, fanout.ts). What the
      // kernel did not take waits in Node's queue; an empty write settles after it.
      sender.sendFrame(frame);
      return tcp.writableLength === 0 ? WRITTEN : flushed(tcp);
    }

    override send(
      data: unknown,
      options?: SendOptions | SendCallback,
      callback?: SendCallback,
    ): void {
      const next = typeof data === "string" ? payloads.take(data) : undefined;
      if (next === undefined) {
        super.send(data as string, options as SendOptions, callback);
        return;
      }
      const cb = typeof options === "function" ? options : callback;
      const sender = this.idleSender();
      if (sender !== undefined) {
        sender.sendFrame(this.frameOf(next), cb);
        return;
      }
      // A Buffer would go out as a binary frame: graphql-ws messages are text frames.
      const opts = typeof options === "function" || options === undefined ? {} : options;
      super.send(nextMessage(next), { ...opts, binary: false }, cb);
    }

    /** ws's sender when a pre-built frame may be written now (see WsSender), else undefined. */
    private idleSender(): WsSender | undefined {
      const sender = (this as unknown as { _sender: WsSender | null })._sender;
      return this.readyState === WebSocket.OPEN &&
        (this.plain ??= this.extensions === "") &&
        sender !== null &&
        sender._state === 0 &&
        sender._firstFragment
        ? sender
        : undefined;
    }

    private frameOf(next: SharedNext): Buffer[] {
      if (this.head === undefined || this.headId !== next.id) {
        this.head = Buffer.from(nextHead(next.id));
        this.headId = next.id;
      }
      return textFrame(this.head, next.tail);
    }
  };
}
