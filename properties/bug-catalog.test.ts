/**
 * Keeps the bug catalog of the detection benchmark (bench/bugs/catalog.ts) in sync with the engine:
 * every entry's find text must occur exactly once in its file, or the benchmark would apply a
 * stale or ambiguous bug. Detection itself is too slow for `npm test`: `npm run bench detection`.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { applyToText, occurrences, PROJECT_ROOT } from "../bench/bugs/apply.ts";
import { BUGS } from "../bench/bugs/catalog.ts";

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

  test("applying an entry whose text is missing or ambiguous fails loudly", () => {
    const bug = BUGS[0];
    if (bug === undefined) throw new Error("empty catalog");
    expect(() => applyToText(bug, "nothing to see")).toThrow(/occurs 0 times/);
    expect(() => applyToText(bug, bug.find + bug.find)).toThrow(/occurs 2 times/);
  });
});
