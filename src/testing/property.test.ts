import fc from "fast-check";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { defaultCheckpointConfig, defaultClusterConfig, defaultJobConfig } from "../engine/config.ts";
import type { SinkKind } from "../engine/plan/plan.ts";
import { scenarioArb } from "../gen/index.ts";
import { runAndJudge } from "../runner/check.ts";
import type { Scenario } from "../scenario.ts";
import { parseScenario } from "../scenario-schema.ts";
import {
  DEFAULT_PROPERTY_SEED,
  ScenarioPropertyFailure,
  assertScenarioProperty,
  checksVerdict,
  countRecords,
  expectScenarioPropertyToFail,
  findCounterexample,
  oracleVerdict,
  propertySeed,
} from "./property.ts";
import { toRunRecord } from "../report/record.ts";
import { faultsFromTrace } from "../report/types.ts";

/** One source, a copying map and a sink; the map fails at 100 ms, before any checkpoint completed, after 32 records were written. */
function failingCopyScenario(sink: SinkKind): Scenario {
  return {
    name: `copy-${sink}`,
    seed: 3,
    plan: {
      nodes: [
        { id: "src", kind: "source", topic: "in", parallelism: 1, inputs: [] },
        { id: "copy", kind: "map", fn: { fn: "identity" }, parallelism: 1, inputs: [{ from: "src", partition: "forward" }] },
        { id: "out", kind: "sink", sink, topic: "out", parallelism: 1, inputs: [{ from: "copy", partition: "forward" }] },
      ],
    },
    inputs: [{ topic: "in", partitions: [Array.from({ length: 40 }, (_, i) => ({ value: { key: `k${i % 3}`, value: i }, ts: i }))] }],
    config: {
      ...defaultJobConfig,
      costMsPerRecord: 1,
      checkpoint: { ...defaultCheckpointConfig, intervalMs: 10 },
      restart: { kind: "fixedDelay", attempts: 10, delayMs: 5 },
    },
    cluster: { ...defaultClusterConfig, taskManagers: 1 },
    faults: { faults: [{ at: 100, fault: "failTask", vertex: "copy", subtask: 0 }] },
    // Explicit checks: exactly-once is judged on the plain sink too (it must fail there).
    expect: { verdict: "pass", checks: ["exactlyOnce"] },
  };
}

let dir = "";
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "streamsim-property-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function caught(f: () => void): ScenarioPropertyFailure {
  try {
    f();
  } catch (e) {
    if (e instanceof ScenarioPropertyFailure) return e;
    throw e;
  }
  throw new Error("expected the property to fail");
}

describe("seeds", () => {
  test("the seed comes from the options, else STREAMSIM_SEED, else the fixed default", () => {
    expect(propertySeed(7, { STREAMSIM_SEED: "9" })).toBe(7);
    expect(propertySeed(undefined, { STREAMSIM_SEED: "9" })).toBe(9);
    expect(propertySeed(undefined, { STREAMSIM_SEED: " -12 " })).toBe(-12);
    expect(propertySeed(undefined, {})).toBe(DEFAULT_PROPERTY_SEED);
    expect(propertySeed(undefined, { STREAMSIM_SEED: "" })).toBe(DEFAULT_PROPERTY_SEED);
  });

  test("a STREAMSIM_SEED that is not an integer is refused with a sentence naming it", () => {
    expect(() => propertySeed(undefined, { STREAMSIM_SEED: "abc" })).toThrow('STREAMSIM_SEED must be an integer, got "abc"');
    expect(() => propertySeed(undefined, { STREAMSIM_SEED: "1.5" })).toThrow("STREAMSIM_SEED must be an integer");
    expect(() => propertySeed(1.5)).toThrow("property seed must be an integer, got 1.5");
  });
});

