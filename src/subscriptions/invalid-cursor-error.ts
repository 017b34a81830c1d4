import { DomainError } from "../domain/domain-error.js";

/**
 * `after` is not a stream entry id. A DomainError so the GraphQL edge reports it as
 * BAD_USER_INPUT with no mapping of its own; `data.reason` tells it apart from other bad input.
 */
export class InvalidCursorError extends DomainError {
  constructor(readonly cursor: string) {
    super(
      "BAD_USER_INPUT",
      `after: "${cursor}" is not a subscription cursor (a stream entry id such as 1700000000000-0)`,
      { field: "after", reason: "INVALID_CURSOR", cursor },
    );
    this.name = "InvalidCursorError";
  }
}
