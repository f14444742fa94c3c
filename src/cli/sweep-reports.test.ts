/**
 * A sweep writes its reports run by run (ReportSpool, RunOrder) instead of from every run held in
 * memory. These tests run real sweeps in this process and check that the four reports are byte for
 * byte what writeReports writes for the same runs sorted by id, as the sweep did when it kept them
 * all; that counterexamples are written as they arrive; and that no spill file is left behind.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import type { RunRecord, RunSet } from "../report/index.ts";
import { computeTotals, mergeRunSets, naturalCompare, readRunSet, writeReports } from "../report/index.ts";
import { reportCommand } from "./commands/report.ts";
import type { SweepOptions, SweepOutcome, SweepPool } from "./commands/sweep.ts";
import { executeSweep, jsonWithRuns } from "./commands/sweep.ts";
import type { Console } from "./io.ts";
import { quietConsole } from "./io.ts";
import type { PoolRun, PoolRunOptions, TaskList } from "./pool.ts";
import type { LoadedScenario } from "./scenarios.ts";
import { BUILTIN_DIR, builtinNames, loadScenarioFile } from "./scenarios.ts";
import type { Scenario } from "../scenario.ts";
import type { CaseTask, TaskResult } from "./task.ts";
import { runTask } from "./task.ts";

const root = mkdtempSync(join(tmpdir(), "streamsim-sweep-reports-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const FILES = ["results.json", "junit.xml", "summary.md", "index.html"] as const;

const quiet: Console = quietConsole;

function sweep(name: string, o: Partial<SweepOptions>): Promise<SweepOutcome> {
  return executeSweep(
    { runs: 100, seed: 11, seedChosen: false, workers: 0, faults: "normal", shrinkRuns: 3, command: `test ${name}`, label: "sweep", out: join(root, name), ...o },
    quiet,
  );
}

/**
 * The reports the sweep wrote, against writeReports of the same runs (read back from its
 * results.json) sorted by id with recomputed totals: what the in-memory sweep wrote.
 */
function expectReportsAsInMemory(dir: string): RunSet {
  const written = JSON.parse(readFileSync(join(dir, "results.json"), "utf8")) as RunSet;
  const runs = [...written.runs].sort((a, b) => naturalCompare(a.id, b.id));
  const ref = join(`${dir}-reference`);
  writeReports(ref, { ...written, runs, totals: computeTotals(runs) });
  for (const f of FILES) expect(readFileSync(join(dir, f)).equals(readFileSync(join(ref, f))), `${dir}: ${f}`).toBe(true);
  const left = readdirSync(dir).filter((f) => !f.startsWith("counterexample-"));
  expect(left.sort()).toEqual([...FILES].sort());
  return written;
}

/** The built-in scenarios, plus ones that fail unexpectedly, repeat a name, or sort among the generated runs. */
function scenarios(): LoadedScenario[] {
  const builtins = builtinNames().map((n) => loadScenarioFile(`${BUILTIN_DIR}${n}.json`, `scenarios/${n}.json`));
  const plain = builtins.find((s) => s.scenario.name === "plain-sink-duplicates");
  const seed = builtins.find((s) => s.scenario.name === "seed-config");
  if (plain === undefined || seed === undefined) throw new Error("built-in scenarios missing");
  const renamed = (s: LoadedScenario, name: string, verdict?: "pass"): LoadedScenario => ({
    ...s,
    // The rest of `expect` stays: without it the same scenario ran differently (and passed).
    scenario: { ...s.scenario, name, ...(verdict !== undefined ? { expect: { ...s.scenario.expect, verdict } } : {}) },
  });
  return [
    ...builtins,
    renamed(plain, "plain-sink-declared-pass", "pass"), // fails, not as declared
    renamed(plain, "run-7", "pass"), // the same id as generated run 7, and unexpected
    renamed(seed, "run-40b"),
    renamed(seed, "seed-config"), // a second seed-config: id seed-config-2
    renamed(seed, "run-"),
  ];
}

