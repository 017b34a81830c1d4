/**
 * Issue 14's "what it must show", through `trendgate start` (not the in-process harness of
 * test/e2e/review-routing.test.ts and test/e2e/appeals-webhooks.test.ts):
 *
 *   npx tsx bench/review/walkthrough.ts [--port 4361] [--database tg_walkthrough] [--prefix wt:]
 *       [--keep-state]
 *
 * It drops and recreates its own database and Redis prefix (unless --keep-state), starts a
 * signed-webhook receiver on 127.0.0.1 (a port it picks), spawns `trendgate start` (node bin/trendgate.js start, what npx runs) with
 * TRENDGATE_API_KEYS (integrator, operator, moderators en1, en2, en3 `languages=en`, de
 * `languages=de`), a POLICY_PATH asking two reviews for TOXICITY and WEBHOOK_URLS/WEBHOOK_SECRET
 * pointing at the receiver, runs the checks over HTTP, and stops the child with SIGINT.
 * Webhooks are verified twice: by the standardwebhooks library and by the independent verifier
 * written from the specification in test/webhooks/receiver.ts.
 * Prints each check as it runs, a table, and one last JSON line; exits 1 on any failed check.
 */
import { randomBytes } from "node:crypto";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Webhook } from "standardwebhooks";
import { type Delivery, startReceiver } from "../../test/webhooks/receiver.js";
import { type Exit, freshState, newKeys, startGateway } from "./walkthrough-gateway.js";

const { values: args } = parseArgs({
  options: {
    port: { type: "string", default: "4361" },
    database: { type: "string", default: "tg_walkthrough" },
    prefix: { type: "string", default: "wt:" },
    "keep-state": { type: "boolean", default: false },
  },
});
const DATABASE_URL = `postgres://trendgate:trendgate@127.0.0.1:5432/${args.database}`;
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const SECRET = `whsec_${randomBytes(32).toString("base64")}`;
const TOXIC =
  "I will kill you and your whole family if you ever show up in this town again, you worthless idiot.";
const THREAT = "I will kill you if you show up here again";
const started = performance.now();

interface Check {
  name: string;
  ok: boolean;
  detail: string;
}
const checks: Check[] = [];
function check(name: string, ok: boolean, detail: unknown): void {
  const text = typeof detail === "string" ? detail : JSON.stringify(detail);
  checks.push({ name, ok, detail: text });
  console.log(`${ok ? "PASS" : "FAIL"}  ${name}  — ${text}`);
}

async function until<T>(
  what: string,
  read: () => Promise<T | undefined>,
  timeoutMs = 90_000,
): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      console.log(`(gave up waiting for ${what} after ${timeoutMs} ms)`);
      return undefined;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

interface GqlResult<T> {
  data?: T;
  errors?: { message: string; extensions?: { code?: string; reason?: string } }[];
}

const keys = newKeys();
const receiver = await startReceiver(SECRET);
const verifier = new Webhook(SECRET);
if (!args["keep-state"]) await freshState(DATABASE_URL, args.prefix, REDIS_URL);
const logPath = join(process.cwd(), "bench/results/walkthrough-gateway.log");
await mkdir("bench/results", { recursive: true });
console.log(
  `receiver ${receiver.url}; starting trendgate start on port ${args.port} (log: ${logPath})`,
);
const gateway = await startGateway({
  port: Number(args.port),
  databaseUrl: DATABASE_URL,
  streamPrefix: args.prefix,
  keys,
  webhookUrl: receiver.url,
  webhookSecret: SECRET,
  logPath,
});
const env = { ...gateway.env, TRENDGATE_API_KEYS: "<6 keys>", WEBHOOK_SECRET: "<whsec_…>" };
console.log(
  `gateway ready in ${((performance.now() - started) / 1000).toFixed(1)} s with ${JSON.stringify(env)}`,
);

