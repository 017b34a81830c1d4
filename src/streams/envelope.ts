import { randomUUID } from "node:crypto";

import { z } from "zod";

import { currentTraceparent } from "../observability/tracing.js";

/**
 * What every stream entry carries (docs/PROTOCOL.md). Entries have two fields: `envelope`, this
 * object as JSON, and `attempt` (always 1 when written: retries keep the entry in place and count
 * attempts per consumer group).
 */
export const envelopeSchema = z.object({
  /** Unique per event; a redelivered or retried entry keeps it. */
  id: z.string().min(1),
  type: z.string().min(1),
  traceId: z.string().min(1),
  /** W3C traceparent of the span that produced the event, so the consumer's span joins the trace. */
  traceparent: z.string().optional(),
  trendId: z.string().optional(),
  createdAt: z.string(),
  payload: z.record(z.string(), z.unknown()).default({}),
});

export type Envelope = z.infer<typeof envelopeSchema>;

export function makeEnvelope(
  type: string,
  fields: {
    traceId: string;
    trendId?: string;
    traceparent?: string;
    payload?: Record<string, unknown>;
  },
): Envelope {
  return {
    id: randomUUID(),
    type,
    traceId: fields.traceId,
    // The span that writes the event becomes the parent of the span that handles it.
    traceparent: fields.traceparent ?? sameTrace(currentTraceparent(), fields.traceId),
    trendId: fields.trendId,
    createdAt: new Date().toISOString(),
    payload: fields.payload ?? {},
  };
}

/** A stream entry that cannot be understood; never retried (straight to the dead letters). */
export class MalformedEntryError extends Error {
  readonly code = "MALFORMED_ENTRY";
  constructor(message: string) {
    super(message);
    this.name = "MalformedEntryError";
  }
}

/** Parses the `envelope` field of a stream entry, or throws {@link MalformedEntryError}. */
export function parseEnvelope(raw: string | undefined): Envelope {
  if (raw === undefined) throw new MalformedEntryError("entry has no envelope field");
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new MalformedEntryError("envelope is not valid JSON");
  }
  const parsed = envelopeSchema.safeParse(json);
  if (!parsed.success) {
    throw new MalformedEntryError(
      `envelope does not match the protocol: ${parsed.error.issues
        .map((i) => `${i.path.join(".") || "(root)"} ${i.message}`)
        .join("; ")}`,
    );
  }
  return parsed.data;
}

/** Redis returns fields as a flat [k1, v1, k2, v2] list. */
export function fieldsToRecord(fields: string[]): Record<string, string> {
  const record: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) record[fields[i]!] = fields[i + 1]!;
  return record;
}

function sameTrace(traceparent: string | undefined, traceId: string): string | undefined {
  return traceparent?.slice(3, 35) === traceId ? traceparent : undefined;
}
