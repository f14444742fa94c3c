/**
 * Report-writing benchmark: the time to write results.json, junit.xml, summary.md and index.html
 * for 1,000 runs (each with ~10 checkpoints; timelines for the failing runs, 1 in 10). Target: well
 * under 2 s. Prints the median of 5 writes (after one warm-up) and the size of each file.
 *
 * `syntheticRunSet` is also what the report tests draw their larger fixtures from.
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { computeTotals, readRunSet, timelineFromTrace, writeReports } from "../src/report/index.ts";
import type { CheckpointStats, RunRecord, RunSet } from "../src/report/index.ts";
import { Random } from "../src/sim/random.ts";
import type { TraceData, TraceEvent } from "../src/sim/trace.ts";
import { benchHeader, formatMs, formatTable, median, timeMs } from "./stats.ts";

const RUNS = 1000;
const ROUNDS = 5;
const TARGET_MS = 2000;
/** A long sweep's run count (LARGE_RUNS=0 skips it): its reports once written and read back. */
const LARGE_RUNS = Number(process.env["LARGE_RUNS"] ?? 100_000);

/** A plausible summary trace of one run: checkpoints, alignments, commits, a crash, a failover and a restore. */
export function syntheticTrace(r: Random, checkpoints: number, failing: boolean): TraceEvent[] {
  const events: TraceEvent[] = [];
  let seq = 0;
  const emit = (time: number, node: string, kind: string, data: TraceData = {}): void => {
    events.push({ seq: seq++, time, node, kind, level: "summary", data });
  };
  const tasks = ["window#0", "window#1", "window#2", "window#3"];
  emit(0, "jm", "job-status", { status: "RUNNING", attempt: 0 });
  let attempt = 0;
  const crashAt = failing ? 1000 * r.int(3, checkpoints - 3) + 400 : -1;
  for (let id = 1; id <= checkpoints; id++) {
    const t = id * 1000;
    emit(t, "jm", "checkpoint-triggered", { id, attempt });
    for (const [k, task] of tasks.entries()) {
      const start = t + 2 + k;
      emit(start, `tm-${k % 2}`, "alignment-started", { task, id });
      emit(start + r.int(1, 40), `tm-${k % 2}`, "alignment-completed", { task, id, durationMs: 0 });
    }
    if (failing && id === 2) {
      emit(t + 900, "jm", "checkpoint-aborted", { id, attempt, reason: "expired", counted: true });
      continue;
    }
    const done = t + r.int(60, 250);
    emit(done, "jm", "checkpoint-completed", { id, attempt, durationMs: done - t, stateBytes: r.int(4_000, 40_000) });
    for (const s of [0, 1]) emit(done + 1, "broker", "txn-committed", { tid: `out-${s}`, epoch: attempt, records: r.int(10, 90), digest: "x", checkpointId: id });
    if (crashAt > t && crashAt < t + 1000) {
      emit(crashAt, "tm-1", "fault", { fault: "crash", node: "tm-1", restartAfterMs: 300 });
      emit(crashAt, "tm-1", "crash");
      emit(crashAt + 60, "jm", "failover", { attempt: attempt + 1, reason: "TaskManager tm-1 lost", restartDelayMs: 100 });
      emit(crashAt + 60, "jm", "job-status", { status: "RESTARTING", attempt });
      attempt++;
      emit(crashAt + 160, "jm", "restore", { checkpointId: id, attempt });
      emit(crashAt + 160, "jm", "job-status", { status: "RUNNING", attempt });
      emit(crashAt + 300, "tm-1", "restart");
      emit(crashAt + 300, "tm-1", "fault-end", { fault: "crash" });
    }
  }
  emit(checkpoints * 1000 + 500, "jm", "job-status", { status: "FINISHED", attempt });
  return events;
}

function checkpointStats(r: Random, count: number, failing: boolean): CheckpointStats[] {
  const out: CheckpointStats[] = [];
  for (let id = 1; id <= count; id++) {
    const expired = failing && id === 2;
    const alignmentMs: Record<string, number> = {};
    for (let k = 0; k < 4; k++) alignmentMs[`window#${k}`] = r.int(0, 40);
    out.push({
      id,
      status: expired ? "FAILED" : "COMPLETED",
      triggerTimeMs: id * 1000,
      durationMs: expired ? 900 : r.int(60, 250),
      stateBytes: expired ? null : r.int(4_000, 40_000),
      alignmentMs,
      acknowledged: expired ? 5 : 8,
      total: 8,
      failureReason: expired ? "expired" : null,
      attempt: 0,
    });
  }
  return out;
}

