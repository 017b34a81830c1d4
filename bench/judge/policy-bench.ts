/**
 * Policy simulation and calibration on a seeded history (issue 13):
 *
 *   npx tsx bench/judge/policy-bench.ts [--items 5000] [--decisions 500] [--repeats 7] [--seed 13]
 *
 * Seeds a fresh database (dropped afterwards) with --items judged items whose scores look like
 * the offline models' (a 30 % toxic mix, toxicity scores that separate the classes imperfectly,
 * confidence spread over 0.2–1), decided by the default policy; --decisions escalations get a
 * moderator decision equal to the hidden label (2 % of them flipped, as moderators disagree),
 * 10 % of those being resolved audit samples. Then it times `simulateJudgePolicy` (one query plus
 * the in-memory replay, --repeats times, median and max) and one `judge calibrate --target-leak
 * 0.01`, and prints the proposal's figures beside the active policy's. Last line: JSON.
 * Results also go to bench/results/judge-policy.json.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";

import { seededRandom } from "../../src/domain/seeded-random.js";
import { ActiveJudgePolicy } from "../../src/pipeline/judge/active-policy.js";
import { judge, type JudgePolicy } from "../../src/pipeline/judge/judge-policy.js";
import { JudgePolicyService } from "../../src/pipeline/judge/judge-policy-service.js";
import { PolicyProvider } from "../../src/pipeline/judge/policy-provider.js";
import { type JudgedSeed, seedJudged } from "../../test/support/seed-judged.js";
import { createTestEnv } from "../../test/support/test-env.js";

const { values: args } = parseArgs({
  options: {
    items: { type: "string", default: "5000" },
    decisions: { type: "string", default: "500" },
    repeats: { type: "string", default: "7" },
    seed: { type: "string", default: "13" },
  },
});
const items = Number(args.items);
const decisions = Number(args.decisions);
const repeats = Number(args.repeats);
const random = seededRandom(Number(args.seed));

const env = await createTestEnv();
try {
  const active = new ActiveJudgePolicy({
    db: env.db,
    configured: new PolicyProvider(undefined, { minConfidence: 0.6, maxToxicity: 0.8 }, env.logger),
    configSource: "bench defaults",
    logger: env.logger,
  });
  const service = new JudgePolicyService({ db: env.db, active });
  const policy = (await active.current()).policy;

  const seeds = history(items, decisions, policy);
  const t0 = performance.now();
  await seedJudged(env.db, seeds);
  const seedMs = performance.now() - t0;
  const moderatorDecisions = seeds.filter((s) => s.decision).length;

  const proposed = { thresholds: { minConfidence: 0.45, maxToxicity: 0.8, toxicityCeiling: 0.95 } };
  const simMs: number[] = [];
  let simulation = await service.simulate(proposed);
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    simulation = await service.simulate(proposed);
    simMs.push(performance.now() - start);
  }
  const c0 = performance.now();
  const calibration = await service.calibrate({ targetLeak: 0.01 });
  const calibrateMs = performance.now() - c0;

  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const pct = (x: number | undefined) => (x === undefined ? "-" : `${(x * 100).toFixed(1)} %`);
  console.log(
    `seeded ${items} judged items (${moderatorDecisions} moderator decisions) in ${seedMs.toFixed(0)} ms`,
  );
  console.log("");
  console.log("| measure | value |");
  console.log("| --- | --- |");
  console.log(
    `| simulateJudgePolicy, ${simulation.items} items, median of ${repeats} | ${median(simMs).toFixed(1)} ms |`,
  );
  console.log(`| simulateJudgePolicy, max | ${Math.max(...simMs).toFixed(1)} ms |`);
  console.log(
    `| judge calibrate (${calibration.decisions} decisions, grid + history replay) | ${calibrateMs.toFixed(0)} ms |`,
  );
  console.log("");
  const t = calibration.policy?.thresholds;
  console.log(
    `proposal: ${t ? `minConfidence ${t.minConfidence}, maxToxicity ${t.maxToxicity}, toxicityCeiling ${t.toxicityCeiling}` : `refused: ${calibration.refusedReason}`}`,
  );
  console.log("| on labelled decisions | active | proposed |");
  console.log("| --- | --- | --- |");
  console.log(
    `| escalated | ${pct(calibration.active.escalatedRate)} | ${pct(calibration.proposed?.escalatedRate)} |`,
  );
  console.log(
    `| toxic published | ${pct(calibration.active.toxicPublishedRate)} | ${pct(calibration.proposed?.toxicPublishedRate)} |`,
  );
  console.log(
    `| clean rejected | ${pct(calibration.active.cleanRejectedRate)} | ${pct(calibration.proposed?.cleanRejectedRate)} |`,
  );
  const sim = calibration.simulation;
  if (sim) {
    console.log(
      `| on all ${sim.items} judged items: escalation rate | ${pct(sim.active.escalationRate)} | ${pct(sim.proposed.escalationRate)} |`,
    );
    console.log(
      `| moderator REJECTED, would publish | ${sim.active.moderatorRejectedPublished} | ${sim.proposed.moderatorRejectedPublished} |`,
    );
    console.log(
      `| moderator APPROVED, would reject | ${sim.active.moderatorApprovedRejected} | ${sim.proposed.moderatorApprovedRejected} |`,
    );
  }
  const result = {
    items: simulation.items,
    moderator_decisions: moderatorDecisions,
    simulate_ms_median: round(median(simMs)),
    simulate_ms_max: round(Math.max(...simMs)),
    calibrate_ms: round(calibrateMs),
    proposed_thresholds: t ?? null,
    active_escalated_rate: round(calibration.active.escalatedRate, 4),
    proposed_escalated_rate: calibration.proposed
      ? round(calibration.proposed.escalatedRate, 4)
      : null,
    proposed_toxic_published_rate: calibration.proposed
      ? round(calibration.proposed.toxicPublishedRate, 4)
      : null,
    proposed_clean_rejected_rate: calibration.proposed
      ? round(calibration.proposed.cleanRejectedRate, 4)
      : null,
    history_escalation_rate_active: sim ? round(sim.active.escalationRate, 4) : null,
    history_escalation_rate_proposed: sim ? round(sim.proposed.escalationRate, 4) : null,
  };
  await mkdir("bench/results", { recursive: true });
  await writeFile("bench/results/judge-policy.json", `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result));
} finally {
  await env.close();
}

/** A judged history decided by `policy`, with moderator decisions on `decided` escalations. */
function history(count: number, decided: number, policy: JudgePolicy): JudgedSeed[] {
  const out: JudgedSeed[] = [];
  let withDecision = 0;
  for (let i = 0; i < count; i++) {
    const toxic = random() < 0.3;
    // Scores that overlap near the middle, as a real classifier's do.
    const toxicity = clamp(toxic ? 1 - Math.abs(gauss()) * 0.25 : Math.abs(gauss()) * 0.2);
    const confidence = clamp(0.2 + random() * 0.8);
    const decision = judge(
      { source: "bench", title: null, body: "", toxicityScore: toxicity, confidence },
      policy,
    );
    const audit = decision.outcome === "READY" && random() < 0.05;
    const seed: JudgedSeed = {
      toxicity,
      confidence,
      outcome: audit ? "ESCALATED" : decision.outcome,
      rule: audit ? "audit_sample" : decision.rule,
      auditSample: audit,
    };
    if (
      seed.outcome === "ESCALATED" &&
      withDecision < decided &&
      (audit ? withDecision < decided * 0.1 + 1 : true)
    ) {
      const flipped = random() < 0.02;
      seed.decision = toxic !== flipped ? "REJECT" : "APPROVE";
      withDecision += 1;
    }
    out.push(seed);
  }
  return out;
}

function gauss(): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}
function clamp(x: number): number {
  return Math.round(Math.min(1, Math.max(0, x)) * 1000) / 1000;
}
function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
