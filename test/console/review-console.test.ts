import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AppHarness, eventually, startHarness } from "../support/app-harness.js";
import {
  ensureConsoleBuilt,
  launchChromium,
  openConsole,
  RESULTS_DIR,
  seriousA11yViolations,
} from "./support/console-harness.js";

/**
 * The reviewer workforce in the console (issue 14, item 10), in Debian's Chromium against a whole
 * Trendgate: precedents on the review panel, the Reviewers page, "Next item" from the keyboard,
 * the reason-code picker, consensus state and appeals, through the public API only.
 */
let h: AppHarness;
let browser: Browser;
let secondModerator: string;
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  await ensureConsoleBuilt();
  h = await startHarness();
  secondModerator = (await h.app.services.auth.createKey("moderator", "second-moderator")).key;
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
  await h?.close();
});

const THREAT = "I will kill you if you show up here again";

async function ingest(externalId: string, body: string, key = h.keys.integrator): Promise<string> {
  const r = await h.gql<{ ingestTrend: { id: string } }>(
    `mutation($input: TrendInput!) { ingestTrend(input: $input) { id } }`,
    { input: { source: "forum", externalId, title: `Post ${externalId}`, body } },
    key,
  );
  if (!r.data) throw new Error(JSON.stringify(r.errors));
  return r.data.ingestTrend.id;
}

async function escalationOf(trendId: string): Promise<string> {
  return eventually(async () => {
    const r = await h.gql<{ trend: { escalations: { id: string; status: string }[] } }>(
      `query($id: ID!) { trend(id: $id) { escalations { id status } } }`,
      { id: trendId },
      h.keys.operator,
    );
    return r.data?.trend.escalations.find((e) => e.status !== "RESOLVED")?.id;
  }, 60_000);
}

async function resolve(
  escalationId: string,
  decision: "APPROVE" | "REJECT",
  key = h.keys.operator,
): Promise<void> {
  const input = {
    decision,
    note: "console test",
    reasonCode: decision === "REJECT" ? "VIOLENCE" : null,
  };
  const r = await h.gql(
    `mutation($id: ID!, $input: ResolveEscalationInput!) { resolveEscalation(id: $id, input: $input) { id } }`,
    { id: escalationId, input },
    key,
  );
  if (r.errors) throw new Error(JSON.stringify(r.errors));
}

/** Approves what is left open, so each test's "next item" is its own. */
async function approveAllOpen(): Promise<void> {
  const r = await h.gql<{ escalations: { edges: { node: { id: string } }[] } }>(
    `{ escalations(status: [OPEN, CLAIMED, IN_REVIEW], first: 100) { edges { node { id } } } }`,
    {},
    h.keys.operator,
  );
  for (const { node } of r.data!.escalations.edges) await resolve(node.id, "APPROVE");
}

async function trendStatus(id: string): Promise<string> {
  const r = await h.gql<{ trend: { status: string } }>(
    `query($id: ID!) { trend(id: $id) { status } }`,
    { id },
    h.keys.operator,
  );
  return r.data!.trend.status;
}

const live = (page: Page) =>
  page.locator('[data-testid="connection"][data-state="live"]').waitFor({ timeout: 20_000 });

async function openReview(page: Page, escalationId: string): Promise<void> {
  await page.goto(`${h.url}/console/#/queue/${escalationId}`);
  await page.locator(`[data-testid="review-panel"][data-id="${escalationId}"]`).waitFor();
}