/** `runs` synthetic run records; every `failEvery`-th run fails (with a timeline and an output difference). */
export function syntheticRunSet(runs = RUNS, options: { failEvery?: number; checkpoints?: number; seed?: number } = {}): RunSet {
  const failEvery = options.failEvery ?? 10;
  const cps = options.checkpoints ?? 10;
  const root = Random.fromSeed(options.seed ?? 42).fork("bench/reports");
  const records: RunRecord[] = [];
  for (let i = 0; i < runs; i++) {
    const r = root.fork(`run-${i}`);
    const failing = failEvery > 0 && i % failEvery === failEvery - 1;
    const seed = r.int(0, 0x7fff_ffff);
    const path = `reports/bench/counterexample-${i}.json`;
    records.push({
      id: `run-${i}`,
      name: i % 3 === 0 ? "clickstream" : i % 3 === 1 ? "balances" : "generated",
      seed,
      verdict: failing ? "fail" : "pass",
      asExpected: !failing,
      summary: failing
        ? `exactly-once violated: sink "out", key "k-${i % 7}" committed 5, expected 3 after tm-1 crashed and the job restored a checkpoint`
        : `all checks held; ${cps - (failing ? 1 : 0)} of ${cps} checkpoints completed`,
      checks: [
        { check: "exactlyOnce", ok: !failing, message: failing ? 'sink "out": 2 records duplicated' : "every record committed once" },
        { check: "checkpointInvariants", ok: true, message: "checkpoint ids increase; completed checkpoints are restorable" },
        { check: "liveness", ok: true, message: "the job finished" },
      ],
      traceHash: r.int(0, 0x7fff_ffff).toString(16).padStart(8, "0") + r.int(0, 0x7fff_ffff).toString(16).padStart(8, "0"),
      status: "FINISHED",
      durationMs: cps * 1000 + 500,
      wallMs: r.int(5, 80),
      checkpoints: checkpointStats(r, cps, failing),
      faults: failing ? [{ fault: "crash", target: "tm-1", startMs: 5400, endMs: 5700, detail: "crash tm-1, restart after 300 ms" }] : [],
      restores: failing ? [{ timeMs: 5560, checkpointId: 5, attempt: 1 }] : [],
      ...(failing
        ? {
            timeline: timelineFromTrace(syntheticTrace(r, cps, true)),
            outputDiff: [
              { sink: "out", missing: [], duplicated: [{ key: `k-${i % 7}`, value: 3 }, { key: `k-${i % 7}`, value: 4 }], unexpected: [] },
              { sink: "table", missing: [], duplicated: [], unexpected: [] },
            ],
            counterexamplePath: path,
          }
        : {}),
      replayCommand: `npx streamsim replay ${failing ? path : `--seed ${seed}`}`,
    });
  }
  return { runId: "bench", createdAt: "2026-01-01T00:00:00.000Z", command: `streamsim sweep --runs ${runs} --seed 42`, seed: 42, runs: records, totals: computeTotals(records) };
}

export function main(): void {
  console.log(benchHeader("reports"));
  const set = syntheticRunSet(RUNS);
  const dir = mkdtempSync(join(tmpdir(), "streamsim-bench-reports-"));
  try {
    writeReports(dir, set); // warm-up
    const times: number[] = [];
    for (let i = 0; i < ROUNDS; i++) times.push(timeMs(() => writeReports(dir, set)));
    const paths = writeReports(dir, set);
    const m = median(times);
    const rows = Object.entries(paths).map(([k, p]) => [k, `${(statSync(p).size / 1024).toFixed(0)} KiB`]);
    console.log(formatTable(["file", "size"], rows));
    console.log("");
    console.log(
      formatTable(
        ["workload", "median write", "min", "max", "target"],
        [[`${RUNS} runs, ${set.runs.filter((r) => r.timeline !== undefined).length} timelines`, formatMs(m), formatMs(Math.min(...times)), formatMs(Math.max(...times)), `< ${formatMs(TARGET_MS)}`]],
      ),
    );
    console.log(`median of ${ROUNDS} writes: ${m.toFixed(1)} ms${m < TARGET_MS ? "" : "  (ABOVE TARGET)"}`);
    if (LARGE_RUNS > 0) {
      // A long sweep: 1 failing run in 1,000, each passing run's checkpoints as the sweep records
      // them (the longest alignment only, see toRunRecord).
      const big = syntheticRunSet(LARGE_RUNS, { failEvery: 1000 });
      const lean = {
        ...big,
        runs: big.runs.map((r) =>
          r.timeline !== undefined ? r : { ...r, checkpoints: r.checkpoints.map((c) => ({ ...c, alignmentMs: Object.fromEntries(Object.entries(c.alignmentMs).slice(0, 1)) })) },
        ),
      };
      let bigPaths = paths;
      const writeMs = timeMs(() => {
        bigPaths = writeReports(dir, lean);
      });
      let read: ReturnType<typeof readRunSet> = { ok: false, error: "not read" };
      const readMs = timeMs(() => {
        read = readRunSet(bigPaths.results);
      });
      if (!read.ok) throw new Error(`reading back ${LARGE_RUNS} runs failed: ${read.error}`);
      const mib = (p: string): string => `${(statSync(p).size / 1024 / 1024).toFixed(1)} MiB`;
      console.log("");
      console.log(
        formatTable(
          ["long sweep", "write", "read back", "results.json", "index.html", "junit.xml"],
          [[`${LARGE_RUNS} runs`, formatMs(writeMs), formatMs(readMs), mib(bigPaths.results), mib(bigPaths.html), mib(bigPaths.junit)]],
        ),
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