describe("a sweep's reports, written run by run", () => {
  test("are those of the in-memory sweep with 1 and 2 workers, and the same runs", async () => {
    const [one, two] = await Promise.all([sweep("w1", { runs: 250, workers: 1 }), sweep("w2", { runs: 250, workers: 2 })]);
    const a = expectReportsAsInMemory(join(root, "w1"));
    const b = expectReportsAsInMemory(join(root, "w2"));
    expect(a.runs.map((r) => `${r.id} ${r.verdict} ${r.traceHash}`)).toEqual(b.runs.map((r) => `${r.id} ${r.verdict} ${r.traceHash}`));
    expect(one.view.totals).toEqual(a.totals);
    expect(two.view.totals.runs).toBe(250);
  }, 120_000);

  test("are those of the in-memory sweep with built-in scenarios mixed in, failing runs and a shard", async () => {
    const o = await sweep("start", { runs: 120, workers: 2, scenarios: scenarios(), label: "start", shard: { index: 2, count: 3 } });
    const set = expectReportsAsInMemory(join(root, "start"));
    expect(set.shard).toBe("2/3");
    const ids = set.runs.map((r) => r.id);
    // Sorted as the in-memory sweep sorted them; the scenario run-7 before generated run-7.
    expect(ids.indexOf("run-")).toBeLessThan(ids.indexOf("run-1"));
    expect(ids.indexOf("run-40b")).toBe(ids.indexOf("run-40") + 1);
    expect(ids.filter((id) => id === "run-7")).toHaveLength(2);
    expect(set.runs.find((r) => r.id === "run-7")?.name).toBe("run-7");
    expect(ids).toContain("seed-config-2");
    expect(o.view.totals.unexpected).toBeGreaterThanOrEqual(2);
    expect(o.view.kept.filter((r) => !r.asExpected).map((r) => r.id)).toEqual(set.runs.filter((r) => !r.asExpected).map((r) => r.id));
    expect(readFileSync(join(root, "start", "summary.md"), "utf8")).toContain("plain-sink-declared-pass");
  }, 120_000);

  // Reads the results.json the previous test wrote (tests in a file run in order).
  test("streamsim report rebuilds them run by run, as the in-memory rebuild did, and a bad line leaves no report", () => {
    const from = join(root, "start", "results.json");
    const read = readRunSet(from);
    if (!read.ok) throw new Error(read.error);
    writeReports(join(root, "rebuilt-reference"), read.runSet);
    expect(reportCommand([from], { merge: false, out: join(root, "rebuilt") }, quietConsole)).toBe(read.runSet.totals.unexpected === 0 ? 0 : 1);
    for (const f of FILES) expect(readFileSync(join(root, "rebuilt", f)).equals(readFileSync(join(root, "rebuilt-reference", f))), f).toBe(true);
    expect(readdirSync(join(root, "rebuilt")).sort()).toEqual([...FILES].sort());
    // The third run's line broken: one line naming it, and nothing written (no spill file left either).
    const lines = readFileSync(from, "utf8").split("\n");
    lines[3] = `${(lines[3] ?? "").slice(0, 40)},`;
    writeFileSync(join(root, "broken.json"), lines.join("\n"));
    expect(() => reportCommand([join(root, "broken.json")], { merge: false, out: join(root, "broken") }, quietConsole)).toThrow(/broken\.json: not a results\.json file: line 4 is not a run/);
    expect(readdirSync(join(root, "broken"))).toEqual([]);
  });

  test("streamsim report --merge joins shards run by run, as the in-memory merge did, and falls back to it for unsorted shards", async () => {
    await Promise.all([
      sweep("m1", { runs: 90, shard: { index: 1, count: 2 }, scenarios: scenarios().slice(0, 2), label: "start" }),
      sweep("m2", { runs: 90, shard: { index: 2, count: 2 } }),
    ]);
    const shards = [join(root, "m1", "results.json"), join(root, "m2", "results.json")];
    const readRunSetOk = (f: string): RunSet => {
      const r = readRunSet(f);
      if (!r.ok) throw new Error(r.error);
      return r.runSet;
    };
    const inMemory = (files: string[], out: string): void => {
      const sets = files.map((f) => {
        const r = readRunSet(f);
        if (!r.ok) throw new Error(r.error);
        return r.runSet;
      });
      writeReports(out, mergeRunSets(sets, { runId: "merged", command: `streamsim report --merge ${files.join(" ")}` }));
    };
    const same = (a: string, b: string): void => {
      for (const f of FILES) expect(readFileSync(join(a, f)).equals(readFileSync(join(b, f))), `${a}: ${f}`).toBe(true);
      expect(readdirSync(a).sort()).toEqual([...FILES].sort());
    };
    // The merged folder's name is the merged set's runId: both are called "merged".
    inMemory(shards, join(root, "reference", "merged"));
    reportCommand(shards, { merge: true, out: join(root, "merged") }, quietConsole);
    same(join(root, "merged"), join(root, "reference", "merged"));
    // A shard whose runs are out of order is merged in memory, with the same result.
    const lines = readFileSync(shards[1] as string, "utf8").split("\n");
    const runLines = lines.slice(1, -2).map((l) => (l.endsWith(",") ? l.slice(0, -1) : l)).reverse();
    writeFileSync(join(root, "m2-reversed.json"), [lines[0], ...runLines.map((l, i) => (i < runLines.length - 1 ? `${l},` : l)), ...lines.slice(-2)].join("\n"));
    const unsorted = [shards[0] as string, join(root, "m2-reversed.json")];
    inMemory(unsorted, join(root, "reference-unsorted", "merged"));
    reportCommand(unsorted, { merge: true, out: join(root, "unsorted", "merged") }, quietConsole);
    same(join(root, "unsorted", "merged"), join(root, "reference-unsorted", "merged"));
    // The same runs as the sorted shards gave (only the command, naming the files, differs).
    expect(readRunSetOk(join(root, "unsorted", "merged", "results.json")).runs).toEqual(readRunSetOk(join(root, "merged", "results.json")).runs);
    // A shard merged twice: one line naming the run and both sets, nothing written.
    expect(() => reportCommand([shards[1] as string, shards[1] as string], { merge: true, out: join(root, "twice") }, quietConsole)).toThrow(
      /^report --merge: run id "run-1" appears in both set 1 \(runId "m2", shard 2\/2\) and set 2 \(runId "m2", shard 2\/2\); merge each shard once$/,
    );
    expect(readdirSync(join(root, "twice"))).toEqual([]);
  }, 120_000);

  test("are those of the in-memory sweep when a time budget stops it: the runs that did not start are absent", async () => {
    const o = await sweep("budget", { runs: 3000, workers: 2, timeBudgetMs: 1500, scenarios: scenarios().slice(0, 3) });
    expect(o.notStarted).toBeGreaterThan(0);
    const set = expectReportsAsInMemory(join(root, "budget"));
    expect(set.runs).toHaveLength(3003 - o.notStarted);
    // The runs that ran are the first ones.
    const cases = set.runs.filter((r) => /^run-\d+$/.test(r.id)).map((r) => Number(r.id.slice(4)));
    expect(Math.max(...cases)).toBe(cases.length - 1);
  }, 120_000);
});

