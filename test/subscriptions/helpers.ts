import { setTimeout as delay } from "node:timers/promises";

import { makeEnvelope } from "../../src/streams/envelope.js";
import type { StreamProducer } from "../../src/streams/producer.js";
import type { StreamEvent } from "../../src/subscriptions/stream-event.js";

/** The next `n` items of an iterator (the test timeout catches a hang). */
export async function take(
  iterator: AsyncIterator<StreamEvent>,
  n: number,
): Promise<StreamEvent[]> {
  const out: StreamEvent[] = [];
  while (out.length < n) {
    const r = await iterator.next();
    if (r.done) throw new Error(`iterator ended after ${out.length} of ${n} items`);
    out.push(r.value);
  }
  return out;
}

export function cursors(events: StreamEvent[]): string[] {
  return events.map((e) => e.cursor);
}

/** Appends `n` envelopes of `type` one by one; returns their ids. */
export async function addEvents(
  producer: StreamProducer,
  stream: string,
  n: number,
  type = "escalation.created",
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    ids.push(await producer.add(stream, makeEnvelope(type, { traceId: `t-${i}`, payload: { i } })));
  }
  return ids;
}

export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  what: string,
): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (await condition()) return;
    await delay(10);
  }
  throw new Error(`timed out waiting until ${what}`);
}
