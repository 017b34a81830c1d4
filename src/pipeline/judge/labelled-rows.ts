import { readFile } from "node:fs/promises";

import { badInput } from "../../domain/domain-error.js";

export type Label = "toxic" | "clean";

export interface LabelledRow {
  readonly text: string;
  readonly label: Label;
  /** 1-based line in the file, for messages. */
  readonly line: number;
}

/**
 * Parses a labelled JSON-lines file: one `{"text": string, "label": "toxic"|"clean"}` per line
 * (extra fields ignored, blank lines skipped). The first bad line stops the run with a
 * BAD_USER_INPUT error naming it: an evaluation over silently skipped rows would report figures
 * for a set nobody chose. A byte-order mark at the start (files saved by Windows tools and
 * spreadsheets) is not part of the first row; CRLF line ends parse as they are.
 */
export function parseLabelledJsonl(content: string, source = "labels"): LabelledRow[] {
  const rows: LabelledRow[] = [];
  const text = content.startsWith("\uFEFF") ? content.slice(1) : content;
  text.split("\n").forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === "") return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch (error) {
      throw badInput(
        "labels",
        `${source} line ${line}: not valid JSON (${(error as Error).message})`,
      );
    }
    const o = parsed as { text?: unknown; label?: unknown } | null;
    if (typeof o !== "object" || o === null || Array.isArray(o)) {
      throw badInput("labels", `${source} line ${line}: expected an object {"text", "label"}`);
    }
    if (typeof o.text !== "string") {
      throw badInput("labels", `${source} line ${line}: "text" must be a string`);
    }
    if (o.label !== "toxic" && o.label !== "clean") {
      throw badInput(
        "labels",
        `${source} line ${line}: "label" must be "toxic" or "clean", got ${JSON.stringify(o.label)}`,
      );
    }
    rows.push({ text: o.text, label: o.label, line });
  });
  if (rows.length === 0) throw badInput("labels", `${source}: no labelled rows`);
  return rows;
}

export async function readLabelledJsonl(path: string): Promise<LabelledRow[]> {
  let content: string;
  try {
    content = await readFile(path, "utf8");
  } catch (error) {
    throw badInput(
      "labels",
      `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  return parseLabelledJsonl(content, path);
}
