/**
 * Fault-path coverage: across a fixed sample of generated runs, every path that breaks
 * checkpointing is really taken at least once (src/testing/coverage.ts): a checkpoint expires, one
 * is declined because of a storage fault, failovers restore a checkpoint and restart with none, a
 * zombie's writes are fenced, a completion notification is lost, a new JobManager recovers the
 * job, and an alignment is held up by backpressure. A generator change that stops reaching one
 * fails here instead of silently weakening the other suites.
 *
 * The sample is itself a set of properties (every run must pass the checks that apply to it):
 * - every sink kind and mode with normal fault plans (the default generators);
 * - RPC loss, slow operators and storage failures only, light plans (lost notifications and
 *   backpressure are rare when faults of every kind compete for the plan);
 * - a zombie TaskManager (arbitraries.ts: random fault plans almost never fence a zombie).
 */
import { describe, expect, test } from "vitest";
import type { CheckedRun } from "../src/runner/check.ts";
import { addPaths, assertAllPathsHit, emptyPathCounts, PATH_NAMES } from "../src/testing/coverage.ts";
import { assertScenarioProperty } from "../src/testing/property.ts";
import { boundedScenarioArb, zombieArb } from "./arbitraries.ts";

describe("fault-path coverage", () => {
  test("across the coverage sample every run passes its checks and every fault path is reached at least once", () => {
    const counts = emptyPathCounts();
    let runs = 0;
    const onRun = (r: CheckedRun): void => {
      addPaths(counts, r);
      runs++;
    };
    assertScenarioProperty("every generated scenario passes the checks that apply to it (normal faults)", boundedScenarioArb({ faults: "normal" }), {
      numRuns: 200,
      onRun,
    });
    assertScenarioProperty(
      "every generated scenario passes its checks under RPC loss, slow operators and storage failures",
      boundedScenarioArb({ faults: "light", faultKinds: ["dropRpc", "slowOperator", "diskFailures"] }),
      { numRuns: 80, onRun },
    );
    assertScenarioProperty("EXACTLY_ONCE with a zombie TaskManager is exactly-once", zombieArb(), { numRuns: 60, onRun });
    expect(runs).toBe(340);
    expect([...counts.keys()]).toEqual([...PATH_NAMES]);
    assertAllPathsHit(counts, runs);
  });
});
