import { badInput } from "./domain-error.js";

/** Refuses a malformed id with BAD_USER_INPUT before it reaches Postgres (which would answer 22P02). */
export function assertUuid(value: string, field: string): void {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value)) {
    throw badInput(field, "must be a UUID");
  }
}
