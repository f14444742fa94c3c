/**
 * Contract helpers every arbitrary is checked with (as fast-check checks its own): the same seed
 * gives the same values, and a property that fails for big values shrinks to a small counterexample.
 */
import fc from "fast-check";

/** Draws `numRuns` values from `arb` with `seed`. Two calls with the same seed must agree. */
export function sampleWithSeed<T>(arb: fc.Arbitrary<T>, seed: number, numRuns = 50): T[] {
  return fc.sample(arb, { seed, numRuns });
}

/**
 * The counterexample fast-check shrinks to for the property `holds` (which must fail for some
 * value drawn within `numRuns`); throws when the property never fails.
 */
export function shrunkCounterexample<T>(arb: fc.Arbitrary<T>, holds: (v: T) => boolean, seed: number, numRuns = 500): T {
  const details = fc.check(fc.property(arb, holds), { seed, numRuns });
  if (!details.failed || details.counterexample === null) {
    throw new Error(`the property never failed in ${numRuns} runs (seed ${seed}); it cannot show shrinking`);
  }
  return details.counterexample[0];
}
