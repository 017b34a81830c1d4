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
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  await ensureConsoleBuilt();
  h = await startHarness();
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
  const r = await h.gql(
    `mutation($id: ID!, $input: ResolveEscalationInput!) { resolveEscalation(id: $id, input: $input) { id } }`,
    { id: escalationId, input: { decision, reasonCode: decision === "REJECT" ? "SCAMS_AND_FRAUD" : null, note: "console test" } },
    key,
  );
  if (r.errors) throw new Error(JSON.stringify(r.errors));
}

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
});
