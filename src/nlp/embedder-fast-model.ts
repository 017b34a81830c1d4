/**
 * The fast embedder's weights file: a JSON header (format, feature settings, vocabulary) and an
 * embedding table quantised to int8 with one float32 scale per row (value = q × scale), which
 * keeps the file about a quarter of float32 at no measurable loss in cosine rankings.
 *
 * Layout: "TGFE" · u32 header bytes · header JSON · padding to 4 · f32 scales[rows] · i8 table.
 */
import type { FastFeatureConfig } from "./embedder-fast-features.js";
import type { FastLexicalConfig } from "./embedder-fast-lexical.js";

const MAGIC = "TGFE";

export interface FastModelHeader {
  readonly format: 1;
  /** Recorded with every vector (embedding_records.model). */
  readonly model: string;
  readonly dimension: number;
  readonly features: FastFeatureConfig;
  readonly vocab: readonly string[];
  /** Unit directions removed from every sum before normalising (see removeDirections). */
  readonly commonDirections?: readonly (readonly number[])[];
  /** v2 on: a lexical part appended to the table's (`dimension` counts the table's part only). */
  readonly lexical?: FastLexicalConfig;
}

export interface FastModel {
  readonly header: FastModelHeader;
  readonly rows: number;
  /** rows × dimension, dequantised. */
  readonly table: Float32Array;
}

export function encodeFastModel(header: FastModelHeader, table: Float32Array): Buffer {
  const rows = header.vocab.length + header.features.buckets;
  if (table.length !== rows * header.dimension)
    throw new Error("table size does not match the header");
  const json = Buffer.from(JSON.stringify(header), "utf8");
  const headEnd = 8 + json.length;
  const scalesAt = headEnd + ((4 - (headEnd % 4)) % 4);
  const out = Buffer.alloc(scalesAt + rows * 4 + rows * header.dimension);
  out.write(MAGIC, 0, "latin1");
  out.writeUInt32LE(json.length, 4);
  json.copy(out, 8);
  const d = header.dimension;
  const quantised = new Int8Array(out.buffer, out.byteOffset + scalesAt + rows * 4, rows * d);
  for (let r = 0; r < rows; r++) {
    let max = 0;
    for (let j = 0; j < d; j++) max = Math.max(max, Math.abs(table[r * d + j]!));
    const scale = Math.fround(max / 127);
    out.writeFloatLE(scale, scalesAt + r * 4);
    for (let j = 0; j < d; j++)
      quantised[r * d + j] = scale > 0 ? Math.round(table[r * d + j]! / scale) : 0;
  }
  return out;
}

export function decodeFastModel(bytes: Uint8Array): FastModel {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buffer.toString("latin1", 0, 4) !== MAGIC) throw new Error("not a fast embedder model file");
  const jsonLength = buffer.readUInt32LE(4);
  const header = JSON.parse(buffer.toString("utf8", 8, 8 + jsonLength)) as FastModelHeader;
  if (header.format !== 1)
    throw new Error(`unsupported fast embedder format ${String(header.format)}`);
  const rows = header.vocab.length + header.features.buckets;
  const d = header.dimension;
  const headEnd = 8 + jsonLength;
  const scalesAt = headEnd + ((4 - (headEnd % 4)) % 4);
  const quantAt = scalesAt + rows * 4;
  if (buffer.length !== quantAt + rows * d)
    throw new Error("fast embedder model file is truncated");
  const table = new Float32Array(rows * d);
  const quantised = new Int8Array(buffer.buffer, buffer.byteOffset + quantAt, rows * d);
  for (let r = 0; r < rows; r++) {
    const scale = buffer.readFloatLE(scalesAt + r * 4);
    if (scale === 0) continue;
    for (let j = 0; j < d; j++) table[r * d + j] = quantised[r * d + j]! * scale;
  }
  return { header, rows, table };
}
