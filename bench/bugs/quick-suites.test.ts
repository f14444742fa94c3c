/**
 * A quick sample of the default property suites (bench/bugs/suites.ts) for mutation testing only:
 * stryker.vitest.config.ts runs it against every mutant; `npm test` does not (vitest.config.ts
 * includes src/, properties/ and scenarios/). No shrinking: a mutant needs a verdict, not a
 * counterexample. The seed is fixed so the unmodified engine passes (Stryker's initial run checks).
 *
 *   QUICK_SUITE_RUNS=200 QUICK_SUITE_SEED=7 npx vitest run --config stryker.vitest.config.ts bench/bugs/quick-suites.test.ts
 */
import fc from "fast-check";
import { expect, test } from "vitest";
import { runAndJudge } from "../../src/runner/check.ts";
import { defaultSuitesArb } from "./suites.ts";

const RUNS = Number(process.env["QUICK_SUITE_RUNS"] ?? 80);
const SEED = Number(process.env["QUICK_SUITE_SEED"] ?? 1);

test("a quick sample of the default property suites passes the oracle", () => {
  let failure = "";
  const result = fc.check(
    fc.property(defaultSuitesArb(), ({ suite, scenario }) => {
      const r = runAndJudge(scenario);
      if (r.judgement.verdict !== "pass") failure = `${suite}: ${r.judgement.summary}`;
      return r.judgement.verdict === "pass";
    }),
    { numRuns: RUNS, seed: SEED, endOnFailure: true },
  );
  expect(result.failed, failure !== "" ? failure : String(result.errorInstance)).toBe(false);
});