/** A pool that runs tasks in this thread, reports them in the order given, and can fail midway. */
function scriptedPool(order: (n: number) => number[], hooks: { before?: (k: number) => void; failAt?: number } = {}): () => SweepPool {
  return () => ({
    async run(tasks: TaskList, opts: PoolRunOptions = {}): Promise<PoolRun> {
      const seq = order(tasks.length);
      for (const [k, i] of seq.entries()) {
        hooks.before?.(k);
        if (k === hooks.failAt) throw new Error("worker died");
        const t = tasks.at(i);
        if (t === undefined) throw new Error(`no task ${i}`);
        opts.onResult?.(withCounterexample(runTask(t), t.kind === "case" ? t : undefined), i);
      }
      return { results: [], notStarted: tasks.length - seq.length, wallMs: 1 };
    },
    async close() {},
  });
}

/** Every tenth generated case as a failing one with a counterexample file to write (a real failure is rare). */
function withCounterexample(r: TaskResult, t: CaseTask | undefined): TaskResult {
  if (t === undefined || t.index % 10 !== 3) return r;
  const path = `${t.outDir}/counterexample-${t.index}.json`;
  const record: RunRecord = { ...r.record, verdict: "fail", asExpected: false, counterexamplePath: path, summary: `scripted failure of run ${t.index}` };
  return { record, counterexample: { path, scenario: { ...SOME_SCENARIO, name: `cx-${t.index}`, seed: t.seed } } };
}

