import { describe, expect, test } from "vitest";
import { syntheticRunSet } from "../../bench/reports.ts";
import { MAX_LISTED_RUNS, escapeHtml, hasDetails, toHtml } from "./html.ts";
import type { RunRecord, RunSet } from "./types.ts";
import { computeTotals } from "./types.ts";

const XSS = "<script>alert(1)</script>";

/** A failing run in which every string a scenario or trace can supply is hostile. */
function hostileSet(): RunSet {
  const base = syntheticRunSet(3, { failEvery: 3 });
  const failing = base.runs[2] as RunRecord;
  const run: RunRecord = {
    ...failing,
    id: `run-${XSS}`,
    name: XSS,
    summary: `summary ${XSS}`,
    status: XSS,
    checks: [{ check: XSS, ok: false, message: XSS }],
    traceHash: XSS,
    faults: [{ fault: XSS, target: XSS, startMs: 1, endMs: null, detail: XSS }],
    timeline: [
      { timeMs: 0, endMs: 10, lane: XSS, kind: "checkpoint", id: 1, outcome: `x" onload="alert(1)`, label: XSS },
      { timeMs: 5, lane: XSS, kind: XSS, label: XSS },
    ],
    checkpoints: [{ ...(failing.checkpoints[1] as RunRecord["checkpoints"][number]), failureReason: XSS, alignmentMs: { [XSS]: 5 } }],
    outputDiff: [{ sink: XSS, missing: [XSS], duplicated: [{ [XSS]: XSS }], unexpected: [] }],
    counterexamplePath: XSS,
    replayCommand: `npx streamsim replay "${XSS}"`,
  };
  const runs = [base.runs[0] as RunRecord, run];
  return { ...base, runId: XSS, command: XSS, shard: XSS, runs, totals: computeTotals(runs) };
}

describe("index.html", () => {
  test("escapes every string that comes from a scenario, a trace or a result", () => {
    const html = toHtml(hostileSet());
    expect(html).not.toContain(XSS);
    expect(html).not.toContain('" onload="');
    expect(html.match(/<script>/g)).toHaveLength(1); // the page's own script
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(html).toContain('data-copy="npx streamsim replay &quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot;"');
    expect(escapeHtml(`<a href='x'>&"`)).toBe("&lt;a href=&#39;x&#39;&gt;&amp;&quot;");
  });

  test("is self-contained: no external scripts, styles, fonts or images", () => {
    const html = toHtml(syntheticRunSet(20, { failEvery: 4 }));
    expect(html).not.toMatch(/\bsrc=/);
    expect(html).not.toMatch(/href="(?!#)/);
    expect(html).not.toMatch(/@import|url\(|@font-face/);
    expect(html).toMatch(/^<!doctype html>\n<html lang="en">/);
  });

  test("shows the totals and one table row per run, with data for the verdict filter", () => {
    const set = syntheticRunSet(20, { failEvery: 4 });
    const html = toHtml(set);
    expect(html).toContain("<title>streamsim report · bench</title>");
    expect(html).toContain("5 of 20 runs did not behave as expected.");
    expect(html.match(/<tr data-verdict="(pass|fail)"/g)).toHaveLength(20);
    expect(html.match(/<tr data-verdict="fail" data-unexpected="true"/g)).toHaveLength(5);
    expect(html).toContain('<button type="button" data-filter="unexpected" aria-pressed="false">Unexpected <span>5</span></button>');
  });

  test(`lists at most ${MAX_LISTED_RUNS} runs, every failing one among them, and says how many passing runs it left out`, () => {
    const set = syntheticRunSet(MAX_LISTED_RUNS + 1000, { failEvery: 500 });
    const html = toHtml(set);
    const failing = set.runs.filter((r) => r.verdict === "fail").length;
    expect(failing).toBe(22);
    expect(html.match(/<tr data-verdict="(pass|fail)"/g)).toHaveLength(MAX_LISTED_RUNS);
    expect(html.match(/<tr data-verdict="fail"/g)).toHaveLength(failing);
    expect(html).toContain(`<span id="shown-count">${MAX_LISTED_RUNS}</span> of ${MAX_LISTED_RUNS + 1000}`);
    expect(html).toContain(`<p class="muted" id="runs-omitted">1000 passing runs are not listed: the table lists at most ${MAX_LISTED_RUNS} runs`);
    expect(html).toContain('<td class="id"><a href="#run-10499">run-10499</a></td>'); // the last run fails: listed
    expect(toHtml(syntheticRunSet(20))).not.toContain("runs-omitted");
  });

  test("each failing run gets an anchored section with a timeline, checkpoint table and output difference", () => {
    const html = toHtml(syntheticRunSet(8, { failEvery: 4 }));
    const sections = [...html.matchAll(/<article class="run[^"]*" id="([^"]+)">/g)].map((m) => m[1]);
    expect(sections).toEqual(["run-3", "run-7"]);
    expect(html).toContain('<td class="id"><a href="#run-3">run-3</a></td>');
    expect(html).toContain('<td class="id">run-0</td>');
    const run3 = html.slice(html.indexOf('id="run-3"'), html.indexOf('id="run-7"'));
    expect(run3).toContain('<svg class="timeline" data-run="run-3"');
    for (const lane of ["job", "jm", "tm-1", "window#0", "broker"]) expect(run3).toContain(`data-lane="${lane}"`);
    expect(run3.match(/class="span checkpoint outcome-completed" data-checkpoint-id=/g)).toHaveLength(9);
    expect(run3).toContain('class="span checkpoint outcome-expired" data-checkpoint-id="2"');
    expect(run3).toContain('<span class="pill outcome-expired">EXPIRED</span></td><td class="num">2000 ms</td><td class="num">900 ms</td><td class="num">-</td>');
    expect(run3).toContain("<h4>Output: expected vs committed</h4>");
    expect(run3).toContain("<code>{&quot;key&quot;:&quot;k-3&quot;,&quot;value&quot;:3}</code>");
    expect(run3).toContain("Committed output matches the expected output.");
  });

  test("a passing run with a timeline (a chosen run) gets a section too", () => {
    const base = syntheticRunSet(2, { failEvery: 2 });
    const chosen: RunRecord = { ...(base.runs[0] as RunRecord), timeline: (base.runs[1] as RunRecord).timeline ?? [] };
    expect(hasDetails(chosen)).toBe(true);
    expect(hasDetails(base.runs[0] as RunRecord)).toBe(false);
    const html = toHtml({ ...base, runs: [chosen] });
    expect(html).toContain('<article class="run" id="run-0">');
    expect(html).toContain('<svg class="timeline" data-run="run-0"');
  });

  test("a run without an output comparison says so", () => {
    const base = syntheticRunSet(1, { failEvery: 1 });
    const { outputDiff: _omit, ...run } = base.runs[0] as RunRecord;
    expect(toHtml({ ...base, runs: [run] })).toContain("No output comparison was recorded for this run.");
  });
});
