import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A webhook receiver on 127.0.0.1 for tests, with a verifier written from the Standard Webhooks
 * specification (not the library the sender uses): the secret is `whsec_` + base64 key; the
 * signed content is `${webhook-id}.${webhook-timestamp}.${body}`; `webhook-signature` holds
 * space-separated `v1,<base64 HMAC-SHA256>` entries, one of which must match; a timestamp more
 * than five minutes away is refused.
 */
export function verifyStandardWebhook(
  secret: string,
  headers: Record<string, string | undefined>,
  body: string,
  nowS = Date.now() / 1000,
): boolean {
  const id = headers["webhook-id"];
  const timestamp = headers["webhook-timestamp"];
  const signatures = headers["webhook-signature"];
  if (!id || !timestamp || !signatures || !/^\d+$/.test(timestamp)) return false;
  if (Math.abs(nowS - Number(timestamp)) > 300) return false;
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const expected = createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest();
  return signatures.split(" ").some((entry) => {
    const [version, signature] = entry.split(",");
    if (version !== "v1" || !signature) return false;
    const given = Buffer.from(signature, "base64");
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

export interface Delivery {
  id: string;
  status: number;
  verified: boolean;
  body: { type: string; timestamp: string; data: Record<string, unknown>; text?: string };
  raw: string;
  headers: Record<string, string | undefined>;
  receivedAt: number;
}

export interface Receiver {
  url: string;
  /** Every request, answered or refused, in arrival order. */
  requests: Delivery[];
  /** Requests answered 2xx. */
  accepted(): Delivery[];
  /** While down, every request is answered 503. */
  setDown(down: boolean): void;
  close(): Promise<void>;
}

export async function startReceiver(secret: string): Promise<Receiver> {
  let down = false;
  const requests: Delivery[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const headers = Object.fromEntries(
        Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(" ") : v]),
      );
      const status = down ? 503 : 204;
      requests.push({
        id: String(headers["webhook-id"]),
        status,
        verified: verifyStandardWebhook(secret, headers, body),
        body: JSON.parse(body) as Delivery["body"],
        raw: body,
        headers,
        receivedAt: Date.now(),
      });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    requests,
    accepted: () => requests.filter((r) => r.status >= 200 && r.status < 300),
    setDown: (d) => void (down = d),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
