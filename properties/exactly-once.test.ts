/**
 * The central property: with checkpointing mode EXACTLY_ONCE and transactional (two-phase-commit)
 * or upsert sinks, every generated plan, input, configuration and fault plan gives exactly-once
 * output, the exact final keyed state, sound checkpoint invariants, no open transactions, a job
 * that finishes once the faults are over, and the same trace hash when run twice; also with a
 * zombie TaskManager (properties/arbitraries.ts zombieArb).
 *
 * A failure prints one sentence, saves the shrunk scenario under reports/<run>/ and prints the
 * command that replays it (src/testing/property.ts). Rerun with another seed: STREAMSIM_SEED=n.
 */
import { describe, expect, test } from "vitest";
import { assertScenarioProperty, expectScenarioPropertyToFail } from "../src/testing/property.ts";
import { boundedScenarioArb, tamperedVerdict, zombieArb } from "./arbitraries.ts";

const transactional = { mode: "EXACTLY_ONCE", sinkKinds: ["twoPhaseCommit", "upsert"] } as const;

describe("exactly-once with transactional sinks", () => {
  test("EXACTLY_ONCE with two-phase-commit or upsert sinks is exactly-once under normal fault plans", () => {
    assertScenarioProperty("EXACTLY_ONCE with 2PC/upsert sinks is exactly-once (normal faults)", boundedScenarioArb({ ...transactional, faults: "normal" }), {
      numRuns: 150,
      determinism: true,
    });
  });

  test("EXACTLY_ONCE with two-phase-commit or upsert sinks is exactly-once under heavy fault plans", () => {
    assertScenarioProperty("EXACTLY_ONCE with 2PC/upsert sinks is exactly-once (heavy faults)", boundedScenarioArb({ ...transactional, faults: "heavy" }), {
      numRuns: 60,
      determinism: true,
    });
  });

  test("EXACTLY_ONCE with a zombie TaskManager (cut off from the JobManager while it still runs its tasks) is exactly-once", () => {
    // Random fault plans almost never leave a zombie whose writes the new attempt must fence.
    assertScenarioProperty("EXACTLY_ONCE with a zombie TaskManager is exactly-once", zombieArb(), { numRuns: 100, determinism: true });
  });

  test("the property has teeth: a generated run whose sink committed one record twice fails it", () => {
    const c = expectScenarioPropertyToFail("the exactly-once property, on runs with a duplicated commit", boundedScenarioArb({ ...transactional, faults: "normal" }), {
      numRuns: 50,
      check: tamperedVerdict("duplicate"),
      maxShrinkRuns: 100,
    });
    expect(c.verdict.check).toBe("exactlyOnce");
    expect(c.verdict.message).toMatch(/duplicated/);
  });
});
