import {
  DEFAULT_ADAPTER_NAME,
  PUBLISH_TOOL_NAME,
  type PublishAdapterOptions,
} from "./publish-adapter-server.js";
import { PublishError } from "./publish-error.js";
import { parsePublishInput, PublishSink, PublishSinkError } from "./publish-sink.js";
import { publishArguments, type Publisher } from "./publisher.js";

/**
 * The same tool logic as the adapter, called directly: no process, no protocol. For the
 * benchmark, tests, and deployments that do not want a separate adapter.
 */
export function createInProcessPublisher(options: PublishAdapterOptions): Publisher {
  const sink = new PublishSink({
    jsonlPath: options.jsonlPath,
    webhookUrl: options.webhookUrl,
    indexPath: options.indexPath,
    onWarning: options.onWarning,
  });
  const adapter = `in-process:${options.name ?? DEFAULT_ADAPTER_NAME}`;
  return {
    adapter,
    async publish(req) {
      const args = publishArguments(req);
      try {
        const outcome = await sink.publish(parsePublishInput(args));
        return { ...outcome, tool: PUBLISH_TOOL_NAME, adapter, arguments: args, raw: outcome };
      } catch (err) {
        if (err instanceof PublishSinkError) {
          throw new PublishError("PUBLISH_REJECTED", `${err.code}: ${err.message}`, err.retryable, {
            adapterCode: err.code,
            ...err.data,
          });
        }
        throw new PublishError(
          "PUBLISH_REJECTED",
          (err as Error).message,
          true,
          {},
          { cause: err },
        );
      }
    },
    async close() {},
  };
}
