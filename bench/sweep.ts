/**
 * Sweep benchmark: throughput of `streamsim sweep` with 1 and 2 worker threads on the same seeds
 * (runs/s and the speed-up; target >= 1.8 with 2 workers on 2 cores), and the time to write the
 * reports of 1,000 runs (target < 2 s). Prints medians; asserts nothing about time.
 *
 * Each round runs the same RUNS generated cases (sweep seed SEED, default faults, no shrinking).
 * The headline is a long sweep's steady state: V8 goes on optimising the generated runs' many code
 * paths for a thousand runs or so in every worker (each worker thread compiles its own code), so the
 * timed rounds come after untimed ones that give every worker WARMUP_RUNS_PER_WORKER runs. The
 * first round of each setting (thread start-up, module loading and that warm-up included) is
 * printed too, as "cold". Each setting runs in a fresh process of its own, as `streamsim sweep`
 * would, with the command's own V8 flags (bin/gc.js: a fixed young generation as large as memory
 * allows, and `--single-threaded` with two workers or more); two more settings run with session 5's
 * choice (a 16 MB semi-space, and `--single-threaded` with two workers) or take EXP1_FLAGS and
 * EXP2_FLAGS, as the experiment behind it. The report time is for 1,000 records built from the
 * sweep's own records (ids renumbered), written to a temporary folder.
 *
 *   npm run bench sweep
 *   EXP1_FLAGS="" EXP2_FLAGS="--single-threaded-gc" npm run bench sweep
 *   PASSES=3 WARMUP_RUNS_PER_WORKER=2400 npm run bench sweep
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sweepNodeFlags } from "../bin/gc.js";
import { caseSeed } from "../src/cli/generate.ts";
import { TaskPool } from "../src/cli/pool.ts";
import type { Task } from "../src/cli/task.ts";
import { computeTotals, writeReports } from "../src/report/index.ts";
import type { RunRecord, RunSet } from "../src/report/index.ts";
import { childJob, finishChild, measureInChild, takeTurns } from "./child.ts";
import { benchHeader, formatMs, formatRatio, formatTable, median, ratio } from "./stats.ts";

const RUNS = 300;
const SEED = 20_261_124;
const ROUNDS = 5;
/** Times each setting is measured, taking turns with the others. */
const PASSES = Number(process.env["PASSES"] ?? 2);
/** Untimed runs each worker gets before the timed rounds. */
const WARMUP_RUNS_PER_WORKER = Number(process.env["WARMUP_RUNS_PER_WORKER"] ?? 1200);
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

/** One setting: a worker count and the node flags its process starts with. */
type Setting = { readonly label: string; readonly workers: number; readonly nodeFlags: readonly string[] };
type Measured = Setting & { coldMs: number; runsMs: number[]; cpuMs: number[]; records: RunRecord[] };

/** Runs one setting in a fresh child process (bench/child.ts). */
function measureSetting(setting: Setting): Measured {
  return measureInChild<Measured>("sweep", setting.nodeFlags, setting.label, setting);
}

async function measure(setting: Setting): Promise<Measured> {
  const { label, workers } = setting;
  const pool = new TaskPool(workers);
  try {
    const t0 = performance.now();
    await pool.warmup();
    await pool.run(tasks());
    const coldMs = performance.now() - t0;
    const warmupRounds = Math.max(0, Math.ceil((WARMUP_RUNS_PER_WORKER * workers) / RUNS) - 1);
    for (let w = 0; w < warmupRounds; w++) await pool.run(tasks());
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
    return { ...setting, coldMs, runsMs, cpuMs, records };
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
  const job = childJob<Setting>();
  if (job !== undefined) return finishChild(job, await measure(job.payload));
  console.log(benchHeader("sweep"));
  console.log(
    `${RUNS} generated runs (seed ${SEED}, faults normal, no shrinking) per round; ${ROUNDS} timed rounds per setting after ` +
      `${WARMUP_RUNS_PER_WORKER} untimed runs per worker (a long sweep's steady state), in ${PASSES} passes taking turns`,
  );
  // As `streamsim sweep` runs them (bin/gc.js picks V8's flags by worker count) ...
  const settings: Setting[] = [
    { label: "1 worker (streamsim sweep --workers 1)", workers: 1, nodeFlags: sweepNodeFlags(["sweep", "--runs", "100000", "--workers", "1"], {}) },
    { label: "2 workers (streamsim sweep --workers 2)", workers: 2, nodeFlags: sweepNodeFlags(["sweep", "--runs", "100000", "--workers", "2"], {}) },
  ];
  // ... and the experiment behind that choice: session 5's flags, a 16 MB semi-space and
  // `--single-threaded` with two workers (or EXP1_FLAGS, EXP2_FLAGS).
  const flagsOf = (v: string | undefined, fallback: string[]): string[] => (v === undefined ? fallback : v.split(" ").filter((x) => x !== ""));
  const labelOf = (workers: number, flags: readonly string[]): string =>
    `${workers} ${workers === 1 ? "worker" : "workers"}, ${flags.length === 0 ? "V8's default GC" : `node ${flags.join(" ")}`}`;
  const semi16 = ["--min-semi-space-size=16", "--max-semi-space-size=16"];
  const exp1 = flagsOf(process.env["EXP1_FLAGS"], semi16);
  const exp2 = flagsOf(process.env["EXP2_FLAGS"], ["--single-threaded", ...semi16]);
  settings.push({ label: labelOf(1, exp1), workers: 1, nodeFlags: exp1 }, { label: labelOf(2, exp2), workers: 2, nodeFlags: exp2 });
  // Each setting's figures are medians over all its rounds of every pass.
  const merged = takeTurns(settings, PASSES, measureSetting).map((all): Measured => {
    const last = all[all.length - 1] as Measured;
    return { ...last, coldMs: median(all.map((m) => m.coldMs)), runsMs: all.flatMap((m) => m.runsMs), cpuMs: all.flatMap((m) => m.cpuMs) };
  });
  const [one, two, oneExp, twoExp] = merged as [Measured, Measured, Measured, Measured];
  const hashes = (m: Measured): string => m.records.map((r) => `${r.id}:${r.verdict}:${r.traceHash}`).join(",");
  const same = [one, oneExp, twoExp].every((m) => hashes(m) === hashes(two));
  const rate = (m: Measured): number => (RUNS * 1000) / median(m.runsMs);
  const coldRate = (m: Measured): number => (RUNS * 1000) / m.coldMs;
  const speedup = ratio(rate(two), rate(one));
  const failed = two.records.filter((r) => !r.asExpected).length;
  console.log(
    formatTable(
      ["setting", "median wall", "runs/s", "cores busy (cpu / wall)", "runs per cpu-second", "cold: first round runs/s"],
      [one, two, oneExp, twoExp].map((m) => [
        m.label,
        formatMs(median(m.runsMs)),
        rate(m).toFixed(1),
        (median(m.cpuMs) / median(m.runsMs)).toFixed(2),
        ((RUNS * 1000) / median(m.cpuMs)).toFixed(1),
        coldRate(m).toFixed(1),
      ]),
    ),
  );
  console.log(
    `speed-up with 2 workers: ${formatRatio(speedup)} (target >= ${TARGET_SPEEDUP}x)${speedup >= TARGET_SPEEDUP ? "" : "  BELOW TARGET"}; ` +
      `cold (first round, start-up and JIT warm-up included): ${formatRatio(ratio(coldRate(two), coldRate(one)))}; ` +
      `the experiment's own (${twoExp.label} against ${oneExp.label}): ${formatRatio(ratio(rate(twoExp), rate(oneExp)))}; ` +
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
