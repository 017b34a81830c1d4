import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import { afterEach, describe, expect, it, vi } from "vitest";

import { startApp } from "../../src/main.js";
import { createTestEnv, type TestEnv } from "../support/test-env.js";

/** Issue 12 item 7: bootstrap keys go to a 0600 file once, never to stdout, and not at all beside configured keys. */
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function boot(env: TestEnv, file: string) {
  const out: string[] = [];
  const spy = vi
    .spyOn(process.stdout, "write")
    .mockImplementation((chunk) => (out.push(String(chunk)), true));
  const app = await startApp(
    { ...env.config, BOOTSTRAP_KEYS: true, BOOTSTRAP_KEYS_FILE: file },
    { gateway: true, workers: [], port: 0 },
    { logger: env.logger },
  );
  spy.mockRestore();
  await app.stop();
  return out.join("");
}

describe("bootstrap keys", () => {
  it("should write one key per role to a new 0600 file, print only its path, and create nothing on the next start", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "tg-bootstrap-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const env = await createTestEnv();
    cleanups.push(() => env.close());
    const file = path.join(dir, "keys", "bootstrap.txt");

    const printed = await boot(env, file);
    expect(printed).toContain(file);
    expect(printed).not.toMatch(/tg_(operator|moderator|integrator|viewer)_/);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const keys = [...(await readFile(file, "utf8")).matchAll(/^(\w+)\t(tg_\S+)$/gm)].map(
      (m) => m[1],
    );
    expect(keys.sort()).toEqual(["integrator", "moderator", "operator", "viewer"]);

    const before = await readFile(file, "utf8");
    expect(await boot(env, file)).not.toContain(file);
    expect(await readFile(file, "utf8")).toBe(before);
  });

  it("should create no bootstrap keys when TRENDGATE_API_KEYS is set", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "tg-bootstrap-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const env = await createTestEnv({ TRENDGATE_API_KEYS: "operator:configured-operator-key" });
    cleanups.push(() => env.close());
    const file = path.join(dir, "bootstrap.txt");
    await boot(env, file);
    await expect(stat(file)).rejects.toMatchObject({ code: "ENOENT" });
    expect(await env.db.selectFrom("api_keys").select("id").execute()).toEqual([]);
  });
});
