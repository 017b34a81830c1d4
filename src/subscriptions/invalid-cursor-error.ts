/** `after` is not a stream entry id; the GraphQL edge maps it to BAD_USER_INPUT. */
export class InvalidCursorError extends Error {
  readonly code = "INVALID_CURSOR";
  constructor(readonly cursor: string) {
    super(`"${cursor}" is not a subscription cursor (a stream entry id such as 1700000000000-0)`);
    this.name = "InvalidCursorError";
  }
}
