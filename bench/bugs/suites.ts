/**
 * The default property suites' generators, as the detection benchmark samples them.
 *
 * Every property of the suites that asserts "every generated scenario passes" (keep in sync):
 *   properties/exactly-once.test.ts   EXACTLY_ONCE, 2PC and upsert sinks: normal faults (150 runs), heavy (60); a zombie TaskManager (100)
 *   properties/at-least-once.test.ts  AT_LEAST_ONCE, any sink: normal (120), heavy (40); EXACTLY_ONCE with plain sinks (100)
 *   properties/coverage.test.ts       any mode and sink, normal (200); RPC loss, slow operators and storage failures,
 *                                     light (80); a zombie TaskManager (60)
 * The benchmark draws one run from one of them at a time, with odds proportional to its number of
 * runs (fast-check's oneof, which never crosses suites while shrinking): sampling the union is what
 * running all the suites does. The shared arbitraries come from properties/arbitraries.ts.
 */
import fc from "fast-check";
import { boundedScenarioArb, zombieArb } from "../../properties/arbitraries.ts";
import type { ScenarioArbOptions } from "../../src/gen/index.ts";
import type { Scenario } from "../../src/scenario.ts";

export type SuiteName =
  | "exactly-once"
  | "exactly-once-heavy"
  | "exactly-once-zombie"
  | "at-least-once"
  | "at-least-once-heavy"
  | "plain-sink-exactly-once"
  | "coverage"
  | "coverage-light"
  | "zombie";

/** scenarioArb options of each default property (the zombie property has its own arbitrary). */
export const SUITE_OPTIONS: Readonly<Record<Exclude<SuiteName, "zombie" | "exactly-once-zombie">, ScenarioArbOptions>> = {
  "exactly-once": { mode: "EXACTLY_ONCE", sinkKinds: ["twoPhaseCommit", "upsert"], faults: "normal" },
  "exactly-once-heavy": { mode: "EXACTLY_ONCE", sinkKinds: ["twoPhaseCommit", "upsert"], faults: "heavy" },
  "at-least-once": { mode: "AT_LEAST_ONCE", faults: "normal" },
  "at-least-once-heavy": { mode: "AT_LEAST_ONCE", faults: "heavy" },
  "plain-sink-exactly-once": { mode: "EXACTLY_ONCE", sinkKinds: ["plain"], faults: "normal" },
  coverage: { faults: "normal" },
  "coverage-light": { faults: "light", faultKinds: ["dropRpc", "slowOperator", "diskFailures"] },
};

/** numRuns of each property in its test file: the odds of drawing from it. */
export const SUITE_RUNS: Readonly<Record<SuiteName, number>> = {
  "exactly-once": 150,
  "exactly-once-heavy": 60,
  "exactly-once-zombie": 100,
  "at-least-once": 120,
  "at-least-once-heavy": 40,
  "plain-sink-exactly-once": 100,
  coverage: 200,
  "coverage-light": 80,
  zombie: 60,
};

export type SuiteScenario = { readonly suite: SuiteName; readonly scenario: Scenario };

function suiteArb(suite: SuiteName): fc.Arbitrary<Scenario> {
  return suite === "zombie" || suite === "exactly-once-zombie" ? zombieArb() : boundedScenarioArb(SUITE_OPTIONS[suite]);
}

/** All the default properties, interleaved in proportion to their runs. */
export function defaultSuitesArb(): fc.Arbitrary<SuiteScenario> {
  const names = Object.keys(SUITE_RUNS) as SuiteName[];
  return fc.oneof(
    ...names.map((suite) => ({ weight: SUITE_RUNS[suite], arbitrary: suiteArb(suite).map((scenario): SuiteScenario => ({ suite, scenario })) })),
  );
}
