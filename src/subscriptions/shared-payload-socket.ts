import { WebSocket } from "ws";

import type { SharedNextPayloads } from "./shared-next-payloads.js";

type SendCallback = (error?: Error) => void;
type SendOptions = Parameters<WebSocket["send"]>[1];

/**
 * The `ws` socket class the gateway's WebSocketServer creates (its `WebSocket` option): a text
 * message whose `next` payload was left as a marker by SharedNextPayloads goes out with the
 * payload bytes serialized once for all sockets. Every other message is sent untouched.
 */
export function sharedPayloadSocket(payloads: SharedNextPayloads): typeof WebSocket {
  return class SharedPayloadSocket extends WebSocket {
    override send(
      data: unknown,
      options?: SendOptions | SendCallback,
      callback?: SendCallback,
    ): void {
      const cb = typeof options === "function" ? options : callback;
      const opts = typeof options === "function" || options === undefined ? {} : options;
      const spliced = typeof data === "string" ? payloads.splice(data) : undefined;
      // A Buffer would go out as a binary frame: graphql-ws messages are text frames.
      if (spliced) super.send(spliced, { ...opts, binary: false }, cb);
      else super.send(data as string, opts, cb);
    }
  };
}
