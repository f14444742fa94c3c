/**
 * A sweep's main-thread memory: `npm run bench memory`.
 *
 * Each setting runs a real sweep (2 workers, default faults, seed 5) in a fresh child process with
 * the V8 flags `streamsim sweep` would get, and samples the main thread's heap (process.memoryUsage,
 * every 100 ms: the workers' heaps are not in it) and the process's resident set (workers included).
 * - `before`: the sweep as it was until session 8: the pool keeps every result, then they are
 *   sorted and written with writeReports (what executeSweep did).
 * - `after`: executeSweep as it is: runs spilled to the report folder as they arrive (ReportSpool).
 * "retained" is the main thread's heap after a full collection when 90% of the runs are in, less
 * the heap before the sweep: what the sweep holds, per run in the last column.
 *
 * MEMORY_RUNS (default "20000"; e.g. "20000,100000") sets the sweep lengths, MEMORY_MODES
 * (default "before,after") the settings. A 20,000-run sweep takes about a minute per setting.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sweepNodeFlags } from "../bin/gc.js";
import { executeSweep } from "../src/cli/commands/sweep.ts";
import { caseSeed } from "../src/cli/generate.ts";
import type { Console } from "../src/cli/io.ts";
import { quietConsole } from "../src/cli/io.ts";
import type { PoolRunOptions, TaskList } from "../src/cli/pool.ts";
import { TaskPool } from "../src/cli/pool.ts";
import type { Task } from "../src/cli/task.ts";
import { computeTotals, naturalCompare, writeReports } from "../src/report/index.ts";
import { benchHeader, formatTable } from "./stats.ts";
import { childJob, finishChild, measureInChild } from "./child.ts";

type Mode = "before" | "after";
type Payload = { readonly mode: Mode; readonly runs: number };
type Measured = Payload & { wallS: number; baseHeapMb: number; peakHeapMb: number; retainedMb: number; peakRssMb: number };

const WORKERS = 2;
const SEED = 5;
const MB = 2 ** 20;

const quiet: Console = quietConsole;

function gc(): void {
  const f = (globalThis as { gc?: () => void }).gc;
  if (typeof f !== "function") throw new Error("bench/memory.ts: the child needs --expose-gc");
  f();
}

/** In the child: one sweep, sampled. */
async function measure(p: Payload): Promise<Measured> {
  gc();
  const baseHeap = process.memoryUsage().heapUsed;
  let peakHeap = baseHeap;
  let peakRss = process.memoryUsage().rss;
  const sample = (): void => {
    const m = process.memoryUsage();
    peakHeap = Math.max(peakHeap, m.heapUsed);
    peakRss = Math.max(peakRss, m.rss);
  };
  const timer = setInterval(sample, 100);
  let retained = 0;
  let seen = 0;
  const at90 = Math.floor(p.runs * 0.9);
  // Counts results and, at 90% of them, takes the retained heap after a full collection.
  const counting = (opts: PoolRunOptions): PoolRunOptions => ({
    ...opts,
    onResult: (r, i) => {
      opts.onResult?.(r, i);
      if (++seen === at90) {
        sample();
        gc();
        retained = process.memoryUsage().heapUsed - baseHeap;
      }
    },
  });
  const out = mkdtempSync(join(tmpdir(), `streamsim-bench-memory-${p.mode}-`));
  const t0 = performance.now();
  try {
    if (p.mode === "after") {
      await executeSweep(
        {
          runs: p.runs,
          seed: SEED,
          seedChosen: false,
          workers: WORKERS,
          faults: "normal",
          shrinkRuns: 200,
          command: "bench memory",
          label: "sweep",
          out,
          makePool: (w) => {
            const pool = new TaskPool(w);
            return { run: (tasks: TaskList, opts?: PoolRunOptions) => pool.run(tasks, counting(opts ?? {})), close: () => pool.close() };
          },
        },
        quiet,
      );
    } else {
      // The sweep until session 8: every result kept, sorted, then writeReports.
      const tasks: Task[] = [];
      for (let i = 0; i < p.runs; i++)
        tasks.push({ kind: "case", index: i, seed: caseSeed(SEED, i), faults: "normal", shrinkRuns: 200, outDir: out, dateTag: "bench", sweepSeed: SEED });
      const pool = new TaskPool(WORKERS);
      try {
        const run = await pool.run(tasks, counting({}));
        const runs = run.results.map((r) => r.record).sort((a, b) => naturalCompare(a.id, b.id));
        sample();
        writeReports(out, { runId: "bench", createdAt: new Date().toISOString(), command: "bench memory", seed: SEED, runs, totals: computeTotals(runs) });
      } finally {
        await pool.close();
      }
    }
    sample();
  } finally {
    clearInterval(timer);
    rmSync(out, { recursive: true, force: true });
  }
  return { ...p, wallS: (performance.now() - t0) / 1000, baseHeapMb: baseHeap / MB, peakHeapMb: peakHeap / MB, retainedMb: retained / MB, peakRssMb: peakRss / MB };
}

export async function main(): Promise<void> {
  const job = childJob<Payload>();
  if (job !== undefined) {
    finishChild(job, await measure(job.payload));
    return;
  }
  console.log(benchHeader("memory"));
  const lengths = (process.env["MEMORY_RUNS"] ?? "20000").split(",").map(Number);
  const modes = (process.env["MEMORY_MODES"] ?? "before,after").split(",") as Mode[];
  const rows: string[][] = [];
  for (const runs of lengths) {
    for (const mode of modes) {
      const flags = [...sweepNodeFlags(["sweep", "--runs", String(runs), "--workers", String(WORKERS)]), "--expose-gc"];
      console.log(`  ${mode}, ${runs} runs (node ${flags.join(" ")}) ...`);
      const m = measureInChild<Measured>("memory", flags, `${mode} ${runs}`, { mode, runs } satisfies Payload);
      const kb = (m.retainedMb * 1024) / Math.floor(runs * 0.9);
      console.log(`  ${mode}, ${runs} runs: ${m.wallS.toFixed(0)} s, main heap peak ${m.peakHeapMb.toFixed(0)} MB, retained ${m.retainedMb.toFixed(1)} MB (${kb.toFixed(2)} KB/run), rss peak ${m.peakRssMb.toFixed(0)} MB`);
      rows.push([mode, String(runs), `${m.wallS.toFixed(0)} s`, `${m.baseHeapMb.toFixed(0)} MB`, `${m.peakHeapMb.toFixed(0)} MB`, `${m.retainedMb.toFixed(1)} MB`, `${kb.toFixed(2)} KB`, `${m.peakRssMb.toFixed(0)} MB`]);
    }
  }
  console.log("");
  console.log(formatTable(["sweep", "runs", "wall", "heap before", "main heap peak", "retained at 90%", "retained a run", "rss peak (all threads)"], rows));
}
