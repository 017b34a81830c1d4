import { badInput } from "../../domain/domain-error.js";

/** A labelled text from a JSONL file: `{"text": "...", "label": "toxic" | "clean"}`. */
export interface LabelledRow {
  text: string;
  toxic: boolean;
}

/**
 * Parses labelled JSONL (extra fields ignored, blank lines skipped); a bad line is refused with
 * BAD_USER_INPUT naming its number, so a half-read file never feeds a calibration.
 */
export function parseLabelledJsonl(content: string, name = "labels"): LabelledRow[] {
  const rows: LabelledRow[] = [];
  content.split(/\r?\n/).forEach((line, index) => {
    if (line.trim() === "") return;
    const where = `${name} line ${index + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw badInput(where, `not JSON (${(error as Error).message})`);
    }
    const { text, label } = (value ?? {}) as { text?: unknown; label?: unknown };
    if (typeof text !== "string" || text.trim() === "") throw badInput(where, "needs a non-empty \"text\" string");
    if (label !== "toxic" && label !== "clean") throw badInput(where, "\"label\" must be \"toxic\" or \"clean\"");
    rows.push({ text, toxic: label === "toxic" });
  });
  return rows;
}
