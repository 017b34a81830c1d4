/**
 * The moderator console in Chromium against a whole Trendgate (issue 7):
 *
 *   npx tsx bench/console/console-bench.ts [--items 200] [--rate 10] [--queue 10000] [--repeats 5]
 *
 * 1. Judge → visible: --items toxic posts are sent with `ingestTrend` at --rate per second (open
 *    loop); a moderator's page is open on the queue. For each escalation, latency = the moment
 *    a MutationObserver in the page sees its row (browser clock) minus the escalation's
 *    `created_at` (the Judge's transaction, Postgres clock; same machine). It covers the outbox
 *    relay, the stream, the gateway's pubsub and GraphQL execution, the socket and Preact's render.
 * 2. Queue render with --queue open escalations (seeded in SQL beside the ones from step 1): from
 *    the Sign in click to the count and the first page (100 rows) on screen, --repeats times in
 *    fresh browser contexts; then paging the whole queue into the page with "Load more".
 * 3. Judge → visible again with every one of the --queue rows in the page, for 20 items.
 *
 * Chromium: Debian's /usr/bin/chromium (scripts/ensure-chromium.sh). Results on stdout and in
 * bench/results/console.json. The console is built first when web/dist is missing or stale.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { cpus } from "node:os";
import { parseArgs } from "node:util";

import { sql } from "kysely";
import type { Browser, Page } from "playwright-core";

import {
  ensureConsoleBuilt,
  launchChromium,
  openConsole,
} from "../../test/console/support/console-harness.js";
import { type AppHarness, startHarness } from "../../test/support/app-harness.js";

const { values: args } = parseArgs({
  options: {
    items: { type: "string", default: "200" },
    rate: { type: "string", default: "10" },
    queue: { type: "string", default: "10000" },
    repeats: { type: "string", default: "5" },
  },
});
const ITEMS = Number(args.items);
const RATE = Number(args.rate);
const QUEUE = Number(args.queue);
const REPEATS = Number(args.repeats);

const POSTS = [
  "I will kill you if you show up here again",
  "Shut up you stupid moron, nobody asked for your garbage opinion",
  "You are a pathetic idiot and everyone hates you",
];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function summary(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? Number.NaN,
  };
}

/** Records when each queue row first appears, by escalation id, in the page's own clock. */
const OBSERVER = `(() => {
  window.__seen = {};
  const mark = () => {
    const now = Date.now();
    for (const el of document.querySelectorAll('[data-testid="queue-item"]')) {
      const id = el.getAttribute("data-id");
      if (id && !(id in window.__seen)) window.__seen[id] = now;
    }
  };
  new MutationObserver(mark).observe(document.body, { childList: true, subtree: true });
  mark();
})()`;

/** When a plain graphql-ws client in this process received each escalation: the page's baseline. */
const delivered = new Map<string, number>();

async function judgeToVisible(
  h: AppHarness,
  page: Page,
  count: number,
  rate: number,
  tag: string,
): Promise<{ page: number[]; client: number[] }> {
  const started = Date.now();
  const trendIds: string[] = [];
  const sends: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const due = started + (i * 1000) / rate;
    if (due > Date.now()) await sleep(due - Date.now());
    sends.push(
      h
        .gql<{ ingestTrend: { id: string } }>(
          `mutation($input: TrendInput!) { ingestTrend(input: $input) { id } }`,
          {
            input: {
              source: "bench-forum",
              externalId: `${tag}-${i}`,
              body: `${POSTS[i % POSTS.length]} (${tag} ${i})`,
            },
          },
          h.keys.integrator,
        )
        .then((r) => {
          if (!r.data) throw new Error(JSON.stringify(r.errors));
          trendIds.push(r.data.ingestTrend.id);
        }),
    );
  }
  await Promise.all(sends);
  const deadline = Date.now() + 180_000;
  for (;;) {
    const rows = await h.app.services.db
      .selectFrom("escalations")
      .select(["id", "created_at"])
      .where("trend_id", "in", trendIds)
      .execute();
    const seen = (await page.evaluate("window.__seen")) as Record<string, number>;
    if (rows.length === count && rows.every((r) => r.id in seen)) {
      return {
        page: rows.map((r) => seen[r.id]! - r.created_at.getTime()),
        client: rows
          .filter((r) => delivered.has(r.id))
          .map((r) => delivered.get(r.id)! - r.created_at.getTime()),
      };
    }
    if (Date.now() > deadline)
      throw new Error(
        `only ${rows.filter((r) => r.id in seen).length} of ${count} escalations became visible`,
      );
    await sleep(250);
  }
}

