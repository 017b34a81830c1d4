/**
 * The Redis streams of the pipeline (DESIGN.md). Every key is prefixed with STREAM_PREFIX so
 * deployments and test files can share one Redis without seeing each other's entries.
 */
export const STREAMS = {
  ingest: "trend:ingest:stream",
  embeddingJobs: "trend:embedding:jobs",
  embeddingDlq: "trend:embedding:dlq",
  ingestDlq: "trend:ingest:dlq",
  judgeJobs: "trend:judge:jobs",
  judgeDlq: "trend:judge:dlq",
  publishJobs: "trend:publish:jobs",
  publishDlq: "trend:publish:dlq",
  escalations: "judge:escalations",
  resolutions: "hitl:resolution",
  trendUpdates: "trend:updates",
  operatorAlerts: "operator:alerts",
  /** Signed webhook events (src/webhooks), written through the outbox with their change. */
  webhooks: "webhook:events",
  webhookDlq: "webhook:dlq",
} as const;

export type StreamName = (typeof STREAMS)[keyof typeof STREAMS];

/** Consumer groups, one per stage (src/pipeline/registry.ts pairs them with their streams). */
export const GROUPS = {
  etl: "etl",
  embedding: "embedding",
  judge: "judge",
  publisher: "publisher",
  webhooks: "webhooks",
} as const;

/** Keys for a given prefix. */
export class StreamKeys {
  constructor(readonly prefix: string) {}
  key(name: string): string {
    return `${this.prefix}${name}`;
  }
  /** The logical name of a prefixed key, or undefined when it is not ours. */
  nameOf(key: string): string | undefined {
    return key.startsWith(this.prefix) ? key.slice(this.prefix.length) : undefined;
  }
}
