/** A broken invariant of streamsim itself (not of the system under test). */
export class AssertionFailure extends Error {
  override readonly name = "AssertionFailure";
}

/** One condition per assert, with a message that says what should have held. */
export function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new AssertionFailure(message);
}
