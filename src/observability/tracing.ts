import {
  type Context,
  context,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
} from "@opentelemetry/api";

import { randomHex } from "./random-hex.js";

/**
 * OpenTelemetry tracing (DESIGN.md "Tracing"). An item's trace id is the one minted at ingest
 * (32 hex characters, W3C-compatible), and every stream entry carries the W3C traceparent of
 * the span that produced it, so one trace follows an item across the gateway and every worker
 * process. Spans are exported over OTLP/HTTP only when OTEL_EXPORTER_OTLP_ENDPOINT is set;
 * without it the API is a no-op that still propagates ids.
 */
const tracer = () => trace.getTracer("trendgate");

export interface Tracing {
  enabled: boolean;
  /** Exports what is buffered (tests, shutdown). */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

let active: Tracing | undefined;

/**
 * Installs the exporter once per process; later calls return the same handle. The SDK is loaded
 * only when an endpoint is configured: a process that exports nothing does not carry it.
 */
export async function initTracing(options: {
  endpoint?: string;
  serviceName: string;
}): Promise<Tracing> {
  if (active) return active;
  if (!options.endpoint) {
    active = { enabled: false, flush: async () => undefined, shutdown: async () => undefined };
    return active;
  }
  const [
    { OTLPTraceExporter },
    { resourceFromAttributes },
    { BatchSpanProcessor, NodeTracerProvider },
  ] = await Promise.all([
    import("@opentelemetry/exporter-trace-otlp-http"),
    import("@opentelemetry/resources"),
    import("@opentelemetry/sdk-trace-node"),
  ]);
  if (active) return active;
  const base = options.endpoint.replace(/\/+$/, "");
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      "service.name": options.serviceName,
      "process.pid": process.pid,
    }),
    spanProcessors: [
      new BatchSpanProcessor(
        new OTLPTraceExporter({ url: base.endsWith("/v1/traces") ? base : `${base}/v1/traces` }),
        {
          scheduledDelayMillis: 500,
        },
      ),
    ],
  });
  provider.register();
  active = {
    enabled: true,
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
  return active;
}

/** A context whose parent is the item's trace (from a traceparent, else from its trace id). */
export function itemContext(traceId: string, traceparent?: string): Context {
  const parsed = traceparent ? parseTraceparent(traceparent) : undefined;
  const spanContext = parsed ?? {
    traceId: /^[0-9a-f]{32}$/.test(traceId) ? traceId : randomHex(16),
    spanId: randomHex(8),
    traceFlags: TraceFlags.SAMPLED,
    isRemote: true,
  };
  return trace.setSpanContext(context.active(), spanContext);
}

type Attributes = Record<string, string | number | boolean | undefined>;

/** Runs `fn` in a span named `name` under the item's trace; records errors on the span. */
export function withItemSpan<T>(
  name: string,
  item: { traceId: string; traceparent?: string },
  attributes: Attributes,
  fn: (span: Span) => Promise<T>,
  kind: SpanKind = SpanKind.INTERNAL,
): Promise<T> {
  return tracer().startActiveSpan(
    name,
    { kind, attributes: clean(attributes) },
    itemContext(item.traceId, item.traceparent),
    (span) => endSpanAfter(span, fn),
  );
}

/**
 * Starts, without activating, a span under the item's trace, for work that handles many items
 * in one await (a batch): the caller ends it, and passes `traceparentOf(span)` to the events it
 * writes so the next stage's span joins the item's trace.
 */
export function startItemSpan(
  name: string,
  item: { traceId: string; traceparent?: string },
  attributes: Attributes,
  kind: SpanKind = SpanKind.INTERNAL,
): Span {
  return tracer().startSpan(
    name,
    { kind, attributes: clean(attributes) },
    itemContext(item.traceId, item.traceparent),
  );
}

/** A span child of `parent` (not the active span), started now; the caller ends it. */
export function startChildSpan(parent: Span, name: string, attributes: Attributes): Span {
  return tracer().startSpan(
    name,
    { attributes: clean(attributes) },
    trace.setSpan(context.active(), parent),
  );
}

/** The W3C traceparent of a span, for the stream entries written on its behalf. */
export function traceparentOf(span: Span): string | undefined {
  const sc = span.spanContext();
  if (!trace.isSpanContextValid(sc)) return undefined;
  return `00-${sc.traceId}-${sc.spanId}-0${(sc.traceFlags & TraceFlags.SAMPLED).toString(16)}`;
}

/** Ends a span, recording the error that ended its work, if any. */
export function endSpan(span: Span, error?: unknown): void {
  if (error) {
    span.recordException(error as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
  }
  span.end();
}

/** Runs `fn` in a child span of the active one (same trace). */
export function withChildSpan<T>(
  name: string,
  attributes: Attributes,
  fn: () => Promise<T>,
): Promise<T> {
  return tracer().startActiveSpan(name, { attributes: clean(attributes) }, (span) =>
    endSpanAfter(span, fn),
  );
}

async function endSpanAfter<T>(span: Span, fn: (span: Span) => Promise<T>): Promise<T> {
  try {
    return await fn(span);
  } catch (error) {
    span.recordException(error as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
    throw error;
  } finally {
    span.end();
  }
}

/** The W3C traceparent of the active span, for the stream entries it writes. */
export function currentTraceparent(): string | undefined {
  const sc = trace.getActiveSpan()?.spanContext();
  if (!sc || !trace.isSpanContextValid(sc)) return undefined;
  return `00-${sc.traceId}-${sc.spanId}-0${(sc.traceFlags & TraceFlags.SAMPLED).toString(16)}`;
}

export function parseTraceparent(value: string) {
  const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(value);
  if (!m) return undefined;
  return { traceId: m[1]!, spanId: m[2]!, traceFlags: Number.parseInt(m[3]!, 16), isRemote: true };
}

function clean(attributes: Attributes) {
  return Object.fromEntries(
    Object.entries(attributes).filter(([, v]) => v !== undefined),
  ) as Record<string, string | number | boolean>;
}