async function seedOpenEscalations(h: AppHarness, n: number): Promise<void> {
  if (n <= 0) return;
  // Older than everything else, so they fill the head of the oldest-first queue.
  await sql`
    WITH t AS (
      INSERT INTO enriched_trends (id, trace_id, source, external_id, title, body, status, toxicity_score, confidence, created_at, updated_at)
      SELECT gen_random_uuid(), md5(g::text), 'bench-seed', 'seed-' || g, 'Seeded item ' || g, 'Seeded escalation body ' || g,
             'ESCALATED', 0.9, 0.7, now() - make_interval(hours => 1, secs => g), now()
      FROM generate_series(1, ${n}) AS g
      RETURNING id, created_at
    )
    INSERT INTO escalations (id, trend_id, issue_type, reason, rule, scores, status, created_at)
    SELECT gen_random_uuid(), id, 'toxicity', 'seeded for the bench', 'toxicity_threshold', '{}'::jsonb, 'OPEN', created_at FROM t
  `.execute(h.app.services.db);
}

async function firstPage(browser: Browser, h: AppHarness, expected: number): Promise<number> {
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
  try {
    const page = await context.newPage();
    await page.goto(`${h.url}/console/`);
    await page.getByLabel("API key").fill(h.keys.moderator);
    const t0 = Date.now();
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForFunction(
      `document.querySelector('[data-testid="queue-count"]')?.textContent === "${expected}" && document.querySelectorAll('[data-testid="queue-item"]').length >= 100`,
      undefined,
      { polling: "raf", timeout: 60_000 },
    );
    return Date.now() - t0;
  } finally {
    await context.close();
  }
}

async function main() {
  await ensureConsoleBuilt();
  const h = await startHarness({ config: { LOG_LEVEL: "warn" } });
  const browser = await launchChromium();
  const result: Record<string, unknown> = {
    cpus: cpus().length,
    items: ITEMS,
    rate: RATE,
    queue: QUEUE,
  };
  try {
    const { page } = await openConsole(browser, h.url, h.keys.moderator);
    await page.locator('[data-testid="connection"][data-state="live"]').waitFor();
    await page.evaluate(OBSERVER);
    h.ws(h.keys.moderator).subscribe<{ escalationCreated: { id: string } }>(
      { query: "subscription { escalationCreated { id } }" },
      {
        next: (r) => r.data && delivered.set(r.data.escalationCreated.id, Date.now()),
        error: () => undefined,
        complete: () => undefined,
      },
    );

    console.log(`1. Judge → visible in the page, ${ITEMS} escalations at ${RATE}/s`);
    const first = await judgeToVisible(h, page, ITEMS, RATE, "a");
    const latency = summary(first.page);
    result.judgeToVisible = latency;
    result.judgeToClient = summary(first.client);
    console.table({
      "judge → visible in the page (ms)": latency,
      "judge → delivered to a Node graphql-ws client (ms)": summary(first.client),
    });

    console.log(`2. Queue render with ${QUEUE} open escalations`);
    await seedOpenEscalations(h, QUEUE - ITEMS);
    const renders: number[] = [];
    for (let i = 0; i < REPEATS; i++) renders.push(await firstPage(browser, h, QUEUE));
    const render = summary(renders);
    result.firstPage = { ...render, runs: renders };

    const { page: full } = await openConsole(browser, h.url, h.keys.moderator);
    await full.locator('[data-testid="queue-item"]').nth(99).waitFor();
    const t0 = Date.now();
    const pageTimes: number[] = [];
    for (;;) {
      const more = full.getByRole("button", { name: /Load more/ });
      if ((await more.count()) === 0) break;
      const before = await full.getByTestId("queue-item").count();
      const p0 = Date.now();
      await more.click();
      await full.waitForFunction(
        `document.querySelectorAll('[data-testid="queue-item"]').length > ${before}`,
        undefined,
        { polling: "raf", timeout: 60_000 },
      );
      pageTimes.push(Date.now() - p0);
    }
    const rows = await full.getByTestId("queue-item").count();
    const allPages = { rows, totalMs: Date.now() - t0, perPage: summary(pageTimes) };
    result.loadAll = allPages;
    console.table({ "sign-in → first page (ms)": render, "one more page (ms)": allPages.perPage });
    console.log(`   paged all ${rows} rows into the page in ${allPages.totalMs} ms`);

    console.log(`3. Judge → visible with ${rows} rows in the page, 20 escalations at 5/s`);
    await full.locator('[data-testid="connection"][data-state="live"]').waitFor();
    await full.evaluate(OBSERVER);
    const second = await judgeToVisible(h, full, 20, 5, "b");
    const loaded = summary(second.page);
    result.judgeToVisibleFullQueue = loaded;
    console.table({
      "judge → visible, full queue (ms)": loaded,
      "judge → Node client (ms)": summary(second.client),
    });
  } finally {
    await browser.close();
    await h.close();
  }
  await mkdir("bench/results", { recursive: true });
  await writeFile("bench/results/console.json", `${JSON.stringify(result, null, 2)}\n`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