describe("the reviewer workforce in the console", { timeout: 180_000 }, () => {
  it("should show a moderator the human decisions on similar past items, and a viewer none", async () => {
    const earlier = await ingest("prec-1", `${THREAT} (first time)`);
    await resolve(await escalationOf(earlier), "REJECT");
    const unrelated = await ingest(
      "prec-2",
      "The bakery on Elm Street sells sourdough again, and the queue was worth it.",
    );
    const escalationId = await escalationOf(await ingest("prec-3", `${THREAT} (second time)`));

    const { page, context } = await openConsole(browser, h.url, h.keys.moderator);
    closers.push(() => context.close());
    await openReview(page, escalationId);
    const precedent = page.locator(`[data-testid="precedent"][data-trend="${earlier}"]`);
    await precedent.waitFor();
    expect(await precedent.getAttribute("data-decision")).toBe("REJECT");
    expect(await precedent.getByTestId("precedent-reason").textContent()).toBe("VIOLENCE");
    expect(await page.locator(`[data-testid="precedent"][data-trend="${unrelated}"]`).count()).toBe(
      0,
    );
    expect(await seriousA11yViolations(page)).toEqual([]);
    await page
      .getByTestId("review-panel")
      .screenshot({ path: path.join(RESULTS_DIR, "console-precedents.png") });

    // Other items' decisions are for reviewers: the API gives a viewer an empty list.
    const asViewer = await h.gql<{ escalation: { precedents: unknown[] } }>(
      `query($id: ID!) { escalation(id: $id) { precedents { decision } } }`,
      { id: escalationId },
      h.keys.viewer,
    );
    expect(asViewer.data?.escalation.precedents).toEqual([]);
    const asModerator = await h.gql<{
      escalation: { precedents: { decision: string; trend: { id: string } }[] };
    }>(
      `query($id: ID!) { escalation(id: $id) { precedents(first: 3) { decision trend { id } } } }`,
      { id: escalationId },
      h.keys.moderator,
    );
    expect(asModerator.data?.escalation.precedents[0]).toEqual({
      decision: "REJECT",
      trend: { id: earlier },
    });
  });

  it("should hand each moderator their next item on `n`, show consensus as counts only, and publish when two reviews agree", async () => {
    await approveAllOpen();
    const applied = await h.gql(
      `mutation($p: JSON!) { applyJudgePolicy(policy: $p, justification: "two reviews for toxicity") { version } }`,
      { p: { review: { requiredReviews: { TOXICITY: 2 } } } },
      h.keys.operator,
    );
    expect(applied.errors).toBeUndefined();
    const trendId = await ingest("next-1", `${THREAT} (next item)`);
    const escalationId = await escalationOf(trendId);

    const a = await openConsole(browser, h.url, h.keys.moderator);
    const b = await openConsole(browser, h.url, secondModerator);
    closers.push(
      () => a.context.close(),
      () => b.context.close(),
    );
    await Promise.all([live(a.page), live(b.page)]);
    expect(await a.page.getByTestId("keys-help").textContent()).toContain("n next item");

    // Moderator A: `n` claims the item for them and opens it; `a` records their review.
    await a.page.keyboard.press("n");
    await a.page.locator(`[data-testid="review-panel"][data-id="${escalationId}"]`).waitFor();
    await a.page.getByTestId("review-status").filter({ hasText: "claimed by you" }).waitFor();
    await a.page.keyboard.press("a");
    await a.page.getByTestId("notice").filter({ hasText: "waits for other reviewers" }).waitFor();
    expect(await trendStatus(trendId)).toBe("ESCALATED");

    // Moderator B gets the same item next: one review of two is in, and whose decision is not shown.
    await b.page.keyboard.press("n");
    await b.page.locator(`[data-testid="review-panel"][data-id="${escalationId}"]`).waitFor();
    const consensus = b.page.getByTestId("consensus");
    await consensus.filter({ hasText: "1 of 2 reviews" }).waitFor();
    expect(await consensus.textContent()).not.toMatch(/approve/i);
    expect(await seriousA11yViolations(b.page)).toEqual([]);
    await b.page
      .getByTestId("review-panel")
      .screenshot({ path: path.join(RESULTS_DIR, "console-consensus.png") });
    await b.page.keyboard.press("a");
    await b.page.getByTestId("notice").filter({ hasText: "Approved" }).waitFor();
    await eventually(
      async () => ((await trendStatus(trendId)) === "PUBLISHED" ? true : undefined),
      30_000,
    );

    // Nothing is left for A (B's item is decided, A reviewed the only one): said, not an error.
    await a.page.keyboard.press("n");
    await a.page
      .getByTestId("next-item-message")
      .filter({ hasText: "Nothing waits for you" })
      .waitFor();
  });

  it("should chart each reviewer's figures for an operator and only their own for a moderator", async () => {
    const { page, context } = await openConsole(browser, h.url, h.keys.operator);
    closers.push(() => context.close());
    await page.getByRole("link", { name: "Reviewers" }).click();
    await page.getByRole("heading", { name: "Reviewers", level: 2 }).waitFor();
    const rowOf = (p: Page, name: string) =>
      p.locator(`[data-testid="reviewer-row"][data-reviewer="${name}"]`);
    await rowOf(page, "test-moderator").waitFor();
    await rowOf(page, "second-moderator").waitFor();
    expect(
      Number(await rowOf(page, "second-moderator").getAttribute("data-reviews")),
    ).toBeGreaterThanOrEqual(1);
    // Both claimed with `n` before reviewing: a handling time exists.
    expect(await rowOf(page, "second-moderator").locator("td").nth(1).textContent()).toMatch(
      /\d+ s|min|h/,
    );
    for (const chart of ["reviews", "handling", "agreement"]) {
      expect(
        Number(await page.getByTestId(`chart-${chart}`).getAttribute("data-points")),
        chart,
      ).toBeGreaterThanOrEqual(2);
    }
    expect(
      await page
        .getByRole("img", { name: /Agreement/ })
        .locator("desc")
        .textContent(),
    ).toMatch(/second-moderator: \d+ %/);
    expect(await seriousA11yViolations(page)).toEqual([]);
    await page.screenshot({
      path: path.join(RESULTS_DIR, "console-reviewers.png"),
      fullPage: true,
    });

    const own = await openConsole(browser, h.url, secondModerator);
    closers.push(() => own.context.close());
    await own.page.getByRole("link", { name: "Reviewers" }).click();
    await rowOf(own.page, "second-moderator").waitFor();
    expect(await own.page.getByTestId("reviewer-row").count()).toBe(1);
  });

  it("should refuse a rejection without a reason code, then let the integrator appeal it to another reviewer, who approves it", async () => {
    const policy = await h.gql(
      `mutation($p: JSON!) { applyJudgePolicy(policy: $p, justification: "one review again") { version } }`,
      { p: { review: { requiredReviews: {} } } },
      h.keys.operator,
    );
    expect(policy.errors).toBeUndefined();
    await approveAllOpen();
    const trendId = await ingest("appeal-1", `${THREAT} (to appeal)`);
    const escalationId = await escalationOf(trendId);

    const mod = await openConsole(browser, h.url, h.keys.moderator);
    closers.push(() => mod.context.close());
    await openReview(mod.page, escalationId);
    await mod.page.keyboard.press("c");
    await mod.page.getByTestId("review-status").filter({ hasText: "claimed by you" }).waitFor();
    await mod.page.keyboard.press("r");
    await mod.page.getByTestId("reason-code-error").waitFor();
    expect(await mod.page.evaluate(`document.activeElement?.id`)).toBe("reason-code");
    expect(await trendStatus(trendId)).toBe("ESCALATED");
    await mod.page.getByTestId("reason-code").selectOption("VIOLENCE");
    await mod.page.keyboard.press("Escape");
    await mod.page.keyboard.press("r");
    await mod.page.getByTestId("notice").filter({ hasText: "Rejected" }).waitFor();
    await eventually(
      async () => ((await trendStatus(trendId)) === "REJECTED" ? true : undefined),
      15_000,
    );

    // The integrator's console opens on its appeals: the rejection with its reason, and a statement.
    const integrator = await openConsole(browser, h.url, h.keys.integrator);
    closers.push(() => integrator.context.close());
    const item = integrator.page.locator(`[data-testid="appeal-item"][data-trend="${trendId}"]`);
    await item.waitFor();
    expect(await item.getByTestId("appeal-reason").textContent()).toBe("VIOLENCE");
    await item.getByTestId("appeal-open").click();
    await item
      .getByTestId("appeal-statement")
      .fill("This is a quote from a film review, not a threat.");
    expect(await seriousA11yViolations(integrator.page)).toEqual([]);
    await integrator.page.screenshot({
      path: path.join(RESULTS_DIR, "console-appeals.png"),
      fullPage: true,
    });
    await item.getByTestId("appeal-submit").click();
    await integrator.page
      .getByTestId("appeal-outcome")
      .filter({ hasText: "Appeal opened" })
      .waitFor();
    await integrator.page.locator(`[data-testid="appeal-made"][data-trend="${trendId}"]`).waitFor();

    // The reviewer who rejected it does not get the appeal; another does, with the statement.
    await mod.page.keyboard.press("n");
    await mod.page
      .getByTestId("next-item-message")
      .filter({ hasText: "Nothing waits for you" })
      .waitFor();
    const other = await openConsole(browser, h.url, secondModerator);
    closers.push(() => other.context.close());
    await live(other.page);
    await other.page.keyboard.press("n");
    await other.page
      .getByTestId("appeal-statement-shown")
      .filter({ hasText: "quote from a film review" })
      .waitFor();
    await other.page.keyboard.press("a");
    await other.page.getByTestId("notice").filter({ hasText: "Approved" }).waitFor();
    await eventually(
      async () => ((await trendStatus(trendId)) === "PUBLISHED" ? true : undefined),
      30_000,
    );
  });
});
