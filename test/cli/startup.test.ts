import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";

import pg from "pg";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);

async function cli(args: string[], env: Record<string, string>) {
  try {
    const { stdout, stderr } = await run(process.execPath, ["bin/trendgate.js", ...args], {
      env: { ...process.env, LOG_LEVEL: "silent", ...env },
      timeout: 30_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe("trendgate CLI at start", () => {
  it("should exit non-zero with one line naming the Postgres URL when Postgres is unreachable", async () => {
    const r = await cli(["migrate"], {
      DATABASE_URL: "postgres://trendgate:secret@127.0.0.1:1/trendgate",
    });
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(
      "cannot reach Postgres at postgres://trendgate:***@127.0.0.1:1/trendgate",
    );
    expect(r.stderr).not.toContain("secret");
  });

  it("should exit non-zero with one line naming the Redis URL when Redis is unreachable", async () => {
    const r = await cli(["migrate"], { REDIS_URL: "redis://127.0.0.1:1" });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain("cannot reach Redis at redis://127.0.0.1:1");
  });

  it("should name the bad variable when configuration does not parse", async () => {
    const r = await cli(["migrate"], { PORT: "eighty" });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^trendgate: invalid configuration: PORT: /);
  });

  it("should refuse a missing POLICY_PATH before it creates or migrates a database", async () => {
    const base = new URL(
      process.env.TEST_DATABASE_URL ??
        process.env.DATABASE_URL ??
        "postgres://trendgate:trendgate@127.0.0.1:5432/trendgate",
    );
    const dbName = `tg_test_nopolicy_${randomBytes(4).toString("hex")}`;
    const url = new URL(base);
    url.pathname = `/${dbName}`;
    const r = await cli(["start"], {
      DATABASE_URL: url.toString(),
      POLICY_PATH: "/nonexistent/judge-policy.json",
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("cannot read judge policy /nonexistent/judge-policy.json");
    const adminUrl = new URL(base);
    adminUrl.pathname = "/postgres";
    const admin = new pg.Client({ connectionString: adminUrl.toString() });
    await admin.connect();
    try {
      const { rowCount } = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [
        dbName,
      ]);
      expect(rowCount).toBe(0);
    } finally {
      // Only when the assertion failed is there one to remove.
      await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(dbName)} WITH (FORCE)`);
      await admin.end();
    }
  });
});
