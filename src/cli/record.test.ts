import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { runAndJudge } from "../runner/check.ts";
import { parseScenario } from "../scenario-schema.ts";
import type { Scenario } from "../scenario.ts";
import type { TraceEvent } from "../sim/trace.ts";
import { checkLines, checkpointTableLines, verdictLine } from "./format.ts";
import { colorEnabled, parseDurationMs, shellQuote } from "./io.ts";
import { expectationMismatches, toRunRecord } from "../report/record.ts";
import { faultsFromTrace, maxAlignment } from "../report/types.ts";
import { summarizeCheckpoints } from "../report/view.ts";

function builtin(name: string): Scenario {
  const p = parseScenario(readFileSync(new URL(`../../scenarios/${name}.json`, import.meta.url), "utf8"), name);
  if (!p.ok) throw new Error(p.error);
  return p.scenario;
}

describe("run records", () => {
  const plain = builtin("plain-sink-duplicates");
  const checked = runAndJudge(plain);

  test("a run that fails the way its scenario declares is as expected", () => {
    expect(expectationMismatches(plain.expect, checked)).toEqual([]);
    const r = toRunRecord(checked, { id: plain.name, replayCommand: "npx streamsim replay x.json" });
    expect(r.asExpected).toBe(true);
    expect(r.verdict).toBe("fail");
    expect(r.traceHash).toBe(plain.expect?.traceHash);
    expect(r.timeline?.length).toBeGreaterThan(0);
    expect(r.outputDiff?.[0]?.duplicated.length).toBeGreaterThan(0);
    expect(r.outputDiff?.[0]?.missing).toEqual([]);
  });

  test("every declared expectation that does not hold is named", () => {
    const declared = { verdict: "pass", failingCheck: "noLoss", jobStatus: "FAILED", traceHash: "0000000000000000" } as const;
    const m = expectationMismatches(declared, checked);
    expect(m).toEqual([
      "verdict fail, declared pass",
      "noLoss was declared to fail but held",
      "job ended FINISHED, declared FAILED",
      `trace hash ${checked.result.traceHash} does not match the recorded 0000000000000000`,
    ]);
    expect(expectationMismatches(undefined, checked)).toEqual(["verdict fail, declared pass"]);
  });

  test("a passing run without a timeline keeps each checkpoint's longest alignment only, a chosen one every subtask's", () => {
    const s = builtin("ecommerce-clickstream");
    const ok = runAndJudge(s);
    expect(ok.judgement.verdict).toBe("pass");
    const full = toRunRecord(ok, { id: s.name, timeline: true, replayCommand: "x" });
    const lean = toRunRecord(ok, { id: s.name, replayCommand: "x" });
    expect(lean.timeline).toBeUndefined();
    const aligned = full.checkpoints.filter((c) => Object.keys(c.alignmentMs).length > 1);
    expect(aligned.length).toBeGreaterThan(0);
    for (const [i, c] of full.checkpoints.entries()) {
      const l = lean.checkpoints[i];
      const a = maxAlignment(c);
      expect(l?.alignmentMs).toEqual(a === null ? {} : { [a.subtask]: a.ms });
      expect({ ...l, alignmentMs: {} }).toEqual({ ...c, alignmentMs: {} });
    }
    expect(summarizeCheckpoints([lean])).toEqual(summarizeCheckpoints([full]));
  });

  test("faults are paired with their end by plan index, instantaneous ones end where they start", () => {
    const e = (seq: number, time: number, node: string, kind: string, data: TraceEvent["data"]): TraceEvent => ({ seq, time, node, kind, level: "summary", data });
    const faults = faultsFromTrace([
      e(0, 10, "tm-1", "fault", { fault: "crash", node: "tm-1", restartAfterMs: 50, index: 0 }),
      e(1, 20, "cluster", "fault", { fault: "failTask", vertex: "map", subtask: 1, index: 1 }),
      e(2, 30, "tm-0", "fault", { fault: "crash", node: "tm-0", index: 2 }),
      e(3, 60, "tm-1", "fault-end", { fault: "crash", index: 0 }),
    ]);
    expect(faults.map((f) => [f.fault, f.target, f.startMs, f.endMs])).toEqual([
      ["crash", "tm-1", 10, 60],
      ["failTask", "cluster", 20, 20],
      ["crash", "tm-0", 30, null],
    ]);
  });
});

describe("what the commands print", () => {
  const s = builtin("seed-config-backpressure");
  const r = toRunRecord(runAndJudge(s), { id: s.name, replayCommand: "x" });

  test("the checkpoint table has one row per checkpoint under the journey's columns", () => {
    const lines = checkpointTableLines(r.checkpoints);
    expect(lines[0]).toMatch(/^checkpoint +status +triggered +duration +state +max alignment +failure reason$/);
    expect(lines).toHaveLength(r.checkpoints.length + 1);
    expect(lines[2]).toMatch(/^2 +EXPIRED +[\d.]+ ms +60 s +- /);
    expect(checkpointTableLines([])).toEqual(["no checkpoints were taken"]);
  });

  test("the verdict line tells what held, how checkpoints ended and how the job ended", () => {
    expect(verdictLine(r, 0)).toMatch(/^exactly-once held; 1 of 2 checkpoints expired \(tolerable: 0\) -> job FAILED at [\d.]+ ms$/);
    expect(checkLines(r).every((l) => l.startsWith("ok   "))).toBe(true);
  });

  test("durations parse with units, seconds by default, and anything else is refused", () => {
    expect(parseDurationMs("60s")).toBe(60_000);
    expect(parseDurationMs("2m")).toBe(120_000);
    expect(parseDurationMs("500ms")).toBe(500);
    expect(parseDurationMs("1.5")).toBe(1500);
    expect(parseDurationMs("soon")).toBeUndefined();
    expect(parseDurationMs("-3s")).toBeUndefined();
  });

  test("colour needs a terminal and no NO_COLOR; printed commands are quoted for a shell", () => {
    expect(colorEnabled({ isTTY: true }, {})).toBe(true);
    expect(colorEnabled({ isTTY: true }, { NO_COLOR: "1" })).toBe(false);
    expect(colorEnabled({ isTTY: false }, {})).toBe(false);
    expect(colorEnabled({ isTTY: true }, { NO_COLOR: "" })).toBe(true);
    expect(shellQuote("reports/a-1/x.json")).toBe("reports/a-1/x.json");
    expect(shellQuote("my file's.json")).toBe(`'my file'\\''s.json'`);
  });
});
