/**
 * Nothing is lost: with checkpointing mode AT_LEAST_ONCE (any sink), or with a plain
 * (non-transactional) sink in either mode, every expected record is committed at least once,
 * judged on what duplicates cannot change (src/oracle/defined.ts); checkpoint invariants hold,
 * no transaction is left open and the job finishes once the faults are over.
 */
import { describe, expect, test } from "vitest";
import { assertScenarioProperty, expectScenarioPropertyToFail } from "../src/testing/property.ts";
import { boundedScenarioArb, tamperedVerdict } from "./arbitraries.ts";

describe("at-least-once: nothing is lost", () => {
  test("AT_LEAST_ONCE loses nothing with any sink under normal fault plans", () => {
    assertScenarioProperty("AT_LEAST_ONCE loses nothing (normal faults)", boundedScenarioArb({ mode: "AT_LEAST_ONCE", faults: "normal" }), { numRuns: 120 });
  });

  test("AT_LEAST_ONCE loses nothing with any sink under heavy fault plans", () => {
    assertScenarioProperty("AT_LEAST_ONCE loses nothing (heavy faults)", boundedScenarioArb({ mode: "AT_LEAST_ONCE", faults: "heavy" }), { numRuns: 40 });
  });

  test("a plain sink under EXACTLY_ONCE loses nothing, and the job's keyed state is still exact", () => {
    // Default checks for this mix: noLoss on the plain sinks, exactlyOnce on any transactional
    // one, state (EXACTLY_ONCE), invariants, open transactions and liveness.
    assertScenarioProperty("a plain sink under EXACTLY_ONCE loses nothing", boundedScenarioArb({ mode: "EXACTLY_ONCE", sinkKinds: ["plain"], faults: "normal" }), {
      numRuns: 100,
    });
  });

  test("the property has teeth: a generated run whose committed output was lost fails it", () => {
    const c = expectScenarioPropertyToFail("the no-loss property, on runs whose output was dropped", boundedScenarioArb({ mode: "AT_LEAST_ONCE", faults: "normal" }), {
      numRuns: 50,
      check: tamperedVerdict("drop"),
      maxShrinkRuns: 100,
    });
    expect(c.verdict.check).toBe("noLoss");
    expect(c.verdict.message).toMatch(/lost|missing/);
  });
});
