import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STREAMS } from "../../src/streams/stream-names.js";
import { type AppHarness, eventually, startHarness } from "../support/app-harness.js";
import { type Receiver, startReceiver, verifyStandardWebhook } from "../webhooks/receiver.js";

/**
 * Issue 14, items 5, 6 and 8 through a whole Trendgate (`trendgate start`'s workers): reason codes
 * on decisions, an appeal by the item's integrator decided by another reviewer, and signed
 * webhooks to two receivers on 127.0.0.1, one of which goes down.
 */
const SECRET = `whsec_${randomBytes(32).toString("base64")}`;
let h: AppHarness;
let steady: Receiver;
let flaky: Receiver;
let secondModerator: string;

beforeAll(async () => {
  steady = await startReceiver(SECRET);
  flaky = await startReceiver(SECRET);
  h = await startHarness({
    config: {
      WEBHOOK_URLS: [steady.url, flaky.url],
      WEBHOOK_SECRET: SECRET,
      WEBHOOK_MAX_ATTEMPTS: 3,
      RETRY_BASE_MS: 20,
      RETRY_MAX_MS: 100,
    },
  });
  secondModerator = (await h.app.services.auth.createKey("moderator", "second-moderator")).key;
}, 120_000);
afterAll(async () => {
  await h?.close();
  await steady?.close();
  await flaky?.close();
});

const THREAT = { source: "forum", body: "I will kill you if you show up here again" };

async function ingestEscalated(
  externalId: string,
  key = h.keys.integrator,
): Promise<{ trendId: string; escalationId: string }> {
  const r = await h.gql<{ ingestTrend: { id: string } }>(
    `mutation($input: TrendInput!) { ingestTrend(input: $input) { id } }`,
    { input: { ...THREAT, externalId } },
    key,
  );
  if (!r.data) throw new Error(JSON.stringify(r.errors));
  const trendId = r.data.ingestTrend.id;
  const escalationId = await eventually(async () => {
    const q = await h.gql<{ trend: { status: string; escalations: { id: string }[] } }>(
      `query($id: ID!) { trend(id: $id) { status escalations { id } } }`,
      { id: trendId },
    );
    return q.data?.trend.status === "ESCALATED" ? q.data.trend.escalations[0]?.id : undefined;
  }, 60_000);
  return { trendId, escalationId };
}

const resolve = (id: string, input: Record<string, unknown>, key: string) =>
  h.gql<{
    resolveEscalation: {
      status: string;
      resolution: { decision: string; reasonCode: string | null };
    };
  }>(
    `mutation($id: ID!, $input: ResolveEscalationInput!) { resolveEscalation(id: $id, input: $input) { status resolution { decision reasonCode } } }`,
    { id, input },
    key,
  );

const appeal = (
  trendId: string,
  key: string,
  statement = "This is a quote from a film review, not a threat.",
) =>
  h.gql<{ appealDecision: { id: string; issueType: string; status: string; appealOf: string } }>(
    `mutation($id: ID!, $s: String!) { appealDecision(trendId: $id, statement: $s) { id issueType status appealOf } }`,
    { id: trendId, s: statement },
    key,
  );

const status = async (id: string) =>
  (
    await h.gql<{ trend: { status: string } }>(`query($id: ID!) { trend(id: $id) { status } }`, {
      id,
    })
  ).data?.trend.status;

const eventsFor = (r: Receiver, trendId: string, type: string) =>
  r.accepted().filter((d) => d.body.type === type && d.body.data.trendId === trendId);

