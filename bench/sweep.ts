/**
 * Sweep benchmark: throughput of `streamsim sweep` with 1 and 2 worker threads on the same seeds
 * (runs/s and the speed-up; target >= 1.8 with 2 workers on 2 cores), and the time to write the
 * reports of 1,000 runs (target < 2 s). Prints medians; asserts nothing about time.
 *
 * Each round runs the same RUNS generated cases (sweep seed SEED, default faults, no shrinking) on
 * a warmed-up pool (one untimed round first), so thread start-up, module loading and JIT warm-up
 * are left out. Each setting runs in a fresh process of its own (as `streamsim sweep` would), and
 * the same two again with `node --single-threaded-gc` (an experiment: see the table). The report time
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
    // JIT warm-up: one untimed round of the same tasks. The generated runs take many code paths, and
    // V8 goes on optimising for a few hundred runs; a long sweep spends its time past that point.
    await pool.run(tasks());
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
  const one = measureInChild(1, [], "1 worker (streamsim sweep --workers 1)");
  const two = measureInChild(2, [], "2 workers (streamsim sweep --workers 2)");
  // An experiment kept for the record: V8's collector runs helper threads, so one worker keeps more
  // than a core busy; single-threaded GC takes them away. It did not make two workers faster.
  const oneSingle = measureInChild(1, ["--single-threaded-gc"], "1 worker, node --single-threaded-gc");
  const twoSingle = measureInChild(2, ["--single-threaded-gc"], "2 workers, node --single-threaded-gc");
  const hashes = (m: Measured): string => m.records.map((r) => `${r.id}:${r.verdict}:${r.traceHash}`).join(",");
  const same = [one, oneSingle, twoSingle].every((m) => hashes(m) === hashes(two));
  const rate = (m: Measured): number => (RUNS * 1000) / median(m.runsMs);
  const speedup = ratio(rate(two), rate(one));
  const failed = two.records.filter((r) => !r.asExpected).length;
  console.log(
    formatTable(
      ["setting", "median wall", "runs/s", "cores busy (cpu / wall)", "runs per cpu-second"],
      [one, two, oneSingle, twoSingle].map((m) => [
        m.label,
        formatMs(median(m.runsMs)),
        rate(m).toFixed(1),
        (median(m.cpuMs) / median(m.runsMs)).toFixed(2),
        ((RUNS * 1000) / median(m.cpuMs)).toFixed(1),
      ]),
    ),
  );
  console.log(
    `speed-up with 2 workers: ${formatRatio(speedup)} (target >= ${TARGET_SPEEDUP}x)${speedup >= TARGET_SPEEDUP ? "" : "  BELOW TARGET"}; ` +
      `with single-threaded GC: ${formatRatio(ratio(rate(twoSingle), rate(oneSingle)))}; ` +
      `ceiling from CPU use alone (2 cores / cores busy with 1 worker): ${formatRatio(2 / (median(one.cpuMs) / median(one.runsMs)))}`,
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
