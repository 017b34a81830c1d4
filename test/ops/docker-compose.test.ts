import { readFileSync } from "node:fs";

import { describe, expect, it } from "vitest";
import { parse } from "yaml";

import { CONFIG_VARIABLES, loadConfig } from "../../src/config.js";
import { SCALABLE_STAGES } from "../../src/ops/stages.js";
import { WORKER_NAMES } from "../../src/pipeline/registry.js";

/**
 * docker-compose.yml cannot run here (no Docker), so this reads it: the services the code needs,
 * wired with the variable names src/config.ts reads, hostnames that are compose services, and
 * start order by health.
 */
const root = new URL("../../", import.meta.url);
const compose = parse(readFileSync(new URL("docker-compose.yml", root), "utf8"), {
  merge: true,
}) as {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
};

interface Service {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  environment?: Record<string, string> | string[];
  depends_on?: Record<string, { condition: string }> | string[];
  healthcheck?: { test: string[] | string };
  deploy?: { replicas?: number };
  ports?: string[];
  volumes?: string[];
}

/** Variables the bundled publish adapter reads itself (src/mcp/publish-adapter-main.ts), not via config.ts. */
const ADAPTER_VARIABLES = ["PUBLISH_MCP_HTTP_PORT", "PUBLISH_MCP_HTTP_HOST"];
// From the registry: every worker `trendgate worker` knows must run somewhere in compose.

const services = compose.services;
const ours = Object.entries(services).filter(([, s]) => s.build !== undefined);
const envOf = (s: Service): Record<string, string> =>
  Array.isArray(s.environment)
    ? Object.fromEntries(
        s.environment.map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]),
      )
    : Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, String(v)]));
/** What compose passes when .env sets nothing: `${NAME:-default}` → default. */
const interpolate = (value: string) =>
  value.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, "$1").replace(/\$\{[A-Z_]+\}/g, "");
const commandOf = (s: Service) =>
  Array.isArray(s.command) ? s.command : String(s.command ?? "").split(/\s+/);

describe("docker-compose.yml", () => {
  it("should hold every server the code talks to and one service per runtime part", () => {
    for (const name of ["postgres", "redis", "weaviate", "jaeger", "migrate", "gateway"])
      expect(services, name).toHaveProperty(name);
    expect(services.postgres!.image).toMatch(/^postgres:15/);
    expect(services.redis!.image).toMatch(/^redis:7/);
    expect(commandOf(services.gateway!)).toEqual(["serve"]);
    expect(commandOf(services.migrate!)).toEqual(["migrate"]);
    const workersRun = ours.flatMap(([, s]) =>
      commandOf(s)[0] === "worker" ? commandOf(s).slice(1) : [],
    );
    expect([...new Set(workersRun)].sort()).toEqual([...WORKER_NAMES].sort());
  });

  it("should run ETL and embedding with two replicas each", () => {
    const replicas = (stage: string) =>
      ours
        .filter(([, s]) => commandOf(s).join(" ") === `worker ${stage}`)
        .reduce((n, [, s]) => n + (s.deploy?.replicas ?? 1), 0);
    expect(replicas("etl")).toBeGreaterThanOrEqual(2);
    expect(replicas("embedding")).toBeGreaterThanOrEqual(2);
    for (const stage of SCALABLE_STAGES) expect(replicas(stage), stage).toBeGreaterThanOrEqual(1);
  });

  it("should set only variables that src/config.ts (or the publish adapter) reads on our services", () => {
    const known = new Set<string>([...CONFIG_VARIABLES, ...ADAPTER_VARIABLES]);
    for (const [name, s] of ours) {
      const unknown = Object.keys(envOf(s)).filter((k) => !known.has(k));
      expect(unknown, name).toEqual([]);
    }
  });

  it("should give every service of ours the variables scripts and compose rely on, with values config accepts", () => {
    for (const [name, s] of ours) {
      const env = envOf(s);
      for (const v of [
        "DATABASE_URL",
        "REDIS_URL",
        "WEAVIATE_URL",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "TRENDGATE_API_KEYS",
        "PUBLISH_JSONL_PATH",
        "PORT",
      ]) {
        expect(env, `${name} sets ${v}`).toHaveProperty(v);
      }
      const config = loadConfig(
        Object.fromEntries(Object.entries(env).map(([k, v]) => [k, interpolate(v)])),
      );
      expect(config.PORT).toBe(4000);
    }
  });

  it("should point every URL at a compose service by its name and port", () => {
    const expected: Record<string, string> = {
      DATABASE_URL: "postgres",
      REDIS_URL: "redis",
      WEAVIATE_URL: "weaviate",
      OTEL_EXPORTER_OTLP_ENDPOINT: "jaeger",
    };
    for (const [name, s] of ours) {
      const env = envOf(s);
      for (const [variable, host] of Object.entries(expected)) {
        const url = new URL(interpolate(env[variable]!));
        expect(url.hostname, `${name} ${variable}`).toBe(host);
        expect(services, `${name} ${variable}`).toHaveProperty(host);
      }
      expect(new URL(env.OTEL_EXPORTER_OTLP_ENDPOINT!).port, "OTLP over HTTP").toBe("4318");
    }
  });

  it("should run Redis with AOF and Jaeger with OTLP", () => {
    expect(commandOf(services.redis!).join(" ")).toMatch(/--appendonly yes/);
    expect(envOf(services.jaeger!).COLLECTOR_OTLP_ENABLED).toBe("true");
  });

  it("should start our services only after the servers are healthy and migrations ran", () => {
    for (const [name, s] of ours) {
      const deps = s.depends_on as Record<string, { condition: string }>;
      expect(Array.isArray(deps), `${name} depends_on must name conditions`).toBe(false);
      expect(deps.postgres?.condition, name).toBe("service_healthy");
      expect(deps.redis?.condition, name).toBe("service_healthy");
      if (name !== "migrate")
        expect(deps.migrate?.condition, name).toBe("service_completed_successfully");
      for (const [dep, { condition }] of Object.entries(deps)) {
        expect(services, `${name} depends on ${dep}`).toHaveProperty(dep);
        if (condition === "service_healthy")
          expect(services[dep]!.healthcheck, `${dep} needs a healthcheck`).toBeDefined();
      }
    }
  });

  it("should publish the gateway's port and check its /healthz", () => {
    const gateway = services.gateway!;
    expect(gateway.ports).toContain(`${envOf(gateway).PORT}:${envOf(gateway).PORT}`);
    expect(JSON.stringify(gateway.healthcheck?.test)).toContain("/healthz");
  });

  it("should keep published items on a volume at PUBLISH_JSONL_PATH for the publisher", () => {
    const publisher = ours.find(([, s]) => commandOf(s).join(" ") === "worker publisher")![1];
    const dir = envOf(publisher).PUBLISH_JSONL_PATH!.replace(/\/[^/]+$/, "");
    const mount = (publisher.volumes ?? []).find((v) => v.split(":")[1] === dir);
    expect(mount, `a volume mounted at ${dir}`).toBeDefined();
    expect(compose.volumes).toHaveProperty(mount!.split(":")[0]!);
  });

  it("should build every service of ours from the one Dockerfile that runs the CLI", () => {
    const dockerfile = readFileSync(new URL("Dockerfile", root), "utf8");
    expect(dockerfile).toMatch(/^FROM node:20-bookworm-slim\s*$/m);
    expect(dockerfile).toMatch(/ENTRYPOINT \["node", "bin\/trendgate.js"\]/);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    for (const [name, s] of ours) expect(s.build, name).toBe(".");
  });
});
