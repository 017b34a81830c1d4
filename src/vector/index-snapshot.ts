import { randomBytes } from "node:crypto";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";

import {
  DEFAULT_HNSW,
  type HnswIndex,
  HnswIndex as Index,
  type HnswParameters,
  type LabelTables,
} from "./hnsw-index.js";

/**
 * An HNSW index persisted on disk, so a process starts from it and only reads from Postgres what
 * changed since (`xmin`). Layout under VECTOR_STORE_PATH:
 *
 *   current                    the name of the snapshot in use (replaced by rename: atomic)
 *   snap-<time>-<rand>/meta.json    which database, model and dimension, and `xmin`
 *   snap-<time>-<rand>/graph.bin    hnswlib's own file
 *   snap-<time>-<rand>/labels.bin   per label: uuid (16 bytes), source and status codes, createdAt
 *
 * A snapshot is written whole into a fresh directory before `current` names it, so a crash
 * mid-write leaves the previous snapshot in use. Several processes may share the path: each
 * writes its own directories, the last rename wins, and either snapshot is a valid cache.
 */

const FORMAT = 1;
const LABEL_BYTES = 32;

export interface SnapshotMeta {
  format: number;
  /** trend_vector_store.id of the database the index was built from. */
  storeId: string;
  /** Only vectors of this model are indexed ("" = any model of this dimension). */
  model: string;
  dimension: number;
  /** pg_snapshot_xmin when the index was last caught up: rows with xid >= xmin are read again. */
  xmin: string;
  parameters: HnswParameters;
  sources: string[];
  statuses: string[];
  labels: number;
}

export interface LoadedSnapshot {
  meta: SnapshotMeta;
  index: HnswIndex;
  directory: string;
}

/** Writes the index as a new snapshot and points `current` at it; returns its directory. */
export async function writeSnapshot(
  root: string,
  index: HnswIndex,
  meta: Omit<
    SnapshotMeta,
    "format" | "dimension" | "parameters" | "sources" | "statuses" | "labels"
  >,
): Promise<string> {
  const name = `snap-${Date.now()}-${randomBytes(4).toString("hex")}`;
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  try {
    const tables = index.labelTables;
    await index.writeGraph(join(dir, "graph.bin"));
    await writeFile(join(dir, "labels.bin"), encodeLabels(tables));
    const full: SnapshotMeta = {
      format: FORMAT,
      ...meta,
      dimension: index.dimension,
      parameters: index.parameters,
      sources: tables.sources,
      statuses: tables.statuses,
      labels: tables.ids.length,
    };
    await writeFile(join(dir, "meta.json"), JSON.stringify(full));
    const pointer = join(root, `current.${name}.tmp`);
    await writeFile(pointer, name);
    await rename(pointer, join(root, "current"));
    return dir;
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** The snapshot `current` names, or undefined when there is none or it cannot be read whole. */
export async function readSnapshot(root: string): Promise<LoadedSnapshot | undefined> {
  let name: string;
  try {
    name = (await readFile(join(root, "current"), "utf8")).trim();
  } catch {
    return undefined;
  }
  const dir = join(root, name);
  try {
    const meta = JSON.parse(await readFile(join(dir, "meta.json"), "utf8")) as SnapshotMeta;
    if (meta.format !== FORMAT) return undefined;
    const tables = decodeLabels(await readFile(join(dir, "labels.bin")), meta);
    const parameters = { ...DEFAULT_HNSW, ...meta.parameters };
    const index = await Index.read(join(dir, "graph.bin"), meta.dimension, parameters, tables);
    return { meta, index, directory: dir };
  } catch {
    // Half-deleted by another process, or damaged: the index is a cache, Postgres rebuilds it.
    return undefined;
  }
}

export async function removeSnapshot(directory: string): Promise<void> {
  await rm(directory, { recursive: true, force: true });
}

function encodeLabels(tables: Readonly<LabelTables>): Buffer {
  const out = Buffer.alloc(tables.ids.length * LABEL_BYTES);
  tables.ids.forEach((id, label) => {
    const at = label * LABEL_BYTES;
    // A deleted label stays all zeros: the nil UUID is never a trend id.
    if (id === undefined) return;
    out.write(id.replaceAll("-", ""), at, 16, "hex");
    out.writeUInt32LE(tables.source[label]!, at + 16);
    out.writeUInt32LE(tables.status[label]!, at + 20);
    out.writeDoubleLE(tables.createdAtMs[label]!, at + 24);
  });
  return out;
}

function decodeLabels(buffer: Buffer, meta: SnapshotMeta): LabelTables {
  if (buffer.length !== meta.labels * LABEL_BYTES)
    throw new Error("labels.bin does not match meta.json");
  const tables: LabelTables = {
    ids: [],
    source: [],
    status: [],
    createdAtMs: [],
    sources: meta.sources,
    statuses: meta.statuses,
  };
  for (let label = 0; label < meta.labels; label++) {
    const at = label * LABEL_BYTES;
    const hex = buffer.toString("hex", at, at + 16);
    const live = hex !== "00000000000000000000000000000000";
    tables.ids.push(
      live
        ? `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
        : undefined,
    );
    tables.source.push(buffer.readUInt32LE(at + 16));
    tables.status.push(buffer.readUInt32LE(at + 20));
    tables.createdAtMs.push(buffer.readDoubleLE(at + 24));
  }
  return tables;
}
