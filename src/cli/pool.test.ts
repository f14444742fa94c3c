import { describe, expect, test } from "vitest";
import { caseSeed } from "./generate.ts";
import { TaskPool, guidedBatchSize } from "./pool.ts";
import type { Task } from "./task.ts";

const tasks = (n: number): Task[] =>
  Array.from({ length: n }, (_, i) => ({
    kind: "case",
    index: i,
    seed: caseSeed(9, i),
    faults: "none",
    shrinkRuns: 0,
    outDir: "reports/pool-test",
    dateTag: "2026-11-24",
    sweepSeed: 9,
  }));

describe("batches", () => {
  test("most of a long sweep goes out 8 tasks at a time, and the end one task at a time", () => {
    expect(guidedBatchSize(300, 2)).toBe(8);
    expect(guidedBatchSize(300, 1)).toBe(8);
    expect(guidedBatchSize(40, 2)).toBe(5); // a quarter of a worker's share of what is left
    expect(guidedBatchSize(7, 2)).toBe(1);
    expect(guidedBatchSize(0, 2)).toBe(1);
    expect(guidedBatchSize(100, 0)).toBe(8);
  });
});

describe("the task pool in this thread", () => {
  test("results come back in task order, one per task", async () => {
    const seen: string[] = [];
    const r = await new TaskPool(0).run(tasks(4), { onResult: (x) => seen.push(x.record.id) });
    expect(r.results.map((x) => x.record.id)).toEqual(["run-0", "run-1", "run-2", "run-3"]);
    expect(seen).toEqual(["run-0", "run-1", "run-2", "run-3"]);
    expect(r.notStarted).toBe(0);
  });

  test("without keepResults, results go to onResult only, with their task index; tasks may be made on demand", async () => {
    const seen: string[] = [];
    const list = tasks(3);
    const r = await new TaskPool(0).run({ length: 3, at: (i) => list[i] }, { keepResults: false, onResult: (x, i) => seen.push(`${i} ${x.record.id}`) });
    expect(r.results).toEqual([]);
    expect(seen).toEqual(["0 run-0", "1 run-1", "2 run-2"]);
  });

  test("a spent time budget starts no further task and says how many did not start", async () => {
    // A scenario run takes well over 1 ms, so the budget is spent after the first task.
    const r = await new TaskPool(0).run(tasks(5), { timeBudgetMs: 1 });
    expect(r.results.map((x) => x.record.id)).toEqual(["run-0"]);
    expect(r.notStarted).toBe(4);
  });

  test("a negative worker count is refused", () => {
    expect(() => new TaskPool(-1)).toThrow(/workers must be an integer >= 0, got -1/);
  });
});
