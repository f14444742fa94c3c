import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { syntheticRunSet } from "../../bench/reports.ts";
import { Random } from "../sim/random.ts";
import { FileDurations, ReportSpool } from "./spool.ts";
import type { RunSet } from "./types.ts";
import { RunSetBuilder, headOf, summarizeCheckpoints } from "./view.ts";
import { writeReports } from "./write.ts";

const root = mkdtempSync(join(tmpdir(), "streamsim-spool-test-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const FILES = ["results.json", "junit.xml", "summary.md", "index.html"] as const;

/** Writes `set` with writeReports and through a spool (runs one at a time); both folders' reports. */
function bothWays(name: string, set: RunSet, collectLimit?: number): { ref: string; spooled: string } {
  const ref = join(root, name, "ref");
  const spooled = join(root, name, "spooled");
  writeReports(ref, set);
  const spool = new ReportSpool(spooled, collectLimit !== undefined ? { collectLimit } : {});
  for (const r of set.runs) spool.add(r);
  const { view } = spool.finish(headOf(set));
  expect(view.totals).toEqual(set.totals);
  return { ref, spooled };
}

describe("ReportSpool", () => {
  test.each([
    ["no runs", syntheticRunSet(0), undefined],
    ["300 runs, 1 in 7 failing", syntheticRunSet(300, { failEvery: 7 }), undefined],
    ["every run failing", syntheticRunSet(30, { failEvery: 1 }), undefined],
    // More runs than index.html lists, and durations selected by the file's radix passes.
    ["12,000 runs, a small sort limit", syntheticRunSet(12_000, { failEvery: 500, checkpoints: 6 }), 50],
  ])("writes the same four reports, byte for byte, as writeReports: %s", (name, set, limit) => {
    const { ref, spooled } = bothWays(name.replace(/\W+/g, "-"), set, limit);
    for (const f of FILES) expect(readFileSync(join(spooled, f)).equals(readFileSync(join(ref, f))), f).toBe(true);
    expect(readdirSync(spooled).sort()).toEqual([...FILES].sort());
  });

  test("discard removes the hidden spill files; nothing is left but what was there", () => {
    const dir = join(root, "discarded");
    const spool = new ReportSpool(dir);
    for (const r of syntheticRunSet(20).runs) spool.add(r);
    expect(Object.values(spool.spills).every((p) => existsSync(p) && p.includes(`${dir}/.`))).toBe(true);
    spool.discard();
    expect(readdirSync(dir)).toEqual([]);
    expect(() => spool.add(syntheticRunSet(1).runs[0] as never)).toThrow(/after finish or discard/);
  });

  test("a failed finish (a report that cannot be renamed into place) still removes the spill files", () => {
    const dir = join(root, "failing");
    const spool = new ReportSpool(dir);
    spool.add(syntheticRunSet(1).runs[0] as never);
    rmSync(dir, { recursive: true, force: true }); // the folder vanishes under the sweep
    expect(() => spool.finish(headOf(syntheticRunSet(1)))).toThrow();
    expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
  });
});

describe("checkpoint statistics run by run", () => {
  test("with durations in a file the builder gives the statistics it gives with them in memory (summarizeCheckpoints)", () => {
    const set = syntheticRunSet(500, { failEvery: 9, checkpoints: 6 });
    const dir = join(root, "builder");
    const spool = new ReportSpool(dir); // only for its folder
    spool.discard();
    const store = new FileDurations(join(dir, ".d"), 7);
    const b = new RunSetBuilder(store);
    for (const r of set.runs) b.add(r);
    expect(b.checkpoints()).toEqual(summarizeCheckpoints(set.runs));
    store.remove();
  });

  test("FileDurations selects every rank exactly, through the radix passes and without them", () => {
    const rnd = Random.fromSeed(3).fork("durations");
    const values: number[] = [];
    for (let i = 0; i < 3000; i++) {
      const k = rnd.int(0, 5);
      // Duplicates, zeros, negatives, integers, tiny and huge values, and neighbours that differ in the last bit.
      values.push(k === 0 ? 0 : k === 1 ? -rnd.int(0, 50) / 3 : k === 2 ? rnd.int(0, 1000) : k === 3 ? 1e300 * rnd.int(1, 3) : k === 4 ? 1 + rnd.int(0, 3) * Number.EPSILON : rnd.int(0, 1e6) / 7);
    }
    const sorted = [...values].sort((a, b) => a - b);
    for (const limit of [1, 16, 1 << 20]) {
      const store = new FileDurations(join(root, `.durations-${limit}`), limit);
      for (const v of values) store.add(v);
      expect(store.count).toBe(values.length);
      for (let k = 0; k < sorted.length; k += limit === 1 ? 97 : 13) expect(store.select(k) === sorted[k], `rank ${k}, limit ${limit}`).toBe(true); // -0 and 0 are equal, as in the sort
      expect(store.select(sorted.length - 1)).toBe(sorted.at(-1));
      store.remove();
    }
  });
});
