/**
 * Redis stream entry ids ("<ms>-<seq>", both unsigned 64-bit decimals). Compared as decimal
 * strings rather than numbers because `seq` may exceed 2^53, and this runs once per event per
 * subscriber on the fan-out path, where BigInt parsing would cost more than it saves.
 */
const ID = /^(0|[1-9]\d{0,19})(?:-(0|[1-9]\d{0,19}))?$/;
const U64_MAX = 18446744073709551615n;

/** "<ms>-<seq>" for a valid id (a bare "<ms>" means seq 0, as XREAD reads it), else undefined. */
export function normalizeStreamId(id: string): string | undefined {
  const m = ID.exec(id);
  if (!m) return undefined;
  const ms = BigInt(m[1]!);
  const seq = BigInt(m[2] ?? "0");
  if (ms > U64_MAX || seq > U64_MAX) return undefined;
  return `${m[1]}-${m[2] ?? "0"}`;
}

function compareDecimal(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Negative, zero or positive as a is before, equal to or after b. Both must be normalized. */
export function compareStreamIds(a: string, b: string): number {
  const ia = a.indexOf("-");
  const ib = b.indexOf("-");
  return (
    compareDecimal(a.slice(0, ia), b.slice(0, ib)) ||
    compareDecimal(a.slice(ia + 1), b.slice(ib + 1))
  );
}

/** The id just before `id` ("0-0" has none and stays "0-0"). */
export function previousStreamId(id: string): string {
  const i = id.indexOf("-");
  const ms = BigInt(id.slice(0, i));
  const seq = BigInt(id.slice(i + 1));
  if (seq > 0n) return `${ms}-${seq - 1n}`;
  if (ms > 0n) return `${ms - 1n}-${U64_MAX}`;
  return "0-0";
}
