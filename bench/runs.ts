/**
 * Generated runs per second on one core, in process: the default property-suite arbitrary (up to
 * ~200 records, up to 8 operators, up to 5 faults), each run executed and judged by the oracle.
 * Same samples every round, after WARMUP_RUNS (default 1,200) untimed runs of them, since V8 goes on
 * optimising for about that long; prints the median of 5 rounds, as runs per wall-clock second of
 * this one thread and as runs per CPU-second of the whole process (V8's collector and compiler
 * helper threads included). Target (issue 4): >= 200 runs/s per core.
 *
 *   npm run bench runs          RUNS=300 npm run bench runs
 */
import fc from "fast-check";
import { scenarioArb } from "../src/gen/index.ts";
import { runAndJudge } from "../src/runner/check.ts";
import { benchHeader, formatTable, median } from "./stats.ts";

export async function main(): Promise<void> {
  console.log(benchHeader("runs"));
  const n = Number(process.env["RUNS"] ?? 200);
  const samples = fc.sample(scenarioArb({ faults: "normal" }), { seed: 7, numRuns: n });
  const records = samples.map((s) => s.inputs.reduce((a, t) => a + t.partitions.reduce((b, p) => b + p.length, 0), 0));
  const operators = samples.map((s) => s.plan.nodes.filter((x) => x.kind !== "source" && x.kind !== "sink").length);
  const faults = samples.map((s) => s.faults.faults.length);
  // Warm-up: V8 goes on optimising the generated runs' many code paths for a thousand runs or so;
  // the property suites and sweeps spend their time past that point.
  const warmupRounds = Math.ceil(Number(process.env["WARMUP_RUNS"] ?? 1200) / n);
  for (let r = 0; r < warmupRounds; r++) for (const s of samples) runAndJudge(s);
  const rates: number[] = [];
  const perCpu: number[] = [];
  const judgeOnly: number[] = [];
  let passed = 0;
  for (let round = 0; round < 5; round++) {
    passed = 0;
    let events = 0;
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    for (const s of samples) {
      const r = runAndJudge(s);
      events += r.result.events;
      if (r.judgement.verdict === "pass") passed++;
    }
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    rates.push(n / (ms / 1000));
    // Every thread of the process: V8's collector and compiler helpers included.
    perCpu.push(n / ((cpu.user + cpu.system) / 1e6));
    judgeOnly.push(events / (ms / 1000));
  }
  const mean = (xs: number[]): string => (xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(1);
  console.log(
    formatTable(
      ["measure", "value"],
      [
        ["generated runs per second (median of 5 rounds, 1 core)", median(rates).toFixed(1)],
        ["runs per CPU-second, every thread of the process (median)", median(perCpu).toFixed(1)],
        ["simulation events per second (median)", `${(median(judgeOnly) / 1e6).toFixed(2)} M`],
        ["runs that passed", `${passed}/${n}`],
        ["records per run (mean / max)", `${mean(records)} / ${Math.max(...records)}`],
        ["operators per run (mean / max)", `${mean(operators)} / ${Math.max(...operators)}`],
        ["faults per run (mean / max)", `${mean(faults)} / ${Math.max(...faults)}`],
      ],
    ),
  );
  console.log(
    `target: >= 200 runs/s per core; measured ${median(rates).toFixed(1)} (${(median(rates) / 200).toFixed(2)}x of target), ` +
      `${median(perCpu).toFixed(1)} per CPU-second counting V8's helper threads`,
  );
}
