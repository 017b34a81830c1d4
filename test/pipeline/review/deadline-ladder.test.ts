import { describe, expect, it } from "vitest";

import { ConfigError, loadConfig } from "../../../src/config.js";
import {
  DeadlineConfigError,
  dueRungs,
  parseDeadlineLadders,
} from "../../../src/pipeline/review/deadline-ladder.js";

describe("deadline ladders (ESCALATION_DEADLINES)", () => {
  it("should parse the issue's example and several ladders", () => {
    const ladders = parseDeadlineLadders(
      "TOXICITY:alert@15m,reassign:senior@30m,default:REJECT@2h; low_confidence:default:KEEP_WAITING@1d,APPEAL:alert@90s",
    );
    expect(ladders.toxicity).toEqual([
      { kind: "alert", afterMs: 900_000, rule: "alert@15m" },
      { kind: "reassign", skill: "senior", afterMs: 1_800_000, rule: "reassign:senior@30m" },
      { kind: "default", action: "REJECT", afterMs: 7_200_000, rule: "default:REJECT@2h" },
    ]);
    expect(ladders.low_confidence).toEqual([
      {
        kind: "default",
        action: "KEEP_WAITING",
        afterMs: 86_400_000,
        rule: "default:KEEP_WAITING@1d",
      },
    ]);
    expect(ladders.appeal?.[0]).toMatchObject({ kind: "alert", afterMs: 90_000 });
    expect(parseDeadlineLadders("")).toEqual({});
  });

  it.each([
    ["alert@15m", /starts with an issue type/],
    ["TOXICITY:alert", /needs @/],
    ["TOXICITY:alert@soon", /not a duration/],
    ["TOXICITY:alert@0s", /after 0/],
    ["TOXICITY:shout@15m", /unknown rung/],
    ["TOXICITY:reassign@15m", /needs a skill/],
    ["TOXICITY:default:DELETE@2h", /REJECT, APPROVE or KEEP_WAITING/],
    ["TOXICITY:alert@30m,alert@15m", /increasing/],
    ["TOXICITY:default:REJECT@1h,alert@2h", /last rung/],
    ["TOXICITY:alert@1m;TOXICITY:alert@2m", /two ladders/],
  ])("should refuse %s with a typed error", (value, message) => {
    expect(() => parseDeadlineLadders(value)).toThrow(DeadlineConfigError);
    expect(() => parseDeadlineLadders(value)).toThrow(message);
  });

  it("should stop the process at start with a ConfigError naming ESCALATION_DEADLINES", () => {
    const error = (() => {
      try {
        loadConfig({ ESCALATION_DEADLINES: "TOXICITY:default:DELETE@2h" });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues[0]?.variable).toBe("ESCALATION_DEADLINES");
  });

  it("should refuse webhook URLs without a whsec_ secret", () => {
    expect(() => loadConfig({ WEBHOOK_URLS: "http://127.0.0.1:9/x" })).toThrow(/WEBHOOK_SECRET/);
    expect(() =>
      loadConfig({ WEBHOOK_URLS: "http://127.0.0.1:9/x", WEBHOOK_SECRET: "plain" }),
    ).toThrow(/whsec_/);
    expect(() => loadConfig({ WEBHOOK_URLS: "ftp://x" })).toThrow(/WEBHOOK_URLS/);
  });

  it("should name the due rungs in order, skipping those that fired", () => {
    const ladder = parseDeadlineLadders(
      "TOXICITY:alert@15m,reassign:senior@30m,default:REJECT@2h",
    ).toxicity!;
    expect(dueRungs(ladder, 10 * 60_000, new Set()).map((r) => r.index)).toEqual([]);
    expect(dueRungs(ladder, 31 * 60_000, new Set()).map((r) => r.index)).toEqual([0, 1]);
    expect(dueRungs(ladder, 3 * 3_600_000, new Set([0])).map((r) => r.index)).toEqual([1, 2]);
  });
});
