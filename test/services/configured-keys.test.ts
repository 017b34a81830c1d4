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
    expect(parseConfiguredKeys("integrator:int-secret-1,integrator@acme:int-secret-2,moderator@acme+globex:mod-secret-3")).toEqual([
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
});
