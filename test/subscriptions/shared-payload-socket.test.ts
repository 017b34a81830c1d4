import { once } from "node:events";
import type { IncomingMessage } from "node:http";
import type { AddressInfo, Socket } from "node:net";

import { afterEach, describe, expect, it } from "vitest";
import * as ws from "ws";
import { WebSocket, WebSocketServer } from "ws";

import {
  type AheadSubscriber,
  type AheadWriter,
  SharedNextPayloads,
} from "../../src/subscriptions/shared-next-payloads.js";
import { sharedPayloadSocket } from "../../src/subscriptions/shared-payload-socket.js";
import { textFrame } from "../../src/subscriptions/text-frame.js";

/** ws exports its Sender (wrapper.mjs); @types/ws does not declare it. */
const { Sender } = ws as unknown as {
  Sender: { frame(data: Buffer, options: Record<string, unknown>): Buffer[] };
};

/** ws's own framing of the same text, the reference the hand-built frame must equal. */
function wsFrame(text: string): Buffer {
  const data = Buffer.from(text);
  return Buffer.concat(
    Sender.frame(data, { fin: true, opcode: 1, mask: false, readOnly: true, rsv1: false }),
  );
}

describe("textFrame", () => {
  it.each([
    ["a 7-bit length", 40],
    ["a 16-bit length", 2_000],
    ["a 64-bit length, tail not copied", 70_000],
  ])("should build the frame ws builds for %s", (_name, size) => {
    const head = '{"id":"é-1","type":"next","payload":';
    const tail = Buffer.from(`${JSON.stringify({ data: { s: "x".repeat(size) } })}}`);
    const frame = Buffer.concat(textFrame(Buffer.from(head), tail));
    expect(frame.equals(wsFrame(head + tail.toString()))).toBe(true);
  });

  it("should point every large frame at the shared tail instead of copying it", () => {
    const tail = Buffer.alloc(20_000, 0x61);
    const parts = textFrame(Buffer.from('{"id":"1","type":"next","payload":'), tail);
    expect(parts).toHaveLength(2);
    expect(parts[1]).toBe(tail);
  });
});

