/**
 * Properties that MUST fail, and are asserted to: they prove the checker has teeth. fast-check must
 * find a counterexample with duplicated records and shrink it to a small one.
 * - EXACTLY_ONCE with a plain (non-transactional) sink is not exactly-once: what it wrote after the
 *   last completed checkpoint is written again after a restore.
 * - AT_LEAST_ONCE with a multi-input task and a two-phase-commit sink is not exactly-once: without
 *   barrier alignment, records that overtake a barrier are in the checkpoint's output and are read
 *   again after a restore of that checkpoint.
 * Both judge the `exactlyOnce` check explicitly (by default it does not apply to these sinks and
 * modes), so the saved counterexamples replay to the same verdict.
 */
import { describe, expect, test } from "vitest";
import type { JsonValue } from "../src/sim/trace.ts";
import type { Scenario } from "../src/scenario.ts";
import type { ScenarioCounterexample } from "../src/testing/property.ts";
import { expectScenarioPropertyToFail } from "../src/testing/property.ts";
import { alignmentRaceArb, boundedScenarioArb } from "./arbitraries.ts";

const judgeExactlyOnce = (s: Scenario): Scenario => ({ ...s, expect: { verdict: "pass", checks: ["exactlyOnce"] } });

/** The problems the exactlyOnce check listed, as { problem, committed, expected }. */
function problems(c: ScenarioCounterexample): Array<{ problem: string; committed: number; expected: number }> {
  const r = c.run?.judgement.results.find((x) => x.check === "exactlyOnce");
  const d = r?.details as { problems?: JsonValue[] } | undefined;
  return (d?.problems ?? []).map((p) => p as { problem: string; committed: number; expected: number });
}

function expectDuplicates(c: ScenarioCounterexample): void {
  expect(c.verdict.ok).toBe(false);
  expect(c.verdict.check).toBe("exactlyOnce");
  expect(c.verdict.message).toContain("duplicated");
  const dups = problems(c).filter((p) => p.problem === "duplicated");
  expect(dups.length).toBeGreaterThan(0);
  for (const p of dups) expect(p.committed).toBeGreaterThan(p.expected);
  // Nothing is lost: the extra records are copies, which is all these configurations may get wrong.
  expect(problems(c).filter((p) => p.problem === "lost")).toEqual([]);
  // The recorded expectation replays to the same failure.
  expect(c.scenario.expect).toMatchObject({ verdict: "fail", failingCheck: "exactlyOnce", traceHash: c.run?.result.traceHash });
}

describe("properties that must fail", () => {
  test("EXACTLY_ONCE with a plain sink is not exactly-once: fast-check finds duplicates and shrinks them to a few records and faults", () => {
    const arb = boundedScenarioArb({ mode: "EXACTLY_ONCE", sinkKinds: ["plain"], maxRecords: 40 }).map(judgeExactlyOnce);
    const c = expectScenarioPropertyToFail("EXACTLY_ONCE with a plain sink is exactly-once", arb, { numRuns: 200 });
    expectDuplicates(c);
    expect(c.records).toBeLessThanOrEqual(10);
    expect(c.faults).toBeLessThanOrEqual(3);
    expect(c.faults).toBeGreaterThanOrEqual(1);
  });

  test("AT_LEAST_ONCE with a multi-input task and a two-phase-commit sink is not exactly-once: fast-check finds duplicates and shrinks them", () => {
    const arb = alignmentRaceArb(80).map(judgeExactlyOnce);
    const c = expectScenarioPropertyToFail("AT_LEAST_ONCE with a multi-input task and a 2PC sink is exactly-once", arb, { numRuns: 300 });
    expectDuplicates(c);
    expect(c.records).toBeLessThanOrEqual(40);
    expect(c.faults).toBeLessThanOrEqual(3);
    // The duplicates come from a restore of a completed checkpoint (not from a restart from scratch).
    expect(c.run?.result.restores.some((r) => r.checkpointId !== null)).toBe(true);
  });
});