describe("assertScenarioProperty", () => {
  test("a property that holds writes nothing", () => {
    assertScenarioProperty("a 2PC sink is exactly-once", fc.constant(failingCopyScenario("twoPhaseCommit")), { numRuns: 2, reportDir: dir, seed: 1 });
    expect(readdirSync(dir)).toEqual([]);
  });

  test("a failing property saves the counterexample with its recorded verdict and trace hash, writes the reports and says where", () => {
    const e = caught(() =>
      assertScenarioProperty("a plain sink is exactly-once", fc.constant(failingCopyScenario("plain")), { numRuns: 5, reportDir: dir, runId: "r1", seed: 11 }),
    );
    const lines = e.message.split("\n");
    // fast-check cannot shrink a constant; the second pass drops what the failure does not need.
    expect(lines[0]).toMatch(/^streamsim: exactly-once violated \(run 1 of 5, shrunk 0 times, then minimized from 40 records and 1 fault in \d+ runs\)$/);
    expect(lines[1]).toMatch(/^ {2}sink "out": record \{"key":"k\d+","value":\d+\} committed 2 times, expected 1 \(duplicated\)/);
    expect(lines[2]).toBe("  property        a plain sink is exactly-once, seed 11 (rerun it with STREAMSIM_SEED=11)");
    const file = join(dir, "r1", "counterexample-1.json");
    expect(lines[3]).toBe(`  counterexample  ${file}  (20 records, 1 fault)`);
    expect(lines[4]).toBe(`  replay          npx streamsim replay ${file}`);
    expect(lines[5]).toBe(`  timeline        ${join(dir, "r1", "index.html")}#run-1`);

    // The file replays without the generators, with the verdict and hash it recorded.
    const parsed = parseScenario(readFileSync(file, "utf8"), file);
    if (!parsed.ok) throw new Error(parsed.error);
    expect(parsed.scenario.expect).toMatchObject({ verdict: "fail", failingCheck: "exactlyOnce", checks: ["exactlyOnce"] });
    const replay = runAndJudge(parsed.scenario);
    expect(replay.asExpected).toBe(true);
    expect(replay.result.traceHash).toBe(parsed.scenario.expect?.traceHash);

    // The reports show the run with its timeline and the counterexample.
    for (const f of ["results.json", "junit.xml", "summary.md", "index.html"]) expect(existsSync(join(dir, "r1", f))).toBe(true);
    const results = JSON.parse(readFileSync(join(dir, "r1", "results.json"), "utf8")) as {
      runs: Array<{ id: string; counterexamplePath: string; timeline: unknown[]; verdict: string; asExpected: boolean; outputDiff: Array<{ sink: string; duplicated: unknown[] }> }>;
    };
    const run = results.runs[0];
    expect(run?.id).toBe("run-1");
    expect(run?.counterexamplePath).toBe(file);
    expect(run?.verdict).toBe("fail");
    expect(run?.asExpected).toBe(true);
    expect(run?.timeline.length).toBeGreaterThan(0);
    expect(run?.outputDiff[0]?.sink).toBe("out");
    expect(run?.outputDiff[0]?.duplicated.length).toBeGreaterThan(0);
    expect(readFileSync(join(dir, "r1", "index.html"), "utf8")).toContain('id="run-1"');
    expect(e.counterexample.scenario.name).toBe("counterexample-1");
  });

  test("fast-check's shrunk counterexample is the one saved (a deliberately broken check: no run may read 3 or more records)", () => {
    const arb = scenarioArb({ faults: "none", maxRecords: 30, sinkKinds: ["twoPhaseCommit"] });
    const broken = (run: { scenario: Scenario }) => ({ ok: countRecords(run.scenario) < 3, message: `${countRecords(run.scenario)} records` });
    const e = caught(() => assertScenarioProperty("fewer than 3 records", arb, { numRuns: 50, reportDir: dir, runId: "r2", seed: 5, check: broken }));
    const c = e.counterexample;
    expect(c.records).toBe(3);
    expect(c.numShrinks).toBeGreaterThan(0);
    // The second pass can drop nothing from it (3 records are the failure), only simplify timestamps and knobs.
    expect(e.message).toMatch(/^streamsim: property violated \(run \d+ of 50, shrunk \d+ times?(, then simplified in \d+ runs?)?\)\n {2}3 records\n/);
    // The oracle itself passes this run: the file records what a replay will show.
    const saved = parseScenario(readFileSync(join(dir, "r2", `counterexample-${c.runIndex}.json`), "utf8"), "saved");
    if (!saved.ok) throw new Error(saved.error);
    expect(countRecords(saved.scenario)).toBe(3);
    expect(saved.scenario.expect?.verdict).toBe("pass");
    expect(saved.scenario.expect?.traceHash).toBe(c.run?.result.traceHash);
  });

  test("the shrinking budget stops shrinking at the smallest failure found so far", () => {
    const arb = scenarioArb({ faults: "none", maxRecords: 30, sinkKinds: ["twoPhaseCommit"] });
    const broken = (run: { scenario: Scenario }) => ({ ok: countRecords(run.scenario) < 3, message: "too many records" });
    const c = findCounterexample("fewer than 3 records", arb, { numRuns: 50, seed: 5, check: broken, reportDir: false, maxShrinkRuns: 0, maxMinimizeRuns: 0 });
    expect(c?.numShrinks).toBe(0);
    expect(c?.message.split("\n")[0]).toMatch(/shrunk 0 times, stopped after 0 shrinking runs\)$/);
    expect(c?.records).toBeGreaterThan(3);
    // The second pass alone gets the same failure down to the 3 records it needs.
    const m = findCounterexample("fewer than 3 records", arb, { numRuns: 50, seed: 5, check: broken, reportDir: false, maxShrinkRuns: 0 });
    expect(m?.records).toBe(3);
    expect(m?.message.split("\n")[0]).toMatch(/shrunk 0 times, stopped after 0 shrinking runs, then minimized from \d+ records and 0 faults in \d+ runs\)$/);
    expect(c?.message).toContain("counterexample  not saved (reportDir is false)");
    expect(readdirSync(dir)).toEqual([]);
  });

  test("a run that throws is a failure that names the error", () => {
    const bad = failingCopyScenario("twoPhaseCommit");
    const invalid: Scenario = { ...bad, cluster: { ...bad.cluster, slotsPerTaskManager: 1 }, plan: { nodes: bad.plan.nodes.map((n) => ({ ...n, parallelism: 2 })) } };
    const e = caught(() => assertScenarioProperty("invalid scenarios are refused", fc.constant(invalid), { numRuns: 1, reportDir: dir, runId: "r3", seed: 1 }));
    expect(e.message.split("\n")[0]).toMatch(/^streamsim: the run threw \(run 1 of 1, shrunk 0 times, then minimized from 40 records and 1 fault in \d+ runs\)$/);
    expect(e.message).toContain("running the scenario threw ScenarioError: cluster has 1 slots but the plan needs 2");
    expect(existsSync(join(dir, "r3", "counterexample-1.json"))).toBe(true);
    expect(existsSync(join(dir, "r3", "index.html"))).toBe(false);
  });

  test("a custom replay command is printed (plans with closures replay from the test, not a file)", () => {
    const e = caught(() =>
      assertScenarioProperty("a plain sink is exactly-once", fc.constant(failingCopyScenario("plain")), {
        numRuns: 1,
        reportDir: dir,
        runId: "r4",
        seed: 3,
        replayCommand: (_file, seed) => `STREAMSIM_SEED=${seed} npx vitest run orders.test.ts`,
      }),
    );
    expect(e.message).toContain("  replay          STREAMSIM_SEED=3 npx vitest run orders.test.ts");
  });

  test("a failure that does not come back when the shrunk scenario is run again is called out as nondeterminism", () => {
    let calls = 0;
    const flaky = () => ({ ok: calls++ > 0, message: "failed the first time only" });
    const c = findCounterexample("flaky", fc.constant(failingCopyScenario("twoPhaseCommit")), { numRuns: 3, seed: 1, check: flaky, reportDir: false });
    expect(c?.message.split("\n")[1]).toBe("  the shrunk scenario failed during shrinking but passed when run again: the run is not deterministic");
  });

  test("onRun sees every checked run", () => {
    let runs = 0;
    assertScenarioProperty("a 2PC sink is exactly-once", fc.constant(failingCopyScenario("twoPhaseCommit")), { numRuns: 3, reportDir: dir, onRun: () => runs++ });
    expect(runs).toBe(3);
  });

  test("options are validated with a sentence naming the field", () => {
    const arb = fc.constant(failingCopyScenario("twoPhaseCommit"));
    expect(() => assertScenarioProperty("x", arb, { numRuns: 0 })).toThrow("options.numRuns must be an integer >= 1, got 0");
    expect(() => assertScenarioProperty("x", arb, { numRuns: 1, runId: "../up" })).toThrow('options.runId must be a plain directory name, got "../up"');
    expect(() => assertScenarioProperty("x", arb, { numRuns: 1, maxShrinkRuns: -1 })).toThrow("options.maxShrinkRuns must be an integer >= 0, got -1");
    expect(() => assertScenarioProperty("x", arb, { numRuns: 1, maxMinimizeRuns: 1.5 })).toThrow("options.maxMinimizeRuns must be an integer >= 0, got 1.5");
  });
});

