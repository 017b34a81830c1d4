/** Stops the run early, e.g. on Ctrl-C or when the gateway cannot be reached. */
export class LoadtestError extends Error {
  constructor(
    readonly code: "LOADTEST_UNREACHABLE" | "LOADTEST_UNAUTHORIZED" | "LOADTEST_BAD_OPTIONS",
    message: string,
  ) {
    super(message);
    this.name = "LoadtestError";
  }
}
