export interface PublishRequest {
  trendId: string;
  title: string;
  summary: string;
  topics: string[];
  url?: string | null;
  body?: string;
  idempotencyKey: string;
  approvalPath: "judge" | "moderator" | "override";
}

export interface PublishResult {
  externalRef: string;
  duplicate: boolean;
  /** Tool that was called. */
  tool: string;
  /** Which adapter answered: `mcp-stdio:<server name>`, `mcp-http:<server name>` or `in-process:<name>`. */
  adapter: string;
  /** The arguments exactly as sent, for provenance. */
  arguments: Record<string, unknown>;
  /** The tool result as received. */
  raw: unknown;
}

/** Publishes approved items; implementations differ only in how they reach the tool. */
export interface Publisher {
  readonly adapter: string;
  /** Throws {@link PublishError}. Safe to repeat: the idempotency key makes it publish once. */
  publish(req: PublishRequest): Promise<PublishResult>;
  close(): Promise<void>;
}

/**
 * The publish tool's arguments, as both the MCP and the in-process publisher send them.
 * `url: null` means "no link": omit it rather than send a null the schema refuses.
 */
export function publishArguments(req: PublishRequest): Record<string, unknown> {
  const args: Record<string, unknown> = {
    trendId: req.trendId,
    title: req.title,
    summary: req.summary,
    topics: req.topics,
    idempotencyKey: req.idempotencyKey,
    approvalPath: req.approvalPath,
  };
  if (req.url !== undefined && req.url !== null) args.url = req.url;
  if (req.body !== undefined) args.body = req.body;
  return args;
}
