import { endianness } from "node:os";

import type { Stamp } from "./hybrid-clock.js";
import { VectorStoreError } from "./vector-store.js";

/**
 * Binary layout of one immutable segment file (little-endian):
 *
 *   header  "TGVS" | u16 version | u16 flags | u32 dimension | u32 record count
 *           flags bit 0: u32 byte length | JSON array of the segment names it was compacted from |
 *                        zero pad to 4
 *   record  u8 kind (1 upsert, 2 delete) | 3 × 0 | u32 stamp.writer | f64 stamp.time | 16-byte uuid
 *           upsert only: f64 createdAt ms | u16 source bytes | u16 status bytes | source | status |
 *                        zero pad to 4 | dimension × f32
 *   trailer "TGVE" | u32 byte length of header + records
 *
 * Records start 4-byte aligned so vectors can be copied out as Float32Array views instead of
 * one float at a time; the trailer turns a truncated file into an error instead of fewer vectors.
 * The list of merged inputs lets a reader that has already applied all of them skip the
 * compacted file without decoding it (segmentMergedFrom).
 */

export interface UpsertRecord {
  kind: "upsert";
  id: string;
  stamp: Stamp;
  source: string;
  status: string;
  createdAtMs: number;
  vector: ArrayLike<number>;
}
export interface DeleteRecord {
  kind: "delete";
  id: string;
  stamp: Stamp;
}
export type SegmentRecord = UpsertRecord | DeleteRecord;

/** What decoding hands out; `vector` may be a view into the file buffer, valid only during the call. */
export interface DecodedUpsert extends Omit<UpsertRecord, "vector"> {
  vector: Float32Array;
}

const MAGIC = 0x53564754; // "TGVS" read as u32 LE
const TRAILER_MAGIC = 0x45564754; // "TGVE"
const VERSION = 1;
const HEADER_BYTES = 16;
const TRAILER_BYTES = 8;
const DELETE_BYTES = 32;
const UPSERT_FIXED_BYTES = 44;
const KIND_UPSERT = 1;
const KIND_DELETE = 2;
const FLAG_MERGED_FROM = 1;
/** Enough to hold the merged-from list of any compaction (names are ~30 bytes, inputs ≤ 100s). */
export const SEGMENT_HEAD_BYTES = 64 * 1024;
const LITTLE_ENDIAN_HOST = endianness() === "LE";

const pad4 = (n: number) => (n + 3) & ~3;

function corrupt(file: string, why: string): VectorStoreError {
  return new VectorStoreError("VECTOR_STORE_CORRUPT", `segment ${file} is corrupt: ${why}`, {
    data: { file },
  });
}

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

function writeUuid(buf: Buffer, offset: number, id: string): void {
  const hex = id.replaceAll("-", "");
  buf.write(hex, offset, 16, "hex");
}

function readUuid(buf: Buffer, o: number): string {
  const h = (i: number) => HEX[buf[o + i]!]!;
  return (
    h(0) +
    h(1) +
    h(2) +
    h(3) +
    "-" +
    h(4) +
    h(5) +
    "-" +
    h(6) +
    h(7) +
    "-" +
    h(8) +
    h(9) +
    "-" +
    h(10) +
    h(11) +
    h(12) +
    h(13) +
    h(14) +
    h(15)
  );
}

export function encodeSegment(
  records: readonly SegmentRecord[],
  dimension: number,
  mergedFrom?: readonly string[],
): Buffer {
  const inputs = mergedFrom ? Buffer.from(JSON.stringify(mergedFrom), "utf8") : undefined;
  const prefix = HEADER_BYTES + (inputs ? pad4(4 + inputs.length) : 0);
  const encoded = records.map((r) =>
    r.kind === "upsert"
      ? { r, source: Buffer.from(r.source, "utf8"), status: Buffer.from(r.status, "utf8") }
      : { r },
  );
  let size = prefix;
  for (const e of encoded) {
    size +=
      e.r.kind === "upsert"
        ? pad4(UPSERT_FIXED_BYTES + e.source!.length + e.status!.length) + dimension * 4
        : DELETE_BYTES;
  }
  // Buffer.alloc never hands out a slice of the shared pool, so byteOffset is 0 and pads are zero.
  const buf = Buffer.alloc(size + TRAILER_BYTES);
  buf.writeUInt32LE(MAGIC, 0);
  buf.writeUInt16LE(VERSION, 4);
  buf.writeUInt16LE(inputs ? FLAG_MERGED_FROM : 0, 6);
  buf.writeUInt32LE(dimension, 8);
  buf.writeUInt32LE(records.length, 12);
  if (inputs) {
    buf.writeUInt32LE(inputs.length, HEADER_BYTES);
    inputs.copy(buf, HEADER_BYTES + 4);
  }
  let o = prefix;
  for (const e of encoded) {
    const r = e.r;
    buf.writeUInt8(r.kind === "upsert" ? KIND_UPSERT : KIND_DELETE, o);
    buf.writeUInt32LE(r.stamp.writer, o + 4);
    buf.writeDoubleLE(r.stamp.time, o + 8);
    writeUuid(buf, o + 16, r.id);
    if (r.kind === "delete") {
      o += DELETE_BYTES;
      continue;
    }
    const source = e.source!;
    const status = e.status!;
    buf.writeDoubleLE(r.createdAtMs, o + 32);
    buf.writeUInt16LE(source.length, o + 40);
    buf.writeUInt16LE(status.length, o + 42);
    source.copy(buf, o + UPSERT_FIXED_BYTES);
    status.copy(buf, o + UPSERT_FIXED_BYTES + source.length);
    o += pad4(UPSERT_FIXED_BYTES + source.length + status.length);
    if (LITTLE_ENDIAN_HOST) {
      new Float32Array(buf.buffer, buf.byteOffset + o, dimension).set(r.vector);
    } else {
      for (let i = 0; i < dimension; i++) buf.writeFloatLE(r.vector[i]!, o + i * 4);
    }
    o += dimension * 4;
  }
  buf.writeUInt32LE(TRAILER_MAGIC, o);
  buf.writeUInt32LE(o, o + 4);
  return buf;
}

