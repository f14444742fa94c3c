/**
 * Sweep benchmark: throughput of `streamsim sweep` with 1 and 2 worker threads on the same seeds
 * (runs/s and the speed-up; target >= 1.8 with 2 workers on 2 cores), and the time to write the
 * reports of 1,000 runs (target < 2 s). Prints medians; asserts nothing about time.
 *
 * Each round runs the same RUNS generated cases (sweep seed SEED, default faults, no shrinking) on
 * a warmed-up pool, so thread start-up and module loading are left out. Each setting runs in a
 * process of its own with the V8 flags `streamsim sweep` would use (bin/gc.js: one worker keeps
 * V8's background GC, two or more run with --single-threaded-gc), plus one worker with
 * single-threaded GC, so the speed-up is taken over the faster one-worker setting. The report time
 * is for 1,000 records built from the sweep's own records (ids renumbered), written to a temporary
 * folder.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
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

type Measured = { label: string; workers: number; runsMs: number[]; cpuMs: number[]; records: RunRecord[] };

/** The child process's side: one setting, measured in this process, written as JSON to `out`. */
async function child(workers: number, label: string, out: string): Promise<void> {
  writeFileSync(out, JSON.stringify(await measure(workers, label)));
}

/** Runs one setting in a child process with the given node flags. */
function measureInChild(workers: number, nodeFlags: readonly string[], label: string): Measured {
  const dir = mkdtempSync(join(tmpdir(), "streamsim-bench-sweep-child-"));
  const out = join(dir, "measured.json");
  try {
    const r = spawnSync(process.execPath, [...nodeFlags, "--import", "tsx", new URL("./run.ts", import.meta.url).pathname, "sweep"], {
      stdio: ["ignore", "inherit", "inherit"],
      env: { ...process.env, STREAMSIM_BENCH_SWEEP_CHILD: JSON.stringify({ workers, label, out }) },
    });
    if (r.status !== 0) throw new Error(`the child measuring "${label}" exited with ${r.status ?? r.signal}`);
    return JSON.parse(readFileSync(out, "utf8")) as Measured;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function measure(workers: number, label: string): Promise<Measured> {
  const pool = new TaskPool(workers);
  try {
    await pool.warmup();
    await pool.run(tasks().slice(0, 8)); // JIT warm-up in every thread
    const runsMs: number[] = [];
    const cpuMs: number[] = [];
    let records: RunRecord[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const cpu0 = process.cpuUsage();
      const r = await pool.run(tasks());
      const cpu = process.cpuUsage(cpu0);
      runsMs.push(r.wallMs);
      cpuMs.push((cpu.user + cpu.system) / 1000);
      records = r.results.map((x) => x.record);
      const slowest = Math.max(...records.map((x) => x.wallMs ?? 0));
      console.log(
        `  ${label}, round ${round + 1}: ${RUNS} runs in ${formatMs(r.wallMs)} ` +
          `(cpu ${formatMs((cpu.user + cpu.system) / 1000)}, slowest run ${formatMs(slowest)})`,
      );
    }
    return { label, workers, runsMs, cpuMs, records };
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
  const asChild = process.env["STREAMSIM_BENCH_SWEEP_CHILD"];
  if (asChild !== undefined) {
    const { workers, label, out } = JSON.parse(asChild) as { workers: number; label: string; out: string };
    return child(workers, label, out);
  }
  console.log(benchHeader("sweep"));
  console.log(`${RUNS} generated runs (seed ${SEED}, faults normal, no shrinking) per round, ${ROUNDS} rounds per worker count`);
  const oneDefault = measureInChild(1, [], "1 worker, V8's default GC (streamsim sweep --workers 1)");
  const oneSingle = measureInChild(1, ["--single-threaded-gc"], "1 worker, single-threaded GC");
  const two = measureInChild(2, ["--single-threaded-gc"], "2 workers, single-threaded GC (streamsim sweep --workers 2)");
  const hashes = (m: Measured): string => m.records.map((r) => `${r.id}:${r.verdict}:${r.traceHash}`).join(",");
  const same = hashes(oneDefault) === hashes(two) && hashes(oneSingle) === hashes(two);
  const rate = (m: Measured): number => (RUNS * 1000) / median(m.runsMs);
  // Over the faster of the two one-worker settings, so the GC setting cannot flatter the ratio.
  const bestOne = rate(oneDefault) >= rate(oneSingle) ? oneDefault : oneSingle;
  const speedup = ratio(rate(two), rate(bestOne));
  const failed = two.records.filter((r) => !r.asExpected).length;
  console.log(
    formatTable(
      ["setting", "median wall", "runs/s", "cores busy (cpu / wall)"],
      [oneDefault, oneSingle, two].map((m) => [m.label, formatMs(median(m.runsMs)), rate(m).toFixed(1), (median(m.cpuMs) / median(m.runsMs)).toFixed(2)]),
    ),
  );
  console.log(
    `speed-up with 2 workers: ${formatRatio(speedup)} over the faster one-worker setting (${bestOne.label}) ` +
      `(target >= ${TARGET_SPEEDUP}x)${speedup >= TARGET_SPEEDUP ? "" : "  BELOW TARGET"}; ` +
      `${formatRatio(ratio(rate(two), rate(oneDefault)))} over 1 worker with V8's default GC, ${formatRatio(ratio(rate(two), rate(oneSingle)))} over 1 worker with single-threaded GC`,
  );
  console.log(`same verdicts and trace hashes in every setting: ${same ? "yes" : "NO"}; ${failed} of ${RUNS} runs failed a check`);

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