describe("sharedPayloadSocket", () => {
  const leftovers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of leftovers.splice(0)) await close();
  });

  /** A server of SharedPayloadSocket and one client; `received` collects the client's messages. */
  async function pair(perMessageDeflate: boolean) {
    const payloads = new SharedNextPayloads();
    const server = new WebSocketServer({
      port: 0,
      host: "127.0.0.1",
      perMessageDeflate: perMessageDeflate ? { threshold: 0 } : false,
      WebSocket: sharedPayloadSocket(payloads),
    });
    await once(server, "listening");
    const { port } = server.address() as AddressInfo;
    const client = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate });
    const [[socket, request]] = (await Promise.all([
      once(server, "connection"),
      once(client, "open"),
    ])) as [[WebSocket, IncomingMessage], unknown];
    /** Bytes the server has written to the TCP socket: what went over the wire. */
    const bytesWritten = () => request.socket.bytesWritten;
    const received: { text: string; isBinary: boolean }[] = [];
    let arrived: (() => void) | undefined;
    client.on("message", (data: Buffer, isBinary: boolean) => {
      received.push({ text: data.toString(), isBinary });
      arrived?.();
    });
    const until = async (n: number) => {
      while (received.length < n) await new Promise<void>((resolve) => (arrived = resolve));
    };
    leftovers.push(async () => {
      client.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    /** Sends a shared `next` the way graphql-ws does: stringify with the replacer, then send. */
    const sendNext = (id: string, result: object) =>
      new Promise<void>((resolve, reject) =>
        socket.send(
          JSON.stringify({ id, type: "next", payload: result }, payloads.replacer),
          (error) => (error ? reject(error) : resolve()),
        ),
      );
    return { payloads, socket, client, received, until, sendNext, bytesWritten };
  }

  it.each([
    ["pre-framed, uncompressed", false],
    ["through ws, when permessage-deflate is negotiated", true],
  ])(
    "should deliver the exact graphql-ws message text for each subscription id (%s)",
    async (_name, deflate) => {
      const { payloads, client, received, until, sendNext, bytesWritten } = await pair(deflate);
      expect(client.extensions).toBe(deflate ? "permessage-deflate" : "");
      const body = "x".repeat(20_000);
      const result = payloads.share({
        data: { trend: { id: "t1", title: 'quote " and é', body } },
      });
      const before = bytesWritten();
      await sendNext("first", result);
      await sendNext("sub-2", result);
      await until(2);
      // Compression, when negotiated, is kept: the 40 kB of text must cross compressed.
      const sent = bytesWritten() - before;
      if (deflate) expect(sent).toBeLessThan(2_000);
      else expect(sent).toBeGreaterThan(40_000);
      const expected = (id: string) => JSON.stringify({ id, type: "next", payload: result });
      expect(received).toEqual([
        { text: expected("first"), isBinary: false },
        { text: expected("sub-2"), isBinary: false },
      ]);
      expect(payloads.serializations).toBe(1);
    },
  );

  it("should find ws's sender internals the fast path relies on (else every send falls back)", async () => {
    const { socket } = await pair(false);
    const sender = (socket as unknown as { _sender: Record<string, unknown> })._sender;
    expect(sender).toMatchObject({ _state: 0, _firstFragment: true });
    expect(typeof sender.sendFrame).toBe("function");
  });

  it("should keep order behind a message ws has queued (a Blob being read)", async () => {
    const { payloads, socket, received, until, sendNext } = await pair(false);
    const result = payloads.share({ data: { n: 1 } });
    // ws reads a Blob asynchronously and queues what is sent meanwhile: the pre-built frame
    // must not overtake it.
    socket.send(new Blob(["before"]));
    await sendNext("1", result);
    await until(2);
    expect(received.map((r) => r.text)).toEqual([
      "before",
      JSON.stringify({ id: "1", type: "next", payload: result }),
    ]);
  });

  /** A subscription of `socket` as SharedSubscriptions sees it: a target for writes ahead. */
  const target = (socket: WebSocket, id: string): AheadSubscriber => ({
    socket: socket as unknown as AheadWriter,
    id,
    written: undefined,
  });

  it("should write a shared message ahead as the exact graphql-ws message, once per subscription", async () => {
    const { payloads, socket, received, until } = await pair(false);
    const result = payloads.share({ data: { n: 1 } });
    const targets = [target(socket, "x"), target(socket, "y")];
    expect(payloads.writeAhead(result, targets)).toBe(2);
    await Promise.all(targets.map((t) => t.written));
    await until(2);
    const message = (id: string) => JSON.stringify({ id, type: "next", payload: result });
    expect(received.map((r) => r.text)).toEqual([message("x"), message("y")]);
    expect(payloads.writesAhead).toBe(2);
    expect(payloads.serializations).toBe(1);
  });

  it("should settle a write ahead only once it has reached the kernel (graphql-ws's backpressure)", async () => {
    const { payloads, socket } = await pair(false);
    const result = payloads.share({ data: { n: 1 } });
    const order: string[] = [];
    // Cork: the write stays in Node's buffer, its callback waits for the uncork.
    const tcp = (socket as unknown as { _socket: Socket })._socket;
    tcp.cork();
    const subscriber = target(socket, "1");
    expect(payloads.writeAhead(result, [subscriber])).toBe(1);
    const written = subscriber.written!.then(() => order.push("written"));
    // A whole event loop turn: a write not held by the cork would have settled by now.
    await new Promise<void>((resolve) => setImmediate(resolve));
    order.push("uncork");
    tcp.uncork();
    await written;
    expect(order).toEqual(["uncork", "written"]);
  });

  it("should settle writes ahead queued behind bytes Node holds only after those bytes, in order", async () => {
    const { payloads, socket, received, until } = await pair(false);
    const first = payloads.share({ data: { n: 1 } });
    const second = payloads.share({ data: { n: 2 } });
    const tcp = (socket as unknown as { _socket: Socket })._socket;
    tcp.cork();
    const a = target(socket, "a");
    const b = target(socket, "b");
    // The first write stays in Node's queue (corked), so the second is written behind it.
    expect(payloads.writeAhead(first, [a])).toBe(1);
    expect(tcp.writableLength).toBeGreaterThan(0);
    expect(payloads.writeAhead(second, [b])).toBe(1);
    const settled: string[] = [];
    const both = Promise.all([
      a.written!.then(() => settled.push("a")),
      b.written!.then(() => settled.push("b")),
    ]);
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(settled).toEqual([]);
    tcp.uncork();
    await both;
    expect(settled).toEqual(["a", "b"]);
    await until(2);
    expect(received.map((r) => JSON.parse(r.text).id)).toEqual(["a", "b"]);
  });

  it("should refuse to write ahead behind a message ws has queued, so order is kept", async () => {
    const { payloads, socket, received, until, sendNext } = await pair(false);
    const result = payloads.share({ data: { n: 1 } });
    socket.send(new Blob(["before"]));
    const subscriber = target(socket, "1");
    expect(payloads.writeAhead(result, [subscriber])).toBe(0);
    expect(subscriber.written).toBeUndefined();
    await sendNext("1", result);
    await until(2);
    expect(received.map((r) => r.text)).toEqual([
      "before",
      JSON.stringify({ id: "1", type: "next", payload: result }),
    ]);
  });

  it("should not write ahead a result with errors (graphql-ws sends its formatted copy)", async () => {
    const { payloads, socket } = await pair(false);
    const failed = payloads.share({ data: null, errors: [{ message: "no" }] });
    expect(payloads.writeAhead(failed, [target(socket, "1")])).toBe(0);
  });

  it("should send messages that carry no shared result as graphql-ws made them", async () => {
    const { payloads, socket, received, until } = await pair(false);
    const own = { data: { n: 2 } };
    socket.send(JSON.stringify({ id: "9", type: "next", payload: own }, payloads.replacer));
    socket.send(JSON.stringify({ id: "9", type: "complete" }, payloads.replacer));
    await until(2);
    expect(received.map((r) => r.text)).toEqual([
      JSON.stringify({ id: "9", type: "next", payload: own }),
      JSON.stringify({ id: "9", type: "complete" }),
    ]);
    expect(payloads.serializations).toBe(0);
  });
});