/**
 * The names a compacted segment was merged from, read from its first bytes (at least
 * SEGMENT_HEAD_BYTES, or the whole file); undefined for a segment written directly.
 */
export function segmentMergedFrom(head: Buffer, file: string): string[] | undefined {
  if (head.length < HEADER_BYTES || head.readUInt32LE(0) !== MAGIC)
    throw corrupt(file, "bad header");
  if ((head.readUInt16LE(6) & FLAG_MERGED_FROM) === 0) return undefined;
  const length = head.readUInt32LE(HEADER_BYTES);
  if (HEADER_BYTES + 4 + length > head.length) throw corrupt(file, "merged-from list past end");
  const names: unknown = JSON.parse(
    head.toString("utf8", HEADER_BYTES + 4, HEADER_BYTES + 4 + length),
  );
  if (!Array.isArray(names) || !names.every((n) => typeof n === "string"))
    throw corrupt(file, "bad merged-from list");
  return names as string[];
}

export interface SegmentVisitor {
  upsert(record: DecodedUpsert): void;
  delete(record: DeleteRecord): void;
}

/** Walks every record in file order; throws VECTOR_STORE_CORRUPT on any structural mismatch. */
export function decodeSegment(
  buf: Buffer,
  file: string,
  expectedDimension: number,
  visit: SegmentVisitor,
): number {
  if (buf.length < HEADER_BYTES + TRAILER_BYTES || buf.readUInt32LE(0) !== MAGIC)
    throw corrupt(file, "bad header");
  if (buf.readUInt16LE(4) !== VERSION)
    throw corrupt(file, `unknown version ${buf.readUInt16LE(4)}`);
  const dimension = buf.readUInt32LE(8);
  if (dimension !== expectedDimension) {
    throw new VectorStoreError(
      "VECTOR_STORE_CORRUPT",
      `segment ${file} holds ${dimension}-d vectors but the store is ${expectedDimension}-d`,
      { data: { file, dimension, expectedDimension } },
    );
  }
  const count = buf.readUInt32LE(12);
  const end = buf.length - TRAILER_BYTES;
  if (buf.readUInt32LE(end) !== TRAILER_MAGIC || buf.readUInt32LE(end + 4) !== end)
    throw corrupt(file, "truncated");
  const aligned = LITTLE_ENDIAN_HOST && buf.byteOffset % 4 === 0;
  let o = HEADER_BYTES;
  if ((buf.readUInt16LE(6) & FLAG_MERGED_FROM) !== 0) o += pad4(4 + buf.readUInt32LE(HEADER_BYTES));
  for (let n = 0; n < count; n++) {
    if (o + DELETE_BYTES > end) throw corrupt(file, "record past end");
    const kind = buf[o];
    const stamp: Stamp = { writer: buf.readUInt32LE(o + 4), time: buf.readDoubleLE(o + 8) };
    const id = readUuid(buf, o + 16);
    if (kind === KIND_DELETE) {
      visit.delete({ kind: "delete", id, stamp });
      o += DELETE_BYTES;
      continue;
    }
    if (kind !== KIND_UPSERT) throw corrupt(file, `unknown record kind ${kind}`);
    const sourceLength = buf.readUInt16LE(o + 40);
    const statusLength = buf.readUInt16LE(o + 42);
    const labels = o + UPSERT_FIXED_BYTES;
    const vectorAt = o + pad4(UPSERT_FIXED_BYTES + sourceLength + statusLength);
    if (vectorAt + dimension * 4 > end) throw corrupt(file, "record past end");
    let vector: Float32Array;
    if (aligned) {
      vector = new Float32Array(buf.buffer, buf.byteOffset + vectorAt, dimension);
    } else {
      vector = new Float32Array(dimension);
      for (let i = 0; i < dimension; i++) vector[i] = buf.readFloatLE(vectorAt + i * 4);
    }
    visit.upsert({
      kind: "upsert",
      id,
      stamp,
      createdAtMs: buf.readDoubleLE(o + 32),
      source: buf.toString("utf8", labels, labels + sourceLength),
      status: buf.toString("utf8", labels + sourceLength, labels + sourceLength + statusLength),
      vector,
    });
    o = vectorAt + dimension * 4;
  }
  if (o !== end) throw corrupt(file, "trailing bytes");
  return count;
}