async function gql<T>(
  key: string,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<GqlResult<T>> {
  const response = await fetch(`${gateway.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as GqlResult<T>;
}
const code = (r: GqlResult<unknown>) =>
  r.errors?.[0]?.extensions?.code ?? (r.errors ? "ERROR" : "ok");

const ESC =
  "id status issueType claimToken reviewProgress { required received } trend { id status language }";
interface Esc {
  id: string;
  status: string;
  issueType: string;
  claimToken: string | null;
  reviewProgress: { required: number; received: number };
  trend: { id: string; status: string; language: string };
}
const claimNext = (key: string) =>
  gql<{ claimNextEscalation: Esc | null }>(key, `mutation { claimNextEscalation { ${ESC} } }`);
const resolve = (key: string, id: string, input: Record<string, unknown>) =>
  gql<{ resolveEscalation: Esc }>(
    key,
    `mutation($id: ID!, $input: ResolveEscalationInput!) { resolveEscalation(id: $id, input: $input) { ${ESC} } }`,
    { id, input },
  );
const trendStatus = async (id: string) =>
  (
    await gql<{ trend: { status: string } }>(
      keys.operator,
      `query($id: ID!) { trend(id: $id) { status } }`,
      { id },
    )
  ).data?.trend.status;

/** Ingests one item and waits until the Judge escalated it; returns its ids and issue type. */
async function ingestEscalated(externalId: string, body: string) {
  const r = await gql<{ ingestTrends: { id: string }[] }>(
    keys.integrator,
    "mutation($inputs: [TrendInput!]!) { ingestTrends(inputs: $inputs) { id } }",
    {
      inputs: [{ source: "walkthrough", externalId, body }],
    },
  );
  const trendId = r.data?.ingestTrends[0]?.id;
  if (!trendId) throw new Error(`ingestTrends failed: ${JSON.stringify(r.errors)}`);
  const escalation = await until(`${externalId} escalated`, async () => {
    const q = await gql<{
      trend: { status: string; escalations: { id: string; issueType: string }[] };
    }>(
      keys.operator,
      "query($id: ID!) { trend(id: $id) { status escalations { id issueType } } }",
      { id: trendId },
    );
    return q.data?.trend.status === "ESCALATED" ? q.data.trend.escalations[0] : undefined;
  });
  return { trendId, escalation };
}

/** Both verifiers must accept it: the standardwebhooks library and the spec-written one. */
const doubleVerified = (d: Delivery) => {
  try {
    verifier.verify(d.raw, d.headers as Record<string, string>);
  } catch {
    return false;
  }
  return d.verified;
};
const eventsFor = (trendId: string, type: string) =>
  receiver.accepted().filter((d) => d.body.type === type && d.body.data.trendId === trendId);

async function partOne(): Promise<void> {
  const { trendId, escalation } = await ingestEscalated("toxic-en-1", TOXIC);
  check("1.1 English toxic item escalated as TOXICITY", escalation?.issueType === "TOXICITY", {
    trendId,
    escalation,
  });
  if (!escalation) return;
  const de = await claimNext(keys.de);
  check(
    "1.2 de reviewer: claimNextEscalation returns null",
    code(de) === "ok" && de.data?.claimNextEscalation === null,
    de.data ?? de.errors,
  );
  const deById = await gql(keys.de, "mutation($id: ID!) { claimEscalation(id: $id) { id } }", {
    id: escalation.id,
  });
  check(
    "1.2b de reviewer: claimEscalation(id) is FORBIDDEN (NOT_ELIGIBLE), saying why",
    code(deById) === "FORBIDDEN" && deById.errors?.[0]?.extensions?.reason === "NOT_ELIGIBLE",
    deById.errors?.[0]?.message ?? deById.data,
  );
  const first = (await claimNext(keys.en1)).data?.claimNextEscalation;
  check(
    "1.3 en1: claimNextEscalation returns it, CLAIMED, language en",
    first?.id === escalation.id && first.status === "CLAIMED" && first.trend.language === "en",
    first,
  );
  const approved = await resolve(keys.en1, escalation.id, {
    decision: "APPROVE",
    note: "heated, not a threat",
    claimToken: first?.claimToken,
  });
  const one = approved.data?.resolveEscalation;
  check(
    "1.4 en1 APPROVE: escalation IN_REVIEW (1 of 2), trend still ESCALATED",
    one?.status === "IN_REVIEW" &&
      one.trend.status === "ESCALATED" &&
      one.reviewProgress.received === 1 &&
      one.reviewProgress.required === 2,
    one ?? approved.errors,
  );
  const again = await resolve(keys.en1, escalation.id, { decision: "APPROVE" });
  check(
    "1.5 en1 reviews again: CONFLICT",
    code(again) === "CONFLICT",
    again.errors?.[0] ?? again.data,
  );
  const deAgain = await claimNext(keys.de);
  check(
    "1.6 de reviewer still gets null while IN_REVIEW",
    deAgain.data?.claimNextEscalation === null,
    deAgain.data ?? deAgain.errors,
  );
  const second = (await claimNext(keys.en2)).data?.claimNextEscalation;
  check("1.7 en2: claimNextEscalation returns it", second?.id === escalation.id, second);
  const final = await resolve(keys.en2, escalation.id, {
    decision: "APPROVE",
    claimToken: second?.claimToken,
  });
  const two = final.data?.resolveEscalation;
  check(
    "1.8 en2 APPROVE: escalation RESOLVED, trend APPROVED (or already PUBLISHED)",
    two?.status === "RESOLVED" && ["APPROVED", "PUBLISHED"].includes(two.trend.status),
    two ?? final.errors,
  );
  const published = await until("PUBLISHED", async () =>
    (await trendStatus(trendId)) === "PUBLISHED" ? true : undefined,
  );
  check("1.9 trend PUBLISHED", published === true, { status: await trendStatus(trendId) });
  const created = await until(
    "escalation.created",
    async () => eventsFor(trendId, "escalation.created")[0],
  );
  check(
    "1.10 receiver got escalation.created, signature valid (standardwebhooks + spec verifier)",
    !!created && doubleVerified(created),
    created ? { id: created.id, data: created.body.data } : "none",
  );
  const resolved = await until(
    "escalation.resolved",
    async () => eventsFor(trendId, "escalation.resolved")[0],
  );
  check(
    "1.11 receiver got escalation.resolved (APPROVE), signature valid",
    !!resolved && resolved.body.data.decision === "APPROVE" && doubleVerified(resolved),
    resolved ? { id: resolved.id, data: resolved.body.data } : "none",
  );
  const resolvedCount = eventsFor(trendId, "escalation.resolved").length;
  check("1.12 escalation.resolved sent once (after the second review only)", resolvedCount === 1, {
    escalationResolvedEvents: resolvedCount,
  });
}

async function partTwo(): Promise<void> {
  const { trendId, escalation } = await ingestEscalated("appeal-en-1", THREAT);
  check("2.1 second toxic item escalated", !!escalation, { trendId, escalation });
  if (!escalation) return;
  // Two reviews are needed for TOXICITY: en1 and en2 both REJECT with a reason code.
  for (const [who, key] of [
    ["en1", keys.en1],
    ["en2", keys.en2],
  ] as const) {
    const claimed = (await claimNext(key)).data?.claimNextEscalation;
    const r = await resolve(key, escalation.id, {
      decision: "REJECT",
      reasonCode: "VIOLENCE",
      note: "reads as a threat",
      claimToken: claimed?.claimToken,
    });
    check(
      `2.2 ${who} claims and REJECTs with reason VIOLENCE`,
      claimed?.id === escalation.id && code(r) === "ok",
      r.data?.resolveEscalation ?? r.errors,
    );
  }
  check("2.3 trend REJECTED", (await trendStatus(trendId)) === "REJECTED", {
    status: await trendStatus(trendId),
  });
  const appeal = `mutation($id: ID!, $s: String!) { appealDecision(trendId: $id, statement: $s) { id issueType status appealOf } }`;
  const opened = await gql<{
    appealDecision: { id: string; issueType: string; status: string; appealOf: string };
  }>(keys.integrator, appeal, {
    id: trendId,
    s: "This is a quote from a film review, not a threat.",
  });
  const appealEsc = opened.data?.appealDecision;
  check(
    "2.4 integrator appealDecision: APPEAL escalation OPEN, of the rejected one",
    appealEsc?.issueType === "APPEAL" && appealEsc.appealOf === escalation.id,
    appealEsc ?? opened.errors,
  );
  if (!appealEsc) return;
  const deciders = await Promise.all([claimNext(keys.en1), claimNext(keys.en2)]);
  check(
    "2.5 the reviewers who decided it get null for the appeal",
    deciders.every((d) => d.data?.claimNextEscalation === null),
    deciders.map((d) => d.data ?? d.errors),
  );
  const claimed = (await claimNext(keys.en3)).data?.claimNextEscalation;
  const final = await resolve(keys.en3, appealEsc.id, {
    decision: "APPROVE",
    reasonCode: "CONTEXT_NEWSWORTHY",
    note: "a film quote",
    claimToken: claimed?.claimToken,
  });
  check(
    "2.6 en3 claims the appeal and APPROVEs (CONTEXT_NEWSWORTHY)",
    claimed?.id === appealEsc.id && final.data?.resolveEscalation.status === "RESOLVED",
    final.data?.resolveEscalation ?? final.errors,
  );
  const published = await until("appeal PUBLISHED", async () =>
    (await trendStatus(trendId)) === "PUBLISHED" ? true : undefined,
  );
  check("2.7 trend PUBLISHED", published === true, { status: await trendStatus(trendId) });
  // Give a duplicate publication the time to show up before counting.
  await new Promise((r) => setTimeout(r, 2000));
  const lines = (await readFile(gateway.publishedPath, "utf8").catch(() => ""))
    .split("\n")
    .filter((l) => l.includes(trendId));
  const prov = await gql<{
    provenance: { entries: { step: string; input: Record<string, unknown> }[] };
  }>(keys.integrator, "query($id: ID!) { provenance(trendId: $id) { entries { step input } } }", {
    id: trendId,
  });
  const entries = prov.data?.provenance.entries ?? [];
  check(
    "2.8 published once (adapter output lines, publish provenance entries)",
    lines.length === 1 && entries.filter((e) => e.step === "publish").length === 1,
    {
      adapterLines: lines.length,
      publishEntries: entries.filter((e) => e.step === "publish").length,
    },
  );
  const trail = entries
    .filter((e) => ["resolution", "appeal", "publish"].includes(e.step))
    .map((e) => [e.step, e.input.decision ?? null, e.input.reasonCode ?? null]);
  const expected = [
    ["resolution", "REJECT", "VIOLENCE"],
    ["appeal", "REJECT", "VIOLENCE"],
    ["resolution", "APPROVE", "CONTEXT_NEWSWORTHY"],
    ["publish", null, "CONTEXT_NEWSWORTHY"],
  ];
  check(
    "2.9 provenance (integrator's view): decision, reason code, appeal, final decision, publish, in order",
    JSON.stringify(trail) === JSON.stringify(expected),
    trail,
  );
  const appealEvent = await until(
    "appeal.opened",
    async () => eventsFor(trendId, "appeal.opened")[0],
  );
  check(
    "2.10 receiver got appeal.opened, signature valid",
    !!appealEvent && doubleVerified(appealEvent),
    appealEvent?.body.data ?? "none",
  );
}

let exit: Exit;
try {
  await partOne();
  await partTwo();
  check(
    "3.1 every request the receiver got verified (standardwebhooks + spec verifier)",
    receiver.requests.length > 0 && receiver.requests.every(doubleVerified),
    { requests: receiver.requests.length },
  );
} catch (error) {
  check(
    "walkthrough ran to the end",
    false,
    error instanceof Error ? error.message : String(error),
  );
} finally {
  exit = await gateway.stop();
  await receiver.close();
}
check("3.2 trendgate start stopped by SIGINT, exit 0", exit.code === 0, exit);

const passed = checks.filter((c) => c.ok).length;
console.log(
  "\ncheck                                                                                    result",
);
for (const c of checks) console.log(`${c.name.padEnd(88)} ${c.ok ? "PASS" : "FAIL"}`);
console.log(
  JSON.stringify({
    checks: checks.length,
    passed,
    failed: checks.filter((c) => !c.ok).map((c) => c.name),
    webhookRequests: receiver.requests.length,
    seconds: Math.round((performance.now() - started) / 100) / 10,
  }),
);
if (passed !== checks.length) process.exitCode = 1;
