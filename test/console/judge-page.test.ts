import path from "node:path";

import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { type AppHarness, eventually, startHarness } from "../support/app-harness.js";
import { seedJudged } from "../support/seed-judged.js";
import {
  ensureConsoleBuilt,
  launchChromium,
  openConsole,
  RESULTS_DIR,
  seriousA11yViolations,
} from "./support/console-harness.js";

/**
 * The console's Judge page in Debian's Chromium against a whole Trendgate: the Judge's figures
 * over time per policy version, the calibration proposal (refused, then made), simulating and
 * applying a policy as an operator, and the same page read-only for a viewer.
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

const UNDECIDED = new Set(["RECEIVED", "PLANNED", "ENRICHED", "EMBEDDED"]);

let posted = 0;

/** Posts items through the API, waits until the Judge has decided each, and returns the policy versions it used. */
async function ingestAndJudge(bodies: string[]): Promise<number[]> {
  const inputs = bodies.map((body) => ({
    source: "forum",
    externalId: `judge-page-${posted++}`,
    title: "A post",
    body,
  }));
  const r = await h.gql<{ ingestTrends: { id: string }[] }>(
    `mutation($inputs: [TrendInput!]!) { ingestTrends(inputs: $inputs) { id } }`,
    { inputs },
    h.keys.integrator,
  );
  if (!r.data) throw new Error(JSON.stringify(r.errors));
  const versions: number[] = [];
  for (const { id } of r.data.ingestTrends) {
    await eventually(async () => {
      const t = await h.gql<{ trend: { status: string } }>(
        `query($id: ID!) { trend(id: $id) { status } }`,
        { id },
        h.keys.viewer,
      );
      return t.data && !UNDECIDED.has(t.data.trend.status) ? true : undefined;
    }, 60_000);
    const p = await h.gql<{
      provenance: { entries: { step: string; output: { policyVersion?: number } }[] };
    }>(
      `query($id: ID!) { provenance(trendId: $id) { entries { step output } } }`,
      { id },
      h.keys.operator,
    );
    versions.push(
      p.data!.provenance.entries.find((e) => e.step === "judge")?.output.policyVersion ?? 0,
    );
  }
  return versions;
}

async function openJudgePage(key: string): Promise<Page> {
  const { context, page } = await openConsole(browser, h.url, key);
  closers.push(() => context.close());
  await page.getByRole("link", { name: "Judge", exact: true }).click();
  await page.getByRole("heading", { name: "Judge", level: 2 }).waitFor();
  return page;
}

