/**
 * Sweep benchmark: throughput of `streamsim sweep` with 1 and 2 worker threads on the same seeds
 * (runs/s and the speed-up; target >= 1.8 with 2 workers on 2 cores), and the time to write the
 * reports of 1,000 runs (target < 2 s). Prints medians; asserts nothing about time.
 *
 * Each round runs the same RUNS generated cases (sweep seed SEED, default faults, no shrinking) on
 * a warmed-up pool, so thread start-up and module loading are left out. The report time is for
 * 1,000 records built from the sweep's own records (ids renumbered), written to a temporary folder.
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { caseSeed } from "../src/cli/generate.ts";
import { TaskPool } from "../src/cli/pool.ts";
import type { Task } from "../src/cli/task.ts";
import { computeTotals, writeReports } from "../src/report/index.ts";
import type { RunRecord, RunSet } from "../src/report/index.ts";
import { benchHeader, formatMs, formatRatio, formatTable, median, ratio } from "./stats.ts";

const RUNS = 300;
const SEED = 20_261_124;
const ROUNDS = 3;
const REPORT_RUNS = 1000;
const REPORT_ROUNDS = 5;
const TARGET_SPEEDUP = 1.8;
const TARGET_REPORT_MS = 2000;

function tasks(): Task[] {
  return Array.from({ length: RUNS }, (_, i) => ({
    kind: "case",
    index: i,
    seed: caseSeed(SEED, i),
    faults: "normal",
    shrinkRuns: 0,
    outDir: join(tmpdir(), "streamsim-bench-sweep"),
    dateTag: "bench",
    sweepSeed: SEED,
  }));
}

type Measured = { workers: number; runsMs: number[]; records: RunRecord[] };

async function measure(workers: number): Promise<Measured> {
  const pool = new TaskPool(workers);
  try {
    await pool.warmup();
    await pool.run(tasks().slice(0, 8)); // JIT warm-up in every thread
    const runsMs: number[] = [];
    let records: RunRecord[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const cpu0 = process.cpuUsage();
      const r = await pool.run(tasks());
      const cpu = process.cpuUsage(cpu0);
      runsMs.push(r.wallMs);
      records = r.results.map((x) => x.record);
      const slowest = Math.max(...records.map((x) => x.wallMs ?? 0));
      console.log(
        `  ${workers} ${workers === 1 ? "worker " : "workers"}, round ${round + 1}: ${RUNS} runs in ${formatMs(r.wallMs)} ` +
          `(cpu ${formatMs((cpu.user + cpu.system) / 1000)}, slowest run ${formatMs(slowest)})`,
      );
    }
    return { workers, runsMs, records };
  } finally {
    await pool.close();
  }
}

function thousandRuns(records: readonly RunRecord[]): RunSet {
  const runs: RunRecord[] = [];
  for (let i = 0; i < REPORT_RUNS; i++) {
    const r = records[i % records.length] as RunRecord;
    runs.push({ ...r, id: `run-${i}` });
  }
  return { runId: "bench-sweep", createdAt: new Date().toISOString(), command: `streamsim sweep --runs ${REPORT_RUNS} --seed ${SEED}`, seed: SEED, runs, totals: computeTotals(runs) };
}

export async function main(): Promise<void> {
  console.log(benchHeader("sweep"));
  console.log(`${RUNS} generated runs (seed ${SEED}, faults normal, no shrinking) per round, ${ROUNDS} rounds per worker count`);
  const one = await measure(1);
  const two = await measure(2);
  const hashes = (m: Measured): string => m.records.map((r) => `${r.id}:${r.verdict}:${r.traceHash}`).join(",");
  const same = hashes(one) === hashes(two);
  const rate = (m: Measured): number => (RUNS * 1000) / median(m.runsMs);
  const speedup = ratio(rate(two), rate(one));
  const failed = two.records.filter((r) => !r.asExpected).length;
  console.log(
    formatTable(
      ["workers", "median wall", "runs/s"],
      [one, two].map((m) => [String(m.workers), formatMs(median(m.runsMs)), rate(m).toFixed(1)]),
    ),
  );
  console.log(`speed-up with 2 workers: ${formatRatio(speedup)} (target >= ${TARGET_SPEEDUP}x)${speedup >= TARGET_SPEEDUP ? "" : "  BELOW TARGET"}`);
  console.log(`same verdicts and trace hashes with 1 and 2 workers: ${same ? "yes" : "NO"}; ${failed} of ${RUNS} runs failed a check`);

  const set = thousandRuns(two.records);
  const dir = mkdtempSync(join(tmpdir(), "streamsim-bench-sweep-"));
  try {
    writeReports(dir, set); // warm-up
    const times: number[] = [];
    for (let i = 0; i < REPORT_ROUNDS; i++) {
      const t0 = performance.now();
      writeReports(dir, set);
      times.push(performance.now() - t0);
    }
    const sizes = ["results.json", "junit.xml", "summary.md", "index.html"].map((f) => `${f} ${(statSync(join(dir, f)).size / 1024).toFixed(0)} KiB`);
    const ms = median(times);
    console.log(`reports for ${REPORT_RUNS} runs: median ${formatMs(ms)} over ${REPORT_ROUNDS} writes (target < ${TARGET_REPORT_MS} ms)${ms < TARGET_REPORT_MS ? "" : "  ABOVE TARGET"}; ${sizes.join(", ")}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
