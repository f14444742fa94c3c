import { describe, expect, test } from "vitest";
import { syntheticRunSet } from "../../bench/reports.ts";
import { mdCode, mdText, toMarkdownSummary } from "./markdown.ts";
import type { RunRecord, RunSet } from "./types.ts";
import { computeTotals } from "./types.ts";

describe("summary.md", () => {
  test("all-green runs give a short summary with totals and checkpoint statistics", () => {
    const md = toMarkdownSummary(syntheticRunSet(4, { failEvery: 0 }));
    expect(md.split("\n").slice(0, 2)).toEqual(["## streamsim: all 4 runs behaved as expected", ""]);
    expect(md).toContain("| runs | passed | failed | unexpected |\n|---:|---:|---:|---:|\n| 4 | 4 | 0 | 0 |");
    expect(md).not.toContain("Unexpected results");
    expect(md).toMatch(/\| 40 \| 40 \| none \| [\d.]+ ms \| [\d.]+ ms \| [\d.]+ ms \| [\d.]+ ms \| [\d.]+ KiB \|/);
  });

  test("failures are listed with their summary and replay command", () => {
    const set = syntheticRunSet(10, { failEvery: 5 });
    const md = toMarkdownSummary(set);
    expect(md).toContain("## streamsim: 2 of 10 runs did not behave as expected");
    const r = set.runs[4] as RunRecord;
    expect(md).toContain(
      `| run-4 | ${r.name} | ${r.seed} | fail (expected pass) | ${mdText(r.summary)} | \`npx streamsim replay reports/bench/counterexample-4.json\` |`,
    );
    expect(md).toContain("| 100 | 98 | 2 expired |");
  });

  test("a long list of failures is cut with a pointer to the full results", () => {
    const md = toMarkdownSummary(syntheticRunSet(30, { failEvery: 1 }), { maxRows: 5 });
    expect(md.match(/^\| run-\d+ \|/gm)).toHaveLength(5);
    expect(md).toContain("... and 25 more; see results.json or index.html.");
  });

  test("table cells survive pipes, backticks, line breaks and HTML", () => {
    const base = syntheticRunSet(1, { failEvery: 1 });
    const run: RunRecord = { ...(base.runs[0] as RunRecord), name: "a|b <script>alert(1)</script>", summary: "line1\nline2 `x`", replayCommand: "echo `a|b`" };
    const set: RunSet = { ...base, runs: [run], totals: computeTotals([run]) };
    const row = toMarkdownSummary(set).split("\n").find((l) => l.startsWith("| run-0 |")) ?? "";
    expect(row).toContain("| a\\|b &lt;script&gt;alert(1)&lt;/script&gt; |");
    expect(row).toContain("| line1 line2 \\`x\\` |");
    expect(row).toContain("| `` echo `a\\|b` `` |");
    expect(mdCode("plain")).toBe("`plain`");
  });
});
