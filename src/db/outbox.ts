import { type Kysely, sql, type Transaction } from "kysely";

import { toValidJson } from "../domain/valid-text.js";
import type { Envelope } from "../streams/envelope.js";
import type { Database } from "./types.js";

/**
 * Writes an event to the transactional outbox. Call it with the transaction that makes the
 * change the event announces: the row commits (and is later relayed to `stream` by
 * {@link OutboxRelay}) exactly when the change does, and vanishes with it on rollback.
 *
 * Returns the outbox row id, which `OutboxRelay.flush(ids)` accepts to publish right after commit.
 */
export async function enqueueOutbox(
  trx: Transaction<Database> | Kysely<Database>,
  stream: string,
  envelope: Envelope,
): Promise<string> {
  const row = await trx
    .insertInto("outbox")
    .values({ stream, payload: toValidJson(envelope) })
    .returning("id")
    .executeTakeFirstOrThrow();
  // bigint identity: pg returns it as a string, which keeps ids beyond 2^53 exact.
  return String(row.id);
}

/**
 * Writes several events in one statement, in the order given (ids ascend with it, and the relay
 * publishes by id, so per-stream order holds). Same transaction rule as {@link enqueueOutbox}.
 */
export async function enqueueOutboxMany(
  trx: Transaction<Database> | Kysely<Database>,
  events: readonly { stream: string; envelope: Envelope }[],
): Promise<string[]> {
  if (events.length === 0) return [];
  const { rows } = await sql<{ id: string }>`
    INSERT INTO outbox (stream, payload)
    SELECT v.stream, v.payload::jsonb
    FROM unnest(${events.map((e) => e.stream)}::text[], ${events.map((e) => toValidJson(e.envelope))}::text[])
      WITH ORDINALITY AS v(stream, payload, ord)
    ORDER BY v.ord
    RETURNING id`.execute(trx);
  return rows.map((r) => String(r.id));
}
