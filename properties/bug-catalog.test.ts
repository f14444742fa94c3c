/**
 * Keeps the bug catalog of the detection benchmark (bench/bugs/catalog.ts) in sync with the engine:
 * every entry's find text must occur exactly once in its file, or the benchmark would apply a
 * stale or ambiguous bug. Detection itself is too slow for `npm test`: `npm run bench detection`.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { applyToText, occurrences, prepareCopy, PROJECT_ROOT } from "../bench/bugs/apply.ts";
import { BUGS, type Bug } from "../bench/bugs/catalog.ts";

/** The witness scenario's verdict on a copy of the project (with `bug` applied, or none). */
function witnessVerdict(bug: Bug | null, scenario: string): { verdict: string; failing: string[]; summary: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), "streamsim-witness-"));
  try {
    prepareCopy(PROJECT_ROOT, dir, bug);
    const out = execFileSync(
      process.execPath,
      ["--import", path.join(PROJECT_ROOT, "bin", "typescript.js"), path.join(dir, "bench", "bugs", "witness.ts"), path.join(PROJECT_ROOT, scenario)],
      { encoding: "utf8", timeout: 60_000 },
    );
    return JSON.parse(out.trim().split("\n").pop() ?? "{}") as { verdict: string; failing: string[]; summary: string };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("the bug catalog", () => {
  test("has at least 15 bugs with distinct ids, each naming what it models", () => {
    expect(BUGS.length).toBeGreaterThanOrEqual(15);
    expect(new Set(BUGS.map((b) => b.id)).size).toBe(BUGS.length);
    for (const b of BUGS) {
      expect(b.models.length, b.id).toBeGreaterThan(20);
      expect(b.find, b.id).not.toBe(b.replace);
    }
  });

  test.each(BUGS.map((b) => [b.id, b] as const))("entry %s finds its text exactly once in its file", (_id, bug) => {
    const text = readFileSync(path.join(PROJECT_ROOT, bug.file), "utf8");
    expect(occurrences(text, bug.find)).toBe(1);
    const mutated = applyToText(bug, text);
    expect(mutated).not.toBe(text);
    expect(mutated.length).toBe(text.length - bug.find.length + bug.replace.length);
  });

  const witnessed = BUGS.filter((b) => b.witness !== undefined);
  test.each(witnessed.map((b) => [b.id, b] as const))("entry %s: its witness scenario passes on the engine and fails its check with the bug", (_id, bug) => {
    const w = bug.witness as { scenario: string; check: string };
    expect(witnessVerdict(null, w.scenario).verdict).toBe("pass");
    const withBug = witnessVerdict(bug, w.scenario);
    expect(withBug.verdict, withBug.summary).toBe("fail");
    expect(withBug.failing).toContain(w.check);
  }, 120_000);

  test("applying an entry whose text is missing or ambiguous fails loudly", () => {
    const bug = BUGS[0];
    if (bug === undefined) throw new Error("empty catalog");
    expect(() => applyToText(bug, "nothing to see")).toThrow(/occurs 0 times/);
    expect(() => applyToText(bug, bug.find + bug.find)).toThrow(/occurs 2 times/);
  });
});