describe("expectScenarioPropertyToFail", () => {
  test("returns the counterexample and writes nothing by default", () => {
    const c = expectScenarioPropertyToFail("a plain sink is exactly-once", fc.constant(failingCopyScenario("plain")), { numRuns: 1, seed: 1 });
    expect(c.verdict).toMatchObject({ ok: false, check: "exactlyOnce" });
    expect(c.counterexamplePath).toBeUndefined();
    expect(c.faults).toBe(1);
  });

  test("throws when every run holds", () => {
    expect(() => expectScenarioPropertyToFail("a 2PC sink duplicates", fc.constant(failingCopyScenario("twoPhaseCommit")), { numRuns: 2, seed: 4 })).toThrow(
      'streamsim: the property "a 2PC sink duplicates" was expected to fail, but all 2 runs held (seed 4)',
    );
  });
});

describe("verdicts and run records", () => {
  test("checksVerdict judges only the named checks, and refuses checks that did not run", () => {
    const run = runAndJudge({ ...failingCopyScenario("plain"), expect: { verdict: "pass", checks: ["exactlyOnce", "liveness"] } });
    expect(oracleVerdict(run)).toMatchObject({ ok: false, check: "exactlyOnce" });
    expect(checksVerdict(["liveness"])(run).ok).toBe(true);
    expect(checksVerdict(["exactlyOnce"])(run)).toMatchObject({ ok: false, check: "exactlyOnce" });
    expect(checksVerdict(["noLoss"])(run)).toMatchObject({ ok: false });
  });

  test("a run record carries the checks, faults with their ends, restores, the output diff and the timeline when asked", () => {
    const run = runAndJudge(failingCopyScenario("plain"));
    const rec = toRunRecord(run, { id: "run-9", replayCommand: "npx streamsim replay x.json", timeline: true, wallMs: 5 });
    expect(rec).toMatchObject({ id: "run-9", name: "copy-plain", seed: 3, verdict: "fail", expected: "pass", asExpected: false, status: "FINISHED", wallMs: 5 });
    expect(rec.checks.map((c) => c.check)).toEqual(["exactlyOnce"]);
    expect(rec.faults).toEqual([{ fault: "failTask", target: "cluster", startMs: 100, endMs: 100, detail: "failTask copy#0" }]);
    expect(rec.restores).toEqual([{ timeMs: expect.any(Number), checkpointId: null, attempt: 1 }]);
    // 32 records duplicated, each listed (the diff is recomputed from the reference, not taken from the checker's capped details).
    expect(rec.outputDiff?.[0]?.duplicated.length).toBe(32);
    expect(rec.timeline?.some((t) => t.kind === "restore")).toBe(true);
    // A failing run keeps its timeline even when not asked; a passing one only when asked.
    expect(toRunRecord(run, { id: "run-9", replayCommand: "r", timeline: false }).timeline).toBeDefined();
    const passing = runAndJudge(failingCopyScenario("twoPhaseCommit"));
    expect(passing.judgement.verdict).toBe("pass");
    expect(toRunRecord(passing, { id: "run-9", replayCommand: "r", timeline: false }).timeline).toBeUndefined();
  });

  test("faults from a trace pair starts and ends by index, and leave never-ending ones open", () => {
    const ev = (seq: number, time: number, node: string, kind: string, data: Record<string, unknown>) =>
      ({ seq, time, node, kind, level: "summary", data }) as never;
    const faults = faultsFromTrace([
      ev(0, 10, "tm-0", "fault", { fault: "crash", node: "tm-0", index: 0 }),
      ev(1, 12, "storage", "fault", { fault: "slowDisk", node: "storage", factor: 3, index: 1 }),
      ev(2, 20, "storage", "fault-end", { fault: "slowDisk", index: 1 }),
      ev(3, 30, "jm", "fault", { fault: "crash", node: "jm", index: 2, skipped: true }),
    ]);
    expect(faults).toEqual([
      { fault: "crash", target: "tm-0", startMs: 10, endMs: null, detail: "crash tm-0" },
      { fault: "slowDisk", target: "storage", startMs: 12, endMs: 20, detail: "slowDisk storage x3" },
      { fault: "crash", target: "jm", startMs: 30, endMs: 30, detail: "crash jm (skipped: the node was already down)" },
    ]);
  });
});
