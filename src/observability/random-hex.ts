import { randomBytes, randomFillSync } from "node:crypto";

const POOL_BYTES = 4096;
const pool = Buffer.allocUnsafe(POOL_BYTES);
let offset = POOL_BYTES;

/**
 * `bytes` random bytes (from the CSPRNG) as hex, handed out from a pool refilled 4 KiB at a
 * time, as `crypto.randomUUID` does. Every ingested item mints a trace id and a span id, and a
 * `crypto.randomBytes` call costs about as much as refilling the whole pool (measured here:
 * 10-30 µs either way, more than all the rest of starting the item's span).
 */
export function randomHex(bytes: number): string {
  if (bytes > POOL_BYTES) return randomBytes(bytes).toString("hex");
  if (offset + bytes > POOL_BYTES) {
    randomFillSync(pool);
    offset = 0;
  }
  const hex = pool.toString("hex", offset, offset + bytes);
  offset += bytes;
  return hex;
}