const SOME_SCENARIO: Scenario = loadScenarioFile(`${BUILTIN_DIR}seed-config.json`).scenario;

describe("a sweep as results arrive", () => {
  test("results in any order give the sorted reports; a counterexample is on disk as soon as its run is in", async () => {
    const dir = join(root, "scripted");
    const seen: boolean[] = [];
    // Reversed in blocks of 5, as batches finishing out of order.
    const order = (n: number): number[] => Array.from({ length: n }, (_, k) => (Math.floor(k / 5) * 5 + 4 - (k % 5) < n ? Math.floor(k / 5) * 5 + 4 - (k % 5) : k));
    const o = await sweep("scripted", {
      runs: 30,
      scenarios: scenarios().slice(0, 2),
      makePool: scriptedPool(order, {
        // Run 3 is task 5 (after the 2 scenarios), reported last of its block (5-9 reversed: 9 8 7 6 5),
        // when tasks 2-4 are waiting for it: its file is there before the next result comes.
        before: (k) => {
          if (k === 9 || k === 10) seen.push(existsSync(join(dir, "counterexample-3.json")));
        },
      }),
    });
    expect(seen).toEqual([false, true]);
    expect(o.view.totals.unexpected).toBe(3);
    expectReportsAsInMemory(dir);
    expect(readdirSync(dir).filter((f) => f.startsWith("counterexample-")).sort()).toEqual(["counterexample-13.json", "counterexample-23.json", "counterexample-3.json"]);
  });

  test("a sweep that fails midway leaves its counterexamples and no spill file", async () => {
    const dir = join(root, "failing");
    await expect(sweep("failing", { runs: 30, makePool: scriptedPool((n) => Array.from({ length: n }, (_, i) => i), { failAt: 20 }) })).rejects.toThrow("worker died");
    expect(readdirSync(dir).sort()).toEqual(["counterexample-13.json", "counterexample-3.json"]);
  });
});

describe("--json's list of runs", () => {
  test("is JSON.stringify(doc, null, 2) made a piece at a time", () => {
    const doc = { runId: "x", totals: { runs: 2 }, unexpected: [{ id: "a", n: null }], runs: [] as unknown[] };
    const runs = [
      { id: "run-0", seed: 1, verdict: "pass", asExpected: true, traceHash: "ab" },
      { id: "run-1", seed: 2, verdict: "fail", asExpected: false, traceHash: "cd" },
    ];
    expect([...jsonWithRuns(doc, runs)].join("")).toBe(JSON.stringify({ ...doc, runs }, null, 2));
    expect([...jsonWithRuns(doc, runs.slice(0, 1))].join("")).toBe(JSON.stringify({ ...doc, runs: runs.slice(0, 1) }, null, 2));
    expect([...jsonWithRuns(doc, [])].join("")).toBe(JSON.stringify(doc, null, 2));
  });
});
