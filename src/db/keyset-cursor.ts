import { badInput } from "../domain/domain-error.js";

/**
 * Keyset cursors of the paged lists (trends, escalations, incidents): the last row's
 * (created_at, id), opaque to clients. created_at is stored at millisecond precision (migration
 * 0007), the precision of the Date the cursor carries, so a page boundary never skips a row.
 */
export function encodeCursor(at: Date, id: string): string {
  return Buffer.from(`${at.toISOString()}|${id}`).toString("base64url");
}

export function decodeCursor(cursor: string): { at: Date; id: string } {
  const [at, id] = Buffer.from(cursor, "base64url").toString().split("|");
  const date = at ? new Date(at) : undefined;
  if (!date || Number.isNaN(date.getTime()) || !id)
    throw badInput("after", "is not a cursor returned by this API");
  return { at: date, id };
}
