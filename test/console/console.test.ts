import path from "node:path";

import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { type AppHarness, eventually, startHarness } from "../support/app-harness.js";
import { seedModelRecords } from "../support/stage-fixtures.js";
import {
  createSwitchableEmbedder,
  ensureConsoleBuilt,
  launchChromium,
  openConsole,
  RESULTS_DIR,
  seriousA11yViolations,
  stopGateway,
} from "./support/console-harness.js";

/**
 * The moderator console in Debian's Chromium against a whole Trendgate (real pipeline, Postgres,
 * Redis): what a moderator and an operator see and do, through the public API only.
 */
const POISON = "zz-embedder-poison";
let h: AppHarness;
let browser: Browser;
let secondModeratorKey: string;
let setEmbedderFailing: (on: boolean) => void;
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  await ensureConsoleBuilt();
  const switchable = await createSwitchableEmbedder(POISON);
  setEmbedderFailing = switchable.setFailing;
  h = await startHarness({
    config: {
      RETRY_MAX_ATTEMPTS: 2,
      RETRY_BASE_MS: 20,
      RETRY_MAX_MS: 100,
      // The records an older model made (seeded for the pipeline health view) stay pending
      // while the page reads them: no re-embedding pass runs during this file.
      REEMBED_INTERVAL_MS: 3_600_000,
    },
    overrides: { embedder: switchable.embedder },
  });
  secondModeratorKey = (await h.app.services.auth.createKey("moderator", "second-moderator")).key;
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
  await h?.close();
});

const THREAT = "I will kill you if you show up here again";

async function ingestThreat(externalId: string, source = "forum"): Promise<string> {
  const r = await h.gql<{ ingestTrend: { id: string } }>(
    `mutation($input: TrendInput!) { ingestTrend(input: $input) { id } }`,
    {
      input: {
        source,
        externalId,
        title: `Threat ${externalId}`,
        body: `${THREAT} (${externalId})`,
      },
    },
    h.keys.integrator,
  );
  if (!r.data) throw new Error(JSON.stringify(r.errors));
  return r.data.ingestTrend.id;
}

async function escalationOf(trendId: string): Promise<string> {
  return eventually(async () => {
    const r = await h.gql<{ trend: { escalations: { id: string }[] } }>(
      `query($id: ID!) { trend(id: $id) { escalations { id } } }`,
      { id: trendId },
      h.keys.viewer,
    );
    return r.data?.trend.escalations[0]?.id;
  }, 60_000);
}

async function trendStatus(id: string): Promise<string> {
  const r = await h.gql<{ trend: { status: string } }>(
    `query($id: ID!) { trend(id: $id) { status } }`,
    { id },
    h.keys.viewer,
  );
  return r.data!.trend.status;
}

/** Clears the queue between tests through the API, so each test sees only its own items. */
async function resolveAllOpen(): Promise<void> {
  const r = await h.gql<{ escalations: { edges: { node: { id: string } }[] } }>(
    `{ escalations(status: [OPEN, CLAIMED], first: 100) { edges { node { id } } } }`,
  );
  if (!r.data) throw new Error(JSON.stringify(r.errors));
  for (const { node } of r.data.escalations.edges) {
    await h.gql(
      `mutation($id: ID!) { resolveEscalation(id: $id, input: { decision: REJECT, reasonCode: "SCOPE_OF_PLATFORM_SERVICE", note: "test cleanup" }) { id } }`,
      { id: node.id },
      h.keys.operator,
    );
  }
}

const row = (page: Page, escalationId: string) =>
  page.locator(`[data-testid="queue-item"][data-id="${escalationId}"]`);
const live = (page: Page) =>
  page.locator('[data-testid="connection"][data-state="live"]').waitFor({ timeout: 20_000 });