describe(
  "reason codes, appeals and signed webhooks through the whole app",
  { timeout: 120_000 },
  () => {
    it("should refuse a REJECT without a reason code or with an unknown one (BAD_USER_INPUT), and list the taxonomy", async () => {
      const { escalationId } = await ingestEscalated("codes-1");
      const missing = await resolve(escalationId, { decision: "REJECT" }, h.keys.moderator);
      expect(missing.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
      expect(missing.errors?.[0]?.extensions?.field).toBe("input.reasonCode");
      const unknown = await resolve(
        escalationId,
        { decision: "REJECT", reasonCode: "BECAUSE" },
        h.keys.moderator,
      );
      expect(unknown.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
      const wrongKind = await resolve(
        escalationId,
        { decision: "REJECT", reasonCode: "NO_VIOLATION" },
        h.keys.moderator,
      );
      expect(wrongKind.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
      const list = await h.gql<{ reasonCodes: { code: string; dsaCategory: string | null }[] }>(
        `{ reasonCodes(decision: REJECT) { code dsaCategory } }`,
        {},
        h.keys.integrator,
      );
      expect(list.data!.reasonCodes.map((c) => c.code)).toContain("ILLEGAL_OR_HARMFUL_SPEECH");
      expect(list.data!.reasonCodes.map((c) => c.code)).not.toContain("NO_VIOLATION");
      const ok = await resolve(
        escalationId,
        { decision: "REJECT", reasonCode: "VIOLENCE" },
        h.keys.moderator,
      );
      expect(ok.data?.resolveEscalation.resolution).toEqual({
        decision: "REJECT",
        reasonCode: "VIOLENCE",
      });
    });

    it("should publish once an item its integrator appealed and another reviewer approved, with decision, reason code, appeal and final decision in provenance, in order", async () => {
      const { trendId, escalationId } = await ingestEscalated("appeal-1");
      expect(
        (
          await resolve(
            escalationId,
            { decision: "REJECT", reasonCode: "VIOLENCE", note: "reads as a threat" },
            h.keys.moderator,
          )
        ).errors,
      ).toBeUndefined();
      expect(await status(trendId)).toBe("REJECTED");

      const opened = await appeal(trendId, h.keys.integrator);
      expect(opened.errors).toBeUndefined();
      expect(opened.data!.appealDecision).toMatchObject({
        issueType: "APPEAL",
        status: "OPEN",
        appealOf: escalationId,
      });
      expect(await status(trendId)).toBe("ESCALATED");
      const again = await appeal(trendId, h.keys.integrator);
      expect(again.errors?.[0]?.extensions?.code).toBe("CONFLICT");

      const appealId = opened.data!.appealDecision.id;
      // The reviewer who decided it may not decide the appeal.
      const same = await resolve(
        appealId,
        { decision: "APPROVE", reasonCode: "CONTEXT_NEWSWORTHY" },
        h.keys.moderator,
      );
      expect(same.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
      const final = await resolve(
        appealId,
        { decision: "APPROVE", reasonCode: "CONTEXT_NEWSWORTHY", note: "a film quote" },
        secondModerator,
      );
      expect(final.errors).toBeUndefined();
      await eventually(
        async () => ((await status(trendId)) === "PUBLISHED" ? true : undefined),
        30_000,
      );

      const published = (await readFile(`${h.dir}/published.jsonl`, "utf8"))
        .split("\n")
        .filter((l) => l.includes(trendId));
      expect(published).toHaveLength(1);
      const after = await appeal(trendId, h.keys.integrator);
      expect(after.errors?.[0]?.extensions?.code).toBe("CONFLICT");

      // What the integrator (the affected party) sees: the steps, decisions and reason codes.
      const prov = await h.gql<{
        provenance: { entries: { step: string; input: Record<string, unknown> }[] };
      }>(
        `query($id: ID!) { provenance(trendId: $id) { entries { step input } } }`,
        { id: trendId },
        h.keys.integrator,
      );
      const trail = prov
        .data!.provenance.entries.filter((e) =>
          ["resolution", "appeal", "publish"].includes(e.step),
        )
        .map((e) => [e.step, e.input.decision ?? null, e.input.reasonCode ?? null]);
      expect(trail).toEqual([
        ["resolution", "REJECT", "VIOLENCE"],
        ["appeal", "REJECT", "VIOLENCE"],
        ["resolution", "APPROVE", "CONTEXT_NEWSWORTHY"],
        ["publish", null, "CONTEXT_NEWSWORTHY"],
      ]);
      const publication = await h.env.db
        .selectFrom("publications")
        .select(["reason_code", "approval_path"])
        .where("trend_id", "=", trendId)
        .executeTakeFirstOrThrow();
      expect(publication).toEqual({
        reason_code: "CONTEXT_NEWSWORTHY",
        approval_path: "moderator",
      });

      const opened2 = await eventually(async () => eventsFor(steady, trendId, "appeal.opened")[0]);
      expect(opened2.body.data).toMatchObject({ appealOf: escalationId, reasonCode: "VIOLENCE" });
      const resolvedEvents = await eventually(async () => {
        const events = eventsFor(steady, trendId, "escalation.resolved");
        return events.length === 2 ? events : undefined;
      });
      expect(resolvedEvents.map((e) => [e.body.data.decision, e.body.data.reasonCode])).toEqual([
        ["REJECT", "VIOLENCE"],
        ["APPROVE", "CONTEXT_NEWSWORTHY"],
      ]);
    });

    it("should answer FORBIDDEN to another tenant's integrator or another integrator key, and BAD_USER_INPUT for an item that was not rejected", async () => {
      const { trendId, escalationId } = await ingestEscalated("appeal-2");
      const other = (await h.app.services.auth.createKey("integrator", "other-tenant", ["globex"]))
        .key;
      const sameTenant = (await h.app.services.auth.createKey("integrator", "another-integrator")).key;
      expect((await appeal(trendId, other)).errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
      expect((await appeal(trendId, h.keys.integrator)).errors?.[0]?.extensions?.code).toBe(
        "BAD_USER_INPUT",
      );
      expect((await appeal(trendId, h.keys.moderator)).errors?.[0]?.extensions?.code).toBe(
        "FORBIDDEN",
      );
      await resolve(escalationId, { decision: "REJECT", reasonCode: "VIOLENCE" }, h.keys.moderator);
      expect((await appeal(trendId, other)).errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
      expect((await appeal(trendId, sameTenant)).errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
      expect((await appeal(trendId, h.keys.integrator, "   ")).errors?.[0]?.extensions?.code).toBe(
        "BAD_USER_INPUT",
      );
      // An operator may appeal on the integrator's behalf.
      expect((await appeal(trendId, h.keys.operator)).data?.appealDecision.issueType).toBe(
        "APPEAL",
      );
    });

    it("should sign every delivery so an independent verifier accepts it, and refuse a tampered body", async () => {
      const { trendId } = await ingestEscalated("signed-1");
      const created = await eventually(
        async () => eventsFor(steady, trendId, "escalation.created")[0],
      );
      expect(created.id).toMatch(/^msg_/);
      expect(created.body.data).toMatchObject({ issueType: "toxicity", trendId });
      expect(steady.requests.length).toBeGreaterThan(0);
      expect(steady.requests.every((r) => r.verified)).toBe(true);
      expect(flaky.requests.filter((r) => r.status !== 0).every((r) => r.verified)).toBe(true);
      // The verifier is not vacuous: the same headers with another body, id or secret fail it.
      expect(verifyStandardWebhook(SECRET, created.headers, created.raw)).toBe(true);
      expect(
        verifyStandardWebhook(SECRET, created.headers, created.raw.replace("toxicity", "toxicitx")),
      ).toBe(false);
      expect(
        verifyStandardWebhook(
          SECRET,
          { ...created.headers, "webhook-id": "msg_other" },
          created.raw,
        ),
      ).toBe(false);
      expect(
        verifyStandardWebhook(
          `whsec_${randomBytes(32).toString("base64")}`,
          created.headers,
          created.raw,
        ),
      ).toBe(false);
    });

    it("should retry a receiver that is down, dead-letter the event, and deliver it once per id after a replay with the dlq tool", async () => {
      flaky.setDown(true);
      const { trendId } = await ingestEscalated("down-1");
      // The steady receiver confirms at once; the flaky one refuses every attempt.
      const delivered = await eventually(
        async () => eventsFor(steady, trendId, "escalation.created")[0],
      );
      const id = delivered.id;
      const dead = await eventually(async () => {
        const page = await h.app.services.deadLetters.list(STREAMS.webhookDlq, { first: 50 });
        return page.items.find((e) => `msg_${e.envelope?.id}` === id);
      }, 30_000);
      expect(dead.attempts).toBe(3);
      expect(dead.errorCode ?? dead.error).toMatch(/WEBHOOK_DELIVERY_FAILED|not confirmed/);
      expect(flaky.requests.filter((r) => r.id === id).map((r) => r.status)).toEqual([
        503, 503, 503,
      ]);

      flaky.setDown(false);
      const replay = await h.app.services.deadLetters.replay(STREAMS.webhookDlq, {
        ids: [dead.id],
        actor: "test",
      });
      expect(replay.replayed).toBe(1);
      await eventually(async () => (flaky.accepted().some((r) => r.id === id) ? true : undefined));
      await eventually(async () =>
        (await h.app.services.deadLetters.list(STREAMS.webhookDlq, { first: 50 })).items.some(
          (e) => e.id === dead.id,
        )
          ? undefined
          : true,
      );
      // Once per id at each receiver: the steady one's confirmation kept it out of retries and the replay.
      expect(flaky.accepted().filter((r) => r.id === id)).toHaveLength(1);
      expect(steady.requests.filter((r) => r.id === id)).toHaveLength(1);
      expect(flaky.requests.filter((r) => r.id === id).every((r) => r.verified)).toBe(true);
    });
  },
);
