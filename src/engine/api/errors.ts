/**
 * The error the API throws for a call it cannot accept (Flink's IllegalArgumentException /
 * IllegalStateException): an invalid option value, a pipeline that cannot be built. The message
 * names the call or the option and what to do instead.
 */
export class ApiError extends Error {
  override readonly name = "ApiError";
}