describe("the moderator console", { timeout: 120_000 }, () => {
  it("should show a clear message for a wrong key and sign in with a right one", async () => {
    const context = await browser.newContext();
    closers.push(() => context.close());
    const page = await context.newPage();
    await page.goto(`${h.url}/console/`);
    await page.getByLabel("API key").fill("not-a-key");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByTestId("signin-error").filter({ hasText: "not accepted" }).waitFor();
    expect(await seriousA11yViolations(page)).toEqual([]);
    await page.getByLabel("API key").fill(h.keys.moderator);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByTestId("whoami").filter({ hasText: "moderator" }).waitFor();
    expect(await page.evaluate(`sessionStorage.getItem("trendgate.apiKey")`)).toBe(
      h.keys.moderator,
    );
  });

  it("should show a new escalation live to two moderators, the claim to the other, publish on approve, and tell the loser of the race", async () => {
    const a = await openConsole(browser, h.url, h.keys.moderator);
    const b = await openConsole(browser, h.url, secondModeratorKey);
    closers.push(
      () => a.context.close(),
      () => b.context.close(),
    );
    await Promise.all([live(a.page), live(b.page)]);

    const trendId = await ingestThreat("race-1");
    const escalationId = await escalationOf(trendId);
    await Promise.all([
      row(a.page, escalationId).waitFor({ timeout: 30_000 }),
      row(b.page, escalationId).waitFor({ timeout: 30_000 }),
    ]);
    expect(await row(a.page, escalationId).getAttribute("data-status")).toBe("OPEN");

    await row(a.page, escalationId).locator("a").click();
    const panelA = a.page.getByTestId("review-panel");
    await panelA.waitFor();
    expect(await a.page.getByTestId("review-rule").textContent()).not.toBe("");
    expect(await a.page.getByTestId("review-reason").textContent()).toMatch(/toxic/i);
    await a.page.getByTestId("claim").click();
    await a.page.getByTestId("review-status").filter({ hasText: "claimed by you" }).waitFor();

    // The other moderator sees the claim through escalationUpdated, without reloading.
    await row(b.page, escalationId)
      .getByTestId("claimed-by")
      .filter({ hasText: "claimed by test-moderator" })
      .waitFor({ timeout: 15_000 });

    await a.page.getByTestId("provenance-timeline").locator("li").first().waitFor();
    await a.page.getByTestId("similar").or(a.page.getByText("None found.")).waitFor();
    await panelA.screenshot({ path: path.join(RESULTS_DIR, "console-review-panel.png") });

    // The second moderator tries anyway: the server's CONFLICT is said plainly.
    await row(b.page, escalationId).locator("a").click();
    await b.page.getByTestId("approve").click();
    await b.page.getByTestId("notice").filter({ hasText: "test-moderator has claimed" }).waitFor();

    await a.page.getByTestId("approve").click();
    await a.page.getByTestId("notice").filter({ hasText: "Approved" }).waitFor();
    await eventually(
      async () => ((await trendStatus(trendId)) === "PUBLISHED" ? true : undefined),
      30_000,
    );
    // Resolved elsewhere: it leaves the second moderator's queue too.
    await row(b.page, escalationId).waitFor({ state: "detached", timeout: 15_000 });
    expect(await row(a.page, escalationId).count()).toBe(0);

    await a.page.goto(`${h.url}/console/#/provenance/${trendId}`);
    await a.page
      .locator('[data-testid="provenance-graph"][data-rendered]')
      .waitFor({ timeout: 15_000 });
    expect(
      Number(await a.page.getByTestId("provenance-graph").getAttribute("data-rendered")),
    ).toBeGreaterThanOrEqual(5);
    expect(await seriousA11yViolations(a.page)).toEqual([]);
    await a.page.screenshot({
      path: path.join(RESULTS_DIR, "console-provenance-graph.png"),
      fullPage: true,
    });
  });

  it("should hold every escalation exactly once after the gateway restarts while escalations are created", async () => {
    await resolveAllOpen();
    const { page, context } = await openConsole(browser, h.url, h.keys.moderator);
    closers.push(() => context.close());
    await live(page);

    const before = [await ingestThreat("restart-1"), await ingestThreat("restart-2")];
    const escalations = await Promise.all(before.map(escalationOf));
    for (const id of escalations) await row(page, id).waitFor({ timeout: 30_000 });

    const restart = await stopGateway(h);
    await page
      .locator('[data-testid="connection"][data-state="reconnecting"]')
      .waitFor({ timeout: 10_000 });
    // While the gateway is down, the pipeline (workers) goes on escalating new items.
    const during = [];
    for (const n of [1, 2, 3])
      during.push(
        (
          await h.app.services.ingest.ingest(
            { source: "forum", externalId: `restart-down-${n}`, body: `${THREAT} (down ${n})` },
            "integrator:test",
          )
        ).id,
      );
    for (const id of during) escalations.push(await waitEscalationInDb(id));
    closers.push(await restart());
    await live(page);
    const after = [await ingestThreat("restart-3"), await ingestThreat("restart-4")];
    for (const id of after) escalations.push(await escalationOf(id));

    for (const id of escalations) await row(page, id).waitFor({ timeout: 30_000 });
    for (const id of escalations) expect(await row(page, id).count()).toBe(1);
    const shown = await page
      .getByTestId("queue-item")
      .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-id")));
    expect(new Set(shown).size).toBe(shown.length);
    expect(shown.sort()).toEqual([...escalations].sort());
    await page
      .getByTestId("queue-count")
      .filter({ hasText: new RegExp(`^${escalations.length}$`) })
      .waitFor();
  });

  it("should show a viewer the queue without resolve buttons", async () => {
    await resolveAllOpen();
    const trendId = await ingestThreat("viewer-1");
    const escalationId = await escalationOf(trendId);
    const { page, context } = await openConsole(browser, h.url, h.keys.viewer);
    closers.push(() => context.close());
    await row(page, escalationId).waitFor({ timeout: 30_000 });
    await row(page, escalationId).locator("a").click();
    await page.getByTestId("review-panel").waitFor();
    expect(await page.getByTestId("approve").count()).toBe(0);
    expect(await page.getByTestId("claim").count()).toBe(0);
    expect(await page.getByRole("link", { name: "Dead letters" }).count()).toBe(0);
    await page.keyboard.press("a");
    expect(await trendStatus(trendId)).toBe("ESCALATED");

    // Filters go to the server: a toxicity item is not a low-confidence one, nor from another source.
    await page.getByTestId("filter-issue").selectOption("LOW_CONFIDENCE");
    await row(page, escalationId).waitFor({ state: "detached" });
    await page.getByTestId("filter-issue").selectOption("TOXICITY");
    await row(page, escalationId).waitFor();
    await page.getByTestId("filter-source").fill("newswire");
    await page.getByTestId("filter-source").press("Enter");
    await row(page, escalationId).waitFor({ state: "detached" });
    await page.getByTestId("queue-count").filter({ hasText: /^0$/ }).waitFor();
  });

  it("should let an operator replay a dead letter from the page", async () => {
    setEmbedderFailing(true);
    const r = await h.gql<{ ingestTrend: { id: string } }>(
      `mutation($input: TrendInput!) { ingestTrend(input: $input) { id } }`,
      {
        input: {
          source: "newswire",
          externalId: "dlq-1",
          title: "Rates on hold",
          body: `The central bank kept its rate unchanged. ${POISON}`,
        },
      },
      h.keys.integrator,
    );
    const trendId = r.data!.ingestTrend.id;
    await eventually(async () => {
      const d = await h.gql<{ deadLetters: { items: { trendId: string }[] } }>(
        `{ deadLetters(stream: "trend:embedding:dlq") { items { trendId } } }`,
      );
      return d.data?.deadLetters.items.some((i) => i.trendId === trendId) ? true : undefined;
    }, 60_000);
    setEmbedderFailing(false);

    const { page, context } = await openConsole(browser, h.url, h.keys.operator);
    closers.push(() => context.close());
    await page.getByRole("link", { name: "Dead letters" }).click();
    const letter = page.locator(`[data-testid="dead-letter"][data-trend="${trendId}"]`);
    await letter.waitFor();
    expect(await seriousA11yViolations(page)).toEqual([]);

    await page.getByTestId("dlq-dry-run").check();
    await letter.getByTestId("replay-one").click();
    await page
      .getByTestId("replay-outcome")
      .filter({ hasText: "Dry run, nothing was changed" })
      .filter({ hasText: "would succeed" })
      .waitFor();
    expect(await letter.count()).toBe(1);

    await page.getByTestId("dlq-dry-run").uncheck();
    await letter.getByTestId("replay-one").click();
    await page.getByTestId("replay-outcome").filter({ hasText: "Replayed 1 entry" }).waitFor();
    await letter.waitFor({ state: "detached" });
    await eventually(async () => {
      const t = await h.gql<{ trend: { embeddingStatus: string } }>(
        `query($id: ID!) { trend(id: $id) { embeddingStatus } }`,
        { id: trendId },
        h.keys.viewer,
      );
      return t.data?.trend.embeddingStatus === "SUCCEEDED" ? true : undefined;
    }, 30_000);

    // Vectors an older model made, as after an EMBEDDER change: the view shows re-embedding.
    await seedModelRecords(h.env.db, 3, "older-model");
    const current = (
      await h.gql<{ embeddingProgress: { model: string } }>("{ embeddingProgress { model } }")
    ).data!.embeddingProgress.model;
    await page.getByRole("link", { name: "Pipeline health" }).click();
    await page.getByTestId("health-table").waitFor();
    expect(await page.getByTestId("health-table").textContent()).toContain("trend:embedding:jobs");
    const progress = page.getByTestId("embedding-progress");
    const line = new RegExp(
      `Embeddings: model ${current.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} — (\\d+) of (\\d+) re-embedded \\(3 pending\\)`,
    );
    await progress.filter({ hasText: line }).waitFor();
    // One reading of the line and its bar: the view refreshes while the test looks.
    const shown = await progress.evaluate((p) => {
      const bar = p.querySelector("progress");
      return [p.textContent ?? "", bar?.getAttribute("value"), bar?.getAttribute("max")];
    });
    const [, done, total] = line.exec(shown[0] ?? "")!;
    expect(Number(total) - Number(done)).toBe(3);
    expect(shown.slice(1)).toEqual([done, total]);
    expect(shown[0]).toContain("still by older-model (3)");
    await page.getByRole("progressbar", { name: `Re-embedding with ${current}` }).waitFor();
    expect(await seriousA11yViolations(page)).toEqual([]);
  });

  it("should open the incidents and budget views to an operator, and refuse an override without a justification", async () => {
    const { page, context } = await openConsole(browser, h.url, h.keys.operator);
    closers.push(() => context.close());

    await page.getByRole("link", { name: "Incidents" }).click();
    await page.getByRole("heading", { name: "Incidents", exact: true }).waitFor();
    await page.locator('[data-testid="incidents-table"], p:text-is("No incidents.")').waitFor();
    // A view that cannot load its query shows the error as an alert.
    expect(await page.locator("main [role=alert]").count()).toBe(0);

    await page.getByRole("link", { name: "Budget overruns" }).click();
    await page.getByRole("heading", { name: "Budget overruns", exact: true }).waitFor();
    await page
      .locator('[data-testid="budget-table"], p:text-is("No item is paused over its budget.")')
      .waitFor();
    await page.getByRole("heading", { name: "Operator alerts (live)" }).waitFor();
    expect(await page.locator("main [role=alert]").count()).toBe(0);

    await page.getByRole("link", { name: "Override publish" }).click();
    await page.getByLabel("Trend id").fill("00000000-0000-0000-0000-000000000000");
    // Blank but present, so the form submits and the console itself must refuse it.
    await page.getByLabel("Justification (required)").fill("   ");
    await page.getByRole("button", { name: "Override and publish" }).click();
    expect(await page.getByTestId("override-outcome").textContent()).toContain(
      "A justification is required",
    );
    expect(await seriousA11yViolations(page)).toEqual([]);
  });

  it("should review three items with the keyboard alone, and axe finds no serious issue", async () => {
    await resolveAllOpen();
    const { page, context } = await openConsole(browser, h.url, h.keys.moderator);
    closers.push(() => context.close());
    await live(page);
    const trends = [
      await ingestThreat("kbd-1"),
      await ingestThreat("kbd-2"),
      await ingestThreat("kbd-3"),
    ];
    const created = await Promise.all(trends.map(escalationOf));
    for (const id of created) await row(page, id).waitFor({ timeout: 30_000 });
    expect(await seriousA11yViolations(page)).toEqual([]);
    // The pipeline may escalate them in any order; review them in the order the queue shows.
    const shown = await page
      .locator('[data-testid="queue-item"]')
      .evaluateAll((items) => items.map((i) => i.getAttribute("data-id")));
    const escalations = shown.filter((id): id is string => !!id && created.includes(id));
    expect(escalations).toHaveLength(3);
    const trendOf = new Map(created.map((id, i) => [id, trends[i]!]));

    const decisions = ["a", "r", "a"];
    await page.keyboard.press("j");
    for (const [i, key] of decisions.entries()) {
      const panel = page.locator(`[data-testid="review-panel"][data-id="${escalations[i]}"]`);
      // As a person would: act once the panel shows this item and is not busy.
      const ready = page.locator(
        `[data-testid="review-panel"][data-id="${escalations[i]}"][aria-busy="false"]`,
      );
      await ready.waitFor();
      if (i === 0) {
        expect(await seriousA11yViolations(page)).toEqual([]);
        await page.screenshot({
          path: path.join(RESULTS_DIR, "console-queue.png"),
          fullPage: true,
        });
      }
      await page.keyboard.press("c");
      await panel.getByTestId("review-status").filter({ hasText: "claimed by you" }).waitFor();
      await ready.waitFor();
      if (key === "r") {
        // A rejection needs a reason code: `r` without one focuses the picker; the first code
        // (a rejection reason) is one arrow key away, and Esc leaves the picker.
        await page.keyboard.press("r");
        await panel.getByTestId("reason-code-error").waitFor();
        await page.keyboard.press("ArrowDown");
        await page.keyboard.press("Escape");
      }
      await page.keyboard.press(key);
      await row(page, escalations[i]!).waitFor({ state: "detached" });
    }
    const reviewed = escalations.map((id) => trendOf.get(id)!);
    await eventually(
      async () => ((await trendStatus(reviewed[0]!)) === "PUBLISHED" ? true : undefined),
      30_000,
    );
    expect(await trendStatus(reviewed[1]!)).toBe("REJECTED");
    await eventually(
      async () => ((await trendStatus(reviewed[2]!)) === "PUBLISHED" ? true : undefined),
      30_000,
    );
    await page.getByTestId("queue-count").filter({ hasText: /^0$/ }).waitFor();
  });
});

async function waitEscalationInDb(trendId: string): Promise<string> {
  return eventually(async () => {
    const row = await h.app.services.db
      .selectFrom("escalations")
      .select("id")
      .where("trend_id", "=", trendId)
      .executeTakeFirst();
    return row?.id;
  }, 60_000);
}
