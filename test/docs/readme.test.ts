import { readFileSync } from "node:fs";

import { describe, expect, it } from "vitest";

import { CONFIG_VARIABLES } from "../../src/config.js";

describe("README", () => {
  const readme = readFileSync("README.md", "utf8");

  it("should document every configuration variable src/config.ts reads", () => {
    const missing = CONFIG_VARIABLES.filter((name) => !readme.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });

  it("should open with the two commands a newcomer runs", () => {
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";
    expect(firstBlock).toMatch(/^npm start\b/m);
    expect(firstBlock).toMatch(/^npm test\b/m);
  });
});
