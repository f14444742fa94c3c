import { describe, expect, test } from "vitest";
import { syntheticRunSet } from "../../bench/reports.ts";
import { escapeXml, toJunitXml } from "./junit.ts";
import type { RunRecord, RunSet } from "./types.ts";
import { computeTotals } from "./types.ts";

function withRuns(runs: RunRecord[]): RunSet {
  return { ...syntheticRunSet(0), runs, totals: computeTotals(runs) };
}

describe("junit.xml", () => {
  const set = syntheticRunSet(10, { failEvery: 5 });
  const xml = toJunitXml(set);

  test("has one testsuite with the counts and one testcase per run", () => {
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="streamsim" tests="10" failures="2" errors="0" skipped="0"')).toBe(true);
    expect(xml).toMatch(/<testsuite name="streamsim bench" tests="10" failures="2" errors="0" skipped="0" time="[\d.]+" timestamp="2026-01-01T00:00:00.000Z">/);
    expect(xml.match(/<testcase /g)).toHaveLength(10);
    expect(xml.match(/<failure /g)).toHaveLength(2);
    expect(xml).toContain('<property name="command" value="streamsim sweep --runs 10 --seed 42"/>');
  });

  test("a failing run's failure message carries the summary and the replay command", () => {
    const r = set.runs[4] as RunRecord;
    expect(xml).toContain(
      `<testcase classname="${r.name}" name="run-4" time="${((r.wallMs ?? 0) / 1000).toFixed(3)}">\n      <failure message="${escapeXml(r.summary)} Replay: npx streamsim replay reports/bench/counterexample-4.json" type="exactlyOnce">`,
    );
  });

  test("a scenario expected to fail that fails is a passing test case", () => {
    const base = set.runs[4] as RunRecord;
    const run: RunRecord = { ...base, id: "storage-failures", name: "storage-failures", expected: "fail", asExpected: true };
    const out = toJunitXml(withRuns([run]));
    expect(out).not.toContain("<failure");
    expect(out).toContain('<testcase classname="storage-failures" name="storage-failures (seed');
    expect(out).toContain("<system-out>failed as expected: ");
  });

  test("a run that passes when it should fail is a failure of type unexpected-pass", () => {
    const run: RunRecord = { ...(set.runs[0] as RunRecord), expected: "fail", asExpected: false };
    expect(toJunitXml(withRuns([run]))).toContain('type="unexpected-pass"');
  });

  test("escapes every string from a scenario and drops characters XML cannot hold", () => {
    const base = set.runs[4] as RunRecord;
    const run: RunRecord = { ...base, name: `<script>alert("1")</script> & 'x'`, summary: "bad \u0001 byte ]]> end", replayCommand: "npx streamsim replay 'a b'.json" };
    const out = toJunitXml(withRuns([run]));
    expect(out).not.toContain("<script>");
    expect(out).not.toContain("\u0001");
    expect(out).toContain('classname="&lt;script&gt;alert(&quot;1&quot;)&lt;/script&gt; &amp; &apos;x&apos;"');
    expect(out).toContain("bad \uFFFD byte ]]&gt; end");
    expect(escapeXml("a\uD800b")).toBe("a\uFFFDb");
  });
});
