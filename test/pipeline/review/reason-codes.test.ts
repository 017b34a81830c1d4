import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import { describe, expect, it } from "vitest";

import { DomainError } from "../../../src/domain/domain-error.js";
import {
  loadReasonCodes,
  parseReasonCodes,
  ReasonCodesError,
} from "../../../src/pipeline/review/reason-codes.js";

describe("reason codes", () => {
  const taxonomy = loadReasonCodes(undefined);

  it("should ship the DSA statement-of-reasons categories as the default set", () => {
    const reject = taxonomy.list("REJECT");
    expect(reject.length).toBeGreaterThanOrEqual(14);
    expect(reject.every((c) => c.decisions.includes("REJECT"))).toBe(true);
    expect(taxonomy.get("SCAMS_AND_FRAUD")?.dsaCategory).toBe("STATEMENT_CATEGORY_SCAMS_AND_FRAUD");
  });

  it("should require a known code for REJECT and accept an APPROVE without one", () => {
    expect(taxonomy.validate("REJECT", "VIOLENCE")).toBe("VIOLENCE");
    expect(taxonomy.validate("APPROVE", null)).toBeNull();
    expect(taxonomy.validate("APPROVE", "  ")).toBeNull();
    for (const [decision, code] of [
      ["REJECT", null],
      ["REJECT", ""],
      ["REJECT", "violence"],
      ["REJECT", "NO_VIOLATION"],
      ["APPROVE", "NOPE"],
      ["REJECT", "DEADLINE_DEFAULT"],
    ] as const) {
      const error = (() => {
        try {
          taxonomy.validate(decision, code);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(error, `${decision} ${code}`).toBeInstanceOf(DomainError);
      expect((error as DomainError).code).toBe("BAD_USER_INPUT");
      expect((error as DomainError).data.field).toBe("input.reasonCode");
    }
  });

  it("should load REASON_CODES_PATH and refuse a malformed file or duplicate codes with a typed error", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "reason-codes-"));
    const file = path.join(dir, "codes.json");
    await writeFile(
      file,
      JSON.stringify({
        version: "house-1",
        codes: [{ code: "SPAM", label: "Spam", decisions: ["REJECT"] }],
      }),
    );
    const own = loadReasonCodes(file);
    expect(own.version).toBe("house-1");
    expect(own.validate("REJECT", "SPAM")).toBe("SPAM");
    expect(() => own.validate("REJECT", "VIOLENCE")).toThrow(DomainError);

    await writeFile(file, "{ not json");
    expect(() => loadReasonCodes(file)).toThrow(ReasonCodesError);
    expect(() => parseReasonCodes({ version: "x", codes: [] })).toThrow(/codes/);
    expect(() =>
      parseReasonCodes({ version: "x", codes: [{ code: "A_B", label: "a", decisions: [] }] }),
    ).toThrow(ReasonCodesError);
    expect(() =>
      parseReasonCodes({
        version: "x",
        codes: [
          { code: "A_B", label: "a", decisions: ["REJECT"] },
          { code: "A_B", label: "b", decisions: ["APPROVE"] },
        ],
      }),
    ).toThrow(/twice/);
  });
});
