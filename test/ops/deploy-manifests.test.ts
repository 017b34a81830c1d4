import { readdirSync, readFileSync } from "node:fs";

import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";

import { CONFIG_VARIABLES } from "../../src/config.js";
import { SCALABLE_STAGES, STAGE_STREAMS } from "../../src/ops/stages.js";
import { StreamKeys } from "../../src/streams/stream-names.js";

const root = new URL("../../", import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), "utf8");

/** Every "trendgate_..." string literal where metrics are registered (their names are literals). */
function declaredMetrics(): Set<string> {
  const names = new Set<string>();
  for (const file of ["src/observability/metrics.ts", "src/ops/autoscale-metrics.ts"]) {
    for (const m of read(file).matchAll(/"(trendgate_[a-z0-9_]+)"/g)) names.add(m[1]!);
  }
  return names;
}

describe("deploy/grafana/trendgate-dashboard.json", () => {
  const dashboard = JSON.parse(read("deploy/grafana/trendgate-dashboard.json")) as {
    panels: { title: string; targets: { expr: string }[] }[];
  };
  const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));

  it("should query only metrics the code registers", () => {
    const declared = declaredMetrics();
    const queried = new Set(
      exprs.flatMap((e) =>
        [...e.matchAll(/\btrendgate_[a-z0-9_]+/g)].map((m) =>
          m[0].replace(/_(bucket|sum|count)$/, ""),
        ),
      ),
    );
    expect(queried.size).toBeGreaterThan(10);
    expect([...queried].filter((name) => !declared.has(name))).toEqual([]);
  });

  it("should show lag, pending, oldest pending age, consumers, stage rates and latency quantiles", () => {
    const all = exprs.join("\n");
    for (const needle of [
      "trendgate_stream_group_lag",
      "trendgate_stream_group_pending",
      "trendgate_stream_group_oldest_pending_seconds",
      "trendgate_stream_group_consumers",
      "rate(trendgate_stage_processed_total",
      "rate(trendgate_stage_failed_total",
      "rate(trendgate_stage_retried_total",
      "rate(trendgate_stage_dead_lettered_total",
      "histogram_quantile(0.99, sum by (le, stage) (rate(trendgate_stage_duration_seconds_bucket",
      "trendgate_ws_connections",
    ]) {
      expect(all).toContain(needle);
    }
  });
});

describe("deploy/k8s", () => {
  const dir = new URL("deploy/k8s/", root);
  const docs = readdirSync(dir)
    .filter((f) => f.endsWith(".yaml"))
    .flatMap((f) =>
      parseAllDocuments(readFileSync(new URL(f, dir), "utf8")).map((d) => ({
        file: f,
        doc: d.toJS() as K8sObject,
      })),
    )
    .filter((d) => d.doc);
  // Manifests are free-form YAML; the assertions below say which shape they expect.
  type K8sObject = {
    kind: string;
    metadata: { name: string };
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    spec?: any;
    data?: Record<string, string>;
    stringData?: Record<string, string>;
  };
  const byKind = (kind: string) => docs.filter((d) => d.doc.kind === kind).map((d) => d.doc);
  const config = byKind("ConfigMap").find((c) => c.metadata.name === "trendgate-config")!;

  it("should parse, and name only variables src/config.ts reads in the ConfigMap and the example Secret", () => {
    const known = new Set<string>(CONFIG_VARIABLES);
    expect(config).toBeDefined();
    for (const key of Object.keys(config.data ?? {})) expect(known.has(key), key).toBe(true);
    for (const secret of byKind("Secret"))
      for (const key of Object.keys(secret.stringData ?? {}))
        expect(known.has(key), key).toBe(true);
  });

  it("should run a Deployment per worker stage with the stage's CLI arguments", () => {
    const deployments = byKind("Deployment");
    for (const stage of SCALABLE_STAGES) {
      const d = deployments.find((x) => x.metadata.name === `trendgate-worker-${stage}`);
      expect(d, stage).toBeDefined();
      expect(d!.spec.template.spec.containers[0].args).toEqual(["worker", stage]);
    }
    const gateway = deployments.find((x) => x.metadata.name === "trendgate-gateway")!;
    expect(gateway.spec.template.spec.containers[0].args).toEqual(["serve"]);
    expect(byKind("Service").some((s) => s.metadata.name === "trendgate-gateway")).toBe(true);
  });

  it("should scale each worker stage with KEDA on its own stream and consumer group, prefix included", () => {
    const keys = new StreamKeys(config.data?.STREAM_PREFIX ?? "");
    const redisHost = new URL(config.data!.REDIS_URL!).host;
    const scaled = byKind("ScaledObject");
    for (const stage of SCALABLE_STAGES) {
      const so = scaled.find((s) => s.spec.scaleTargetRef.name === `trendgate-worker-${stage}`);
      expect(so, stage).toBeDefined();
      expect(so!.spec.minReplicaCount).toBeLessThanOrEqual(so!.spec.maxReplicaCount);
      const triggers = so!.spec.triggers as { type: string; metadata: Record<string, string> }[];
      expect(
        triggers.some((t) => t.metadata.pendingEntriesCount !== undefined),
        stage,
      ).toBe(true);
      for (const t of triggers) {
        expect(t.type).toBe("redis-streams");
        expect(t.metadata.stream).toBe(keys.key(STAGE_STREAMS[stage].stream));
        expect(t.metadata.consumerGroup).toBe(STAGE_STREAMS[stage].group);
        expect(t.metadata.address).toBe(redisHost);
      }
    }
  });
});
