import { Presets, SingleBar } from "cli-progress";
import { Redis } from "ioredis";

import type { Config } from "../config.js";
import { openDatabase } from "../db/database.js";
import { DomainError } from "../domain/domain-error.js";
import { createLogger } from "../observability/logger.js";
import { ActiveJudgePolicy } from "../pipeline/judge/active-policy.js";
import { readConfiguredPolicy } from "../pipeline/judge/configured-policy.js";
import { createStageDeps } from "../pipeline/stage-deps.js";
import { migrate } from "../startup-checks.js";
import { StreamKeys } from "../streams/stream-names.js";
import { type DeadLetterEntry, DeadLetterService } from "./dead-letter-service.js";
import { DryRunner } from "./dlq-dry-run.js";

/** What `trendgate dlq` parses from its command line. */
export interface DlqOptions {
  stream: string;
  id?: string[];
  since?: Date;
  until?: Date;
  error?: string;
  dryRun?: boolean;
  json?: boolean;
}

/** `trendgate dlq list|replay|purge`: the operator's dead-letter tool. */
export async function runDlqCommand(
  config: Config,
  action: string,
  opts: DlqOptions,
): Promise<void> {
  if (!["list", "replay", "purge"].includes(action)) {
    throw new DomainError(
      "BAD_USER_INPUT",
      `unknown dlq action "${action}"; use list, replay or purge`,
      { field: "action" },
    );
  }
  const logger = createLogger("warn");
  await migrate(config, logger);
  const database = openDatabase(config.DATABASE_URL, { max: 2 });
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 2 });
  const keys = new StreamKeys(config.STREAM_PREFIX);
  const service = new DeadLetterService({ redis, keys, db: database.db, logger });
  const out = (line: string) => process.stdout.write(`${line}\n`);
  try {
    const filter = { ids: opts.id, since: opts.since, until: opts.until, error: opts.error };
    const entries = await service.find(opts.stream, filter);
    if (action === "list") {
      if (opts.json) out(JSON.stringify(entries.map(publicEntry), null, 2));
      else {
        out(`${entries.length} dead letter(s) in ${opts.stream}`);
        for (const e of entries)
          out(
            `${e.id}  trend=${e.trendId ?? "-"}  attempts=${e.attempts}  last=${e.lastFailedAt?.toISOString() ?? "-"}  ${e.errorCode ?? ""} ${e.error}`,
          );
      }
      return;
    }
    if (entries.length === 0) {
      out(`no dead letters match in ${opts.stream}`);
      return;
    }
    if (action === "purge") {
      if (opts.dryRun) {
        out(`would purge ${entries.length} dead letter(s)`);
        return;
      }
      out(`purged ${await service.purge(opts.stream, filter)} dead letter(s)`);
      return;
    }
    const bar = process.stderr.isTTY
      ? new SingleBar(
          { format: "replay {bar} {value}/{total} {eta_formatted}" },
          Presets.shades_classic,
        )
      : undefined;
    const progress = (done: number, total: number) => {
      if (bar) {
        if (done === 1) bar.start(total, 0);
        bar.update(done);
      } else if (done === total || done % 50 === 0) {
        process.stderr.write(`replay ${done}/${total}\n`);
      }
    };
    if (opts.dryRun) {
      const policy = new ActiveJudgePolicy({
        db: database.db,
        ...readConfiguredPolicy(config, logger),
        logger,
      });
      const stageDeps = createStageDeps(config, database.db, logger, policy);
      const runner = new DryRunner(stageDeps, database.pool);
      const results = [];
      let done = 0;
      for (const entry of entries) {
        results.push(await runner.run(entry));
        progress(++done, entries.length);
      }
      bar?.stop();
      await stageDeps.close();
      if (opts.json) out(JSON.stringify(results, null, 2));
      else
        for (const r of results) {
          out(`${r.id}  trend=${r.trendId ?? "-"}  ${r.outcome}: ${r.message}`);
          for (const c of r.changes)
            out(`    ${c.field}: ${JSON.stringify(c.recorded)} -> ${JSON.stringify(c.wouldBe)}`);
        }
      return;
    }
    const result = await service.replay(opts.stream, {
      ids: entries.map((e) => e.id),
      actor: process.env.USER ?? "cli",
      onProgress: progress,
    });
    bar?.stop();
    out(
      `replayed ${result.replayed} dead letter(s)${result.skipped.length ? `; skipped ${result.skipped.join(", ")}` : ""}`,
    );
  } finally {
    redis.disconnect();
    await database.close();
  }
}

function publicEntry(e: DeadLetterEntry) {
  const { raw: _raw, ...rest } = e;
  return rest;
}
