import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { syntheticRunSet } from "../../bench/reports.ts";
import { mergeRunSets, parseRunSet, readRunSet, resultsJsonLines, toResultsJson } from "./json.ts";
import { writeLinesAtomic } from "./write.ts";
import type { RunSet } from "./types.ts";

const dir = mkdtempSync(join(tmpdir(), "streamsim-json-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A shard: runs `ids` of a synthetic sweep. */
function shard(ids: readonly number[], extra: Partial<RunSet> = {}): RunSet {
  const all = syntheticRunSet(12, { failEvery: 4 });
  const runs = all.runs.filter((_, i) => ids.includes(i));
  return { ...all, runs, totals: { runs: 0, passed: 0, failed: 0, unexpected: 0 }, ...extra };
}

describe("results.json", () => {
  test("holds everything and reads back identical", () => {
    const set = syntheticRunSet(20, { failEvery: 5 });
    const text = toResultsJson(set);
    expect(text.endsWith("\n")).toBe(true);
    expect(parseRunSet(text, "results.json")).toEqual({ ok: true, runSet: set });
  });

  test("readRunSet reads a file and explains a missing one in one line", () => {
    const path = join(dir, "results.json");
    const set = syntheticRunSet(3);
    writeFileSync(path, toResultsJson(set));
    expect(readRunSet(path)).toEqual({ ok: true, runSet: set });
    expect(readRunSet(join(dir, "nope.json"))).toEqual({ ok: false, error: `${join(dir, "nope.json")}: cannot read results: no such file` });
  });

  test("one run per line after the set's own fields, read back line by line, and a cut-short or broken file gives one line", () => {
    const set = syntheticRunSet(30, { failEvery: 7 });
    const lines = [...resultsJsonLines(set)];
    expect(lines[0]?.endsWith(',"runs":[')).toBe(true);
    expect(lines.length).toBe(30 + 3);
    expect(JSON.parse(lines.join("\n"))).toEqual(JSON.parse(JSON.stringify(set)));
    const path = join(dir, "lines.json");
    writeLinesAtomic(path, lines);
    expect(readFileSync(path, "utf8")).toBe(toResultsJson(set));
    expect(readRunSet(path)).toEqual({ ok: true, runSet: set });
    // Read a few bytes at a time: lines and multi-byte characters cut across reads.
    const wide = { ...set, runs: set.runs.map((r, i) => (i % 4 === 0 ? { ...r, summary: `${r.summary} · façade ✓ 検査` } : r)) };
    writeLinesAtomic(path, resultsJsonLines(wide));
    for (const chunk of [7, 64, 1000]) expect(readRunSet(path, chunk)).toEqual({ ok: true, runSet: wide });
    // An older streamsim's layout (the whole set indented) still reads.
    writeFileSync(path, JSON.stringify(set, null, 2) + "\n");
    expect(readRunSet(path)).toEqual({ ok: true, runSet: set });
    writeFileSync(path, lines.slice(0, 10).join("\n"));
    expect(readRunSet(path)).toEqual({ ok: false, error: `${path}: not a results.json file: it does not end with "]}" (cut short?)` });
    const broken = [...lines];
    broken[4] = '{"id": "run-3",';
    writeFileSync(path, broken.join("\n"));
    const r = readRunSet(path);
    expect(r.ok).toBe(false);
    expect(r.ok ? "" : r.error).toMatch(new RegExp(`^${path}: not a results.json file: line 5 is not a run: invalid JSON`));
    const badField = [...lines];
    badField[2] = (badField[2] ?? "").replace('"verdict":"pass"', '"verdict":"maybe"');
    writeFileSync(path, badField.join("\n"));
    expect(readRunSet(path)).toEqual({ ok: false, error: `${path}: not a results.json file: runs[1].verdict must be one of pass, fail, got "maybe"` });
  });

  test("a malformed file gives one line naming the file and the field", () => {
    const set = syntheticRunSet(3) as unknown as { runs: Array<Record<string, unknown>> };
    (set.runs[1] as Record<string, unknown>).verdict = "maybe";
    expect(parseRunSet(JSON.stringify(set), "r.json")).toEqual({
      ok: false,
      error: 'r.json: not a results.json file: runs[1].verdict must be one of pass, fail, got "maybe"',
    });
    expect(parseRunSet('{"runId": 1', "r.json")).toEqual({
      ok: false,
      error: "r.json: not a results.json file: invalid JSON at line 1 column 12: expected ',' or '}' after a property value, found the end of the file",
    });
    expect(parseRunSet("[]", "r.json")).toEqual({ ok: false, error: "r.json: not a results.json file: the file must be an object, got an empty array" });
  });
});

describe("mergeRunSets", () => {
  test("concatenates shards, sorts runs by id naturally and recomputes totals", () => {
    const merged = mergeRunSets([shard([10, 2, 7], { shard: "2/2", createdAt: "2026-01-02T00:00:00.000Z" }), shard([0, 3, 11, 1], { shard: "1/2" })]);
    expect(merged.runs.map((r) => r.id)).toEqual(["run-0", "run-1", "run-2", "run-3", "run-7", "run-10", "run-11"]);
    expect(merged.totals).toEqual({ runs: 7, passed: 4, failed: 3, unexpected: 3 });
    expect(merged.seed).toBe(42);
    expect(merged.shard).toBeUndefined();
    expect(merged.createdAt).toBe("2026-01-02T00:00:00.000Z");
    expect(merged.runId).toBe("merged");
  });

  test("drops the seed when shards disagree and takes the given run id", () => {
    const merged = mergeRunSets([shard([0], { seed: 1 }), shard([1], { seed: 2 })], { runId: "all" });
    expect(merged.seed).toBeUndefined();
    expect(merged.runId).toBe("all");
  });

  test("refuses a run that appears in two shards", () => {
    expect(() => mergeRunSets([shard([0, 1], { shard: "1/2" }), shard([1], { runId: "b", shard: "2/2" })])).toThrow(
      'run id "run-1" appears in both set 1 (runId "bench", shard 1/2) and set 2 (runId "b", shard 2/2); merge each shard once',
    );
  });

  test("merging one set gives the same runs", () => {
    const set = syntheticRunSet(5);
    expect(mergeRunSets([set]).runs).toEqual(set.runs);
    expect(mergeRunSets([]).totals).toEqual({ runs: 0, passed: 0, failed: 0, unexpected: 0 });
  });
});
