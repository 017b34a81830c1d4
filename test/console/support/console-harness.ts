import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";

import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { lock } from "proper-lockfile";

import { startGatewayServer } from "../../../src/http/gateway-server.js";
import { createOfflineEmbedder, type Embedder } from "../../../src/nlp/embedder.js";
import type { AppHarness } from "../../support/app-harness.js";

const ROOT = path.resolve(import.meta.dirname, "../../..");
const require = createRequire(import.meta.url);
export const RESULTS_DIR = path.join(ROOT, "test-results");
export const CHROMIUM = "/usr/bin/chromium";

/** Flags for Debian's Chromium in a container: no sandbox, GPU, QUIC or background traffic. */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs);
  }
  return newest;
}

function consoleIsStale(): boolean {
  const built = path.join(ROOT, "web/dist/index.html");
  const sources = Math.max(
    newestMtime(path.join(ROOT, "web/src")),
    statSync(path.join(ROOT, "schema.graphql")).mtimeMs,
  );
  return !existsSync(built) || statSync(built).mtimeMs < sources;
}

/**
 * Builds web/dist when it is missing or older than its sources (a fresh clone, or edits). Test
 * files run in parallel: under a lock, so that one builds while the others wait and then find it
 * fresh, instead of each emptying web/dist under the others' gateways.
 */
export async function ensureConsoleBuilt(): Promise<void> {
  if (!consoleIsStale()) return;
  const release = await lock(path.join(ROOT, "web"), {
    lockfilePath: path.join(ROOT, "web/.build.lock"),
    stale: 120_000,
    retries: { retries: 180, minTimeout: 250, maxTimeout: 1000 },
  });
  try {
    if (consoleIsStale())
      execFileSync("npm", ["run", "--silent", "build:web"], { cwd: ROOT, stdio: "inherit" });
  } finally {
    await release();
  }
}

/** Debian's chromium (installed by scripts/ensure-chromium.sh when missing), driven by playwright-core. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    // Under a lock like the build: console files starting together on a machine without
    // Chromium would each run apt-get, and all but one fail on dpkg's lock.
    const release = await lock(path.join(ROOT, "web"), {
      lockfilePath: path.join(ROOT, "web/.chromium.lock"),
      stale: 300_000,
      retries: { retries: 600, minTimeout: 250, maxTimeout: 1000 },
    });
    try {
      if (!existsSync(CHROMIUM))
        execFileSync("bash", [path.join(ROOT, "scripts/ensure-chromium.sh")], { stdio: "inherit" });
    } finally {
      await release();
    }
  }
  await mkdir(RESULTS_DIR, { recursive: true });
  // Playwright gives every launch a fresh temporary profile (--user-data-dir) and removes it on close.
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

/** A new browser context signed in with `key`, on the queue, with the live connection up. */
export async function openConsole(
  browser: Browser,
  baseUrl: string,
  key: string,
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
  // A missing element fails the test in 20 s rather than Playwright's default 30 s.
  context.setDefaultTimeout(20_000);
  const page = await context.newPage();
  await page.goto(`${baseUrl}/console/`);
  await page.getByLabel("API key").fill(key);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByTestId("whoami").waitFor();
  return { context, page };
}

export interface A11yViolation {
  id: string;
  impact: string;
  help: string;
  nodes: string[];
}

/** Runs axe-core in the page; returns the violations rated serious or critical. */
export async function seriousA11yViolations(page: Page): Promise<A11yViolation[]> {
  // Evaluated through the DevTools protocol, not as a <script> tag: the console's CSP (script-src
  // 'self') rightly refuses inline scripts, and the test must not weaken it.
  await page.evaluate(readFileSync(require.resolve("axe-core/axe.min.js"), "utf8"));
  // A string, so that this Node-side file needs no DOM types.
  return page.evaluate(`(async () => {
    const result = await window.axe.run(document, { resultTypes: ["violations"] });
    return result.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(" ")) }));
  })()`);
}

/**
 * Stops the gateway (sockets closed with 1001, as in a deploy) and returns a function that
 * starts a new one on the same port over the same services, as `trendgate serve` would.
 */
export async function stopGateway(h: AppHarness): Promise<() => Promise<() => Promise<void>>> {
  const old = h.app.gateway!;
  const port = old.port;
  await old.close();
  return async () => {
    const next = await startGatewayServer(h.app.services, { port, metrics: h.app.metrics });
    return () => next.close();
  };
}

/** The offline embedder, failing every batch that holds `marker` while `failing` is true. */
export async function createSwitchableEmbedder(
  marker: string,
): Promise<{ embedder: Embedder; setFailing(on: boolean): void }> {
  const real = await createOfflineEmbedder();
  let failing = true;
  return {
    setFailing(on) {
      failing = on;
    },
    embedder: {
      model: real.model,
      dimension: real.dimension,
      async embed(texts) {
        if (failing && texts.some((t) => t.toLowerCase().includes(marker)))
          throw new Error("embedder unavailable (test switch)");
        return real.embed(texts);
      },
      close: () => real.close(),
    },
  };
}
