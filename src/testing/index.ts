/**
 * streamsim/testing: helpers for tests of users' own pipelines (and the property suites).
 *
 *   import { checkExactlyOnce } from "streamsim/testing";
 *   test("orders pipeline is exactly-once under faults", () => {
 *     checkExactlyOnce(buildOrdersPipeline, { numRuns: 200 });
 *   });
 *
 * The arbitraries (src/gen) are exported too, to compose one's own properties with fast-check;
 * assertScenarioProperty runs such a property with the same failure reports, and runAndJudge
 * runs and judges one scenario.
 */
export { checkExactlyOnce, ExactlyOnceViolation } from "./check-exactly-once.ts";
export type { CheckExactlyOnceOptions, CheckExactlyOnceResult, GeneratedRecord, RecordShape } from "./check-exactly-once.ts";
export {
  assertScenarioProperty,
  expectScenarioPropertyToFail,
  findCounterexample,
  ScenarioPropertyFailure,
  propertySeed,
  oracleVerdict,
  checksVerdict,
} from "./property.ts";
export type { ScenarioPropertyOptions, ScenarioCounterexample, PropertyVerdict, PropertyCheck } from "./property.ts";
export * from "../gen/index.ts";
export { runAndJudge } from "../runner/check.ts";
export type { CheckedRun, CheckOptions } from "../runner/check.ts";
