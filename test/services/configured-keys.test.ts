import { describe, expect, it } from "vitest";

import { ConfigError } from "../../src/config.js";
import { parseConfiguredKeys } from "../../src/services/auth-service.js";

describe("TRENDGATE_API_KEYS", () => {
  it("should read role:key pairs", () => {
    expect(parseConfiguredKeys(" operator:op-secret-1 , viewer:view-secret-2")).toEqual([
      { role: "operator", key: "op-secret-1", tenants: null },
      { role: "viewer", key: "view-secret-2", tenants: null },
    ]);
  });

  it("should give an integrator the default tenant, or the one after @, and staff a tenant list", () => {
    expect(
      parseConfiguredKeys(
        "integrator:int-secret-1,integrator@acme:int-secret-2,moderator@acme+globex:mod-secret-3",
      ),
    ).toEqual([
      { role: "integrator", key: "int-secret-1", tenants: ["default"] },
      { role: "integrator", key: "int-secret-2", tenants: ["acme"] },
      { role: "moderator", key: "mod-secret-3", tenants: ["acme", "globex"] },
    ]);
  });

  it("should refuse an integrator with two tenants or a bad tenant name", () => {
    expect(() => parseConfiguredKeys("integrator@a+b:int-secret-1")).toThrow(ConfigError);
    expect(() => parseConfiguredKeys("viewer@Not Ok:int-secret-1")).toThrow(ConfigError);
  });

  it("should refuse an unknown role with a ConfigError naming the variable and not the key", () => {
    const error = (() => {
      try {
        parseConfiguredKeys("admin:supersecretkey");
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues[0]?.variable).toBe("TRENDGATE_API_KEYS");
    expect((error as Error).message).not.toContain("supersecretkey");
  });

  it("should refuse a key shorter than 8 characters", () => {
    expect(() => parseConfiguredKeys("viewer:short")).toThrow(ConfigError);
  });

  it("should read a reviewer's name, languages, skills and capacity after the role", () => {
    expect(
      parseConfiguredKeys(
        "moderator@acme;name=Ada Lovelace;languages=en+DE;skills=toxicity+senior;capacity=5:mod-secret-4",
      ),
    ).toEqual([
      {
        role: "moderator",
        key: "mod-secret-4",
        tenants: ["acme"],
        name: "Ada Lovelace",
        profile: { languages: ["en", "de"], skills: ["toxicity", "senior"], capacity: 5 },
      },
    ]);
    expect(parseConfiguredKeys("moderator;languages=en:mod-secret-5")[0]?.profile).toEqual({
      languages: ["en"],
      skills: [],
      capacity: 3,
    });
  });

  it("should refuse a bad language, capacity or unknown option, naming the entry and not the key", () => {
    for (const entry of [
      "moderator;languages=english:mod-secret-6",
      "moderator;capacity=0:mod-secret-6",
      "moderator;colour=red:mod-secret-6",
    ]) {
      const error = (() => {
        try {
          parseConfiguredKeys(entry);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(error, entry).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toContain(entry.split(":")[0]);
      expect((error as Error).message).not.toContain("mod-secret-6");
    }
  });
});
