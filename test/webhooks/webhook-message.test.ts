import { randomBytes } from "node:crypto";

import { describe, expect, it } from "vitest";

import { makeEnvelope } from "../../src/streams/envelope.js";
import { webhookBody, WebhookSigner } from "../../src/webhooks/webhook-message.js";
import { verifyStandardWebhook } from "./receiver.js";

const SECRET = `whsec_${randomBytes(32).toString("base64")}`;
const envelope = makeEnvelope("escalation.resolved", {
  traceId: "0af7651916cd43dd8448eb211c80319c",
  trendId: "5f0c7c1e-0a53-4b8e-9b1f-3c1f2f1e9a10",
  payload: {
    escalationId: "e-1",
    trendId: "5f0c7c1e-0a53-4b8e-9b1f-3c1f2f1e9a10",
    decision: "REJECT",
    reasonCode: "VIOLENCE",
    issueType: "toxicity",
  },
});

describe("webhook messages", () => {
  it("should keep the id and body of an event across attempts, sign each attempt afresh, and verify independently", () => {
    const signer = new WebhookSigner(SECRET);
    const first = signer.sign(envelope, "standard", new Date(1_800_000_000_000));
    const retry = signer.sign(envelope, "standard", new Date(1_800_000_060_000));
    expect(first.id).toBe(`msg_${envelope.id}`);
    expect(retry.id).toBe(first.id);
    expect(retry.body).toBe(first.body);
    expect(first.headers["webhook-timestamp"]).toBe("1800000000");
    expect(retry.headers["webhook-signature"]).not.toBe(first.headers["webhook-signature"]);
    expect(first.headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(verifyStandardWebhook(SECRET, first.headers, first.body, 1_800_000_000)).toBe(true);
    expect(verifyStandardWebhook(SECRET, first.headers, first.body, 1_800_000_000 + 3600)).toBe(
      false,
    );
    expect(JSON.parse(first.body)).toEqual({
      type: "escalation.resolved",
      timestamp: envelope.createdAt,
      data: envelope.payload,
    });
  });

  it("should add a one-line text for Slack-compatible receivers", () => {
    const body = JSON.parse(webhookBody(envelope, "slack")) as {
      text: string;
      type: string;
      data: unknown;
    };
    expect(body.text).toBe(
      `Trendgate escalation.resolved: trend ${envelope.trendId} (issue toxicity, decision REJECT, reason VIOLENCE)`,
    );
    expect(body.type).toBe("escalation.resolved");
    expect(body.data).toEqual(envelope.payload);
  });
});