describe("the Judge page", { timeout: 180_000 }, () => {
  it("should chart the judged items per policy version and say why there is no proposal under 200 decisions", async () => {
    await ingestAndJudge([
      "Lovely sunny morning at the farmers market, the strawberries are back.",
      "The city council approved the new bike lanes on Main Street today.",
      "I will kill you if you show up here again",
    ]);
    const page = await openJudgePage(h.keys.operator);

    const totals = page.getByTestId("judge-totals-row");
    await totals.first().waitFor();
    expect(await totals.first().getAttribute("data-version")).toBe("1");
    expect(Number(await totals.first().getAttribute("data-judged"))).toBeGreaterThanOrEqual(3);
    for (const chart of ["judged", "escalationRate", "autoPublishRate", "autoRejectRate"]) {
      expect(
        Number(await page.getByTestId(`chart-${chart}`).getAttribute("data-points")),
        chart,
      ).toBeGreaterThanOrEqual(1);
    }
    // A chart is an image with a name and a text summary for screen readers.
    expect(
      await page
        .getByRole("img", { name: /Escalation rate/ })
        .locator("desc")
        .textContent(),
    ).toMatch(/policy v1: latest \d+\.\d %/);
    expect(await page.getByTestId("chart-judged").locator("rect").count()).toBeGreaterThanOrEqual(
      1,
    );

    await page.getByTestId("active-version").filter({ hasText: "Version 1" }).waitFor();
    await page
      .getByTestId("proposal-refused")
      .filter({ hasText: /at least 200/ })
      .waitFor();
    expect(await page.getByTestId("proposal-figures").count()).toBe(0);
  });

  it("should propose from 300 moderator decisions, simulate, refuse an invalid policy and apply one with a justification", async () => {
    const n = (k: number) => Array.from({ length: k });
    // Separable decisions: clean at confidence 0.7 (audit samples), toxic at toxicity 0.92.
    await seedJudged(h.app.services.db, [
      ...n(150).map(() => ({
        toxicity: 0.1,
        confidence: 0.7,
        outcome: "ESCALATED" as const,
        decision: "APPROVE" as const,
        issueType: "audit_sample" as const,
        auditSample: true,
      })),
      ...n(150).map(() => ({
        toxicity: 0.92,
        confidence: 0.9,
        outcome: "ESCALATED" as const,
        decision: "REJECT" as const,
      })),
    ]);
    const page = await openJudgePage(h.keys.operator);
    await page.getByTestId("active-version").filter({ hasText: "Version 1" }).waitFor();
    await page.getByTestId("target-leak").fill("0.01");
    await page.getByTestId("propose").click();

    await page.getByTestId("proposal-figures").waitFor();
    expect(await page.getByTestId("proposal-basis").textContent()).toMatch(
      /From 30\d labelled decisions \(\d+ moderator, 150 audit samples\)/,
    );
    expect(await page.getByTestId("proposed-toxicPublishedRate").textContent()).toMatch(
      /^[01]\.\d %$/,
    );
    expect(
      Number(await page.getByTestId("proposal-simulation").getAttribute("data-items")),
    ).toBeGreaterThanOrEqual(300);
    const ceiling = await page.getByTestId("threshold-toxicityCeiling").inputValue();
    expect(Number(ceiling)).toBeLessThanOrEqual(0.92);

    // Simulating the thresholds on history, nothing written.
    await page.getByTestId("simulate").click();
    await page.getByTestId("simulation").waitFor();
    expect(
      Number(await page.getByTestId("simulation").getAttribute("data-items")),
    ).toBeGreaterThanOrEqual(300);

    // Apply stays off without a justification; an invalid policy is refused and shown.
    expect(await page.getByTestId("apply").isDisabled()).toBe(true);
    await page.getByTestId("apply-justification").fill("calibrated on 300 decisions");
    await page.getByTestId("threshold-toxicityCeiling").fill("0.1");
    await page.getByTestId("apply").click();
    await page
      .getByTestId("policy-error")
      .filter({ hasText: /toxicityCeiling/ })
      .waitFor();
    expect(await page.getByRole("alert").filter({ hasText: "Not applied" }).count()).toBe(1);
    expect(
      (await h.gql<{ judgePolicy: { version: number } }>(`{ judgePolicy { version } }`)).data
        ?.judgePolicy.version,
    ).toBe(1);

    // The fix and the apply by keyboard alone: the button follows the justification in tab order.
    await page.getByTestId("threshold-toxicityCeiling").fill(ceiling);
    await page.getByTestId("apply-justification").focus();
    await page.keyboard.press("Tab");
    expect(await page.evaluate(`document.activeElement?.dataset.testid`)).toBe("apply");
    await page.keyboard.press("Enter");
    await page.getByTestId("apply-outcome").filter({ hasText: "Applied as version 2" }).waitFor();
    await page.getByTestId("active-version").filter({ hasText: "Version 2" }).waitFor();
    expect(await page.getByTestId("active-justification").textContent()).toContain(
      "calibrated on 300 decisions",
    );
    expect(await page.getByTestId("active-policy").textContent()).toContain("test-operator");
    expect(await page.getByTestId("active-toxicityCeiling").textContent()).toBe(
      String(Number(ceiling)),
    );
    await page.locator('[data-testid="history-row"][data-version="2"]').waitFor();

    const stored = await h.gql<{
      judgePolicy: {
        version: number;
        justification: string;
        policy: { thresholds: { toxicityCeiling: number } };
      };
    }>(`{ judgePolicy { version justification policy } }`);
    expect(stored.data?.judgePolicy).toMatchObject({
      version: 2,
      justification: "calibrated on 300 decisions",
      policy: { thresholds: { toxicityCeiling: Number(ceiling) } },
    });

    // The Judge takes the new version up within its refresh: post until an item is judged by it.
    await eventually(
      async () =>
        (await ingestAndJudge(["Another calm afternoon in the park with the dog."])).includes(2)
          ? true
          : undefined,
      30_000,
      0,
    );
    await page.getByTestId("judge-window").selectOption("1h");
    await page.locator('[data-testid="judge-totals-row"][data-version="2"]').waitFor();
    expect(
      await page.getByTestId("chart-escalationRate").locator('g[data-version="2"] circle').count(),
    ).toBeGreaterThanOrEqual(1);
    expect(
      await page.getByTestId("chart-escalationRate").locator('g[data-version="1"] circle').count(),
    ).toBeGreaterThanOrEqual(1);

    expect(await seriousA11yViolations(page)).toEqual([]);
    await page.screenshot({
      path: path.join(RESULTS_DIR, "console-judge-page.png"),
      fullPage: true,
    });
  });

  it("should show a viewer the figures per version but neither the policy's internals nor any apply control", async () => {
    const page = await openJudgePage(h.keys.viewer);
    await page.locator('[data-testid="judge-totals-row"][data-version="2"]').waitFor();
    await page.getByTestId("policy-restricted").waitFor();
    await page.getByTestId("calibration-read-only").waitFor();
    // Thresholds and blocked lists are a policy oracle (issue 12): not for viewers.
    expect(await page.getByTestId("active-version").count()).toBe(0);
    expect(await page.getByTestId("history-row").count()).toBe(0);
    expect(await page.getByTestId("apply").count()).toBe(0);
    expect(await page.getByTestId("simulate").count()).toBe(0);
    expect(await page.getByRole("button", { name: /apply/i }).count()).toBe(0);
    // Viewers have no operator tabs.
    expect(await page.getByRole("link", { name: "Dead letters" }).count()).toBe(0);
    expect(await seriousA11yViolations(page)).toEqual([]);
  });

  it("should not offer the page to a moderator, whose key may not read the Judge's figures", async () => {
    const { context, page } = await openConsole(browser, h.url, h.keys.moderator);
    closers.push(() => context.close());
    expect(await page.getByRole("link", { name: "Judge", exact: true }).count()).toBe(0);
    await page.goto(`${h.url}/console/#/judge`);
    await page.getByRole("alert").filter({ hasText: "operator or viewer key" }).waitFor();
  });
});
