/**
 * Generated runs per second on one core: the default property-suite arbitrary (up to ~200 records,
 * up to 8 operators, up to 5 faults), each run executed and judged by the oracle. Same samples
 * every round, after WARMUP_RUNS (default 1,200) untimed runs of them, since V8 goes on optimising
 * for about that long; prints the median of 5 rounds, as runs per wall-clock second of the one
 * thread and as runs per CPU-second of the whole process (V8's collector and compiler helper
 * threads included). Target (issue 4): >= 200 runs/s per core.
 *
 * Two settings, each in a fresh process, taking turns PASSES times so that a burst of load from
 * elsewhere on a shared machine does not fall on one only:
 * - as `streamsim sweep --workers 1` runs (bin/gc.js: its fixed young generation), the headline;
 * - V8's defaults (what a property suite in a plain vitest process gets), the baseline.
 *
 *   npm run bench runs          RUNS=300 PASSES=3 npm run bench runs
 */
import fc from "fast-check";
import { sweepNodeFlags } from "../bin/gc.js";
import { scenarioArb } from "../src/gen/index.ts";
import { runAndJudge } from "../src/runner/check.ts";
import { childJob, finishChild, measureInChild, takeTurns } from "./child.ts";
import { benchHeader, formatRatio, formatTable, median, ratio } from "./stats.ts";

const ROUNDS = 5;
const TARGET = 200;
/** Times each setting is measured, taking turns with the other. */
const PASSES = Number(process.env["PASSES"] ?? 2);

type Setting = { readonly label: string; readonly nodeFlags: readonly string[] };
type Measured = { rates: number[]; perCpu: number[]; eventRates: number[]; passed: number; n: number; records: number[]; operators: number[]; faults: number[] };

/** The child's side: warm up, then time ROUNDS rounds over the same samples, in this process. */
function measure(): Measured {
  const n = Number(process.env["RUNS"] ?? 200);
  const samples = fc.sample(scenarioArb({ faults: "normal" }), { seed: 7, numRuns: n });
  const records = samples.map((s) => s.inputs.reduce((a, t) => a + t.partitions.reduce((b, p) => b + p.length, 0), 0));
  const operators = samples.map((s) => s.plan.nodes.filter((x) => x.kind !== "source" && x.kind !== "sink").length);
  const faults = samples.map((s) => s.faults.faults.length);
  // Warm-up: V8 goes on optimising the generated runs' many code paths for a thousand runs or so;
  // the property suites and sweeps spend their time past that point.
  const warmupRounds = Math.ceil(Number(process.env["WARMUP_RUNS"] ?? 1200) / n);
  for (let r = 0; r < warmupRounds; r++) for (const s of samples) runAndJudge(s);
  const m: Measured = { rates: [], perCpu: [], eventRates: [], passed: 0, n, records, operators, faults };
  for (let round = 0; round < ROUNDS; round++) {
    m.passed = 0;
    let events = 0;
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    for (const s of samples) {
      const r = runAndJudge(s);
      events += r.result.events;
      if (r.judgement.verdict === "pass") m.passed++;
    }
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    m.rates.push(n / (ms / 1000));
    // Every thread of the process: V8's collector and compiler helpers included.
    m.perCpu.push(n / ((cpu.user + cpu.system) / 1e6));
    m.eventRates.push(events / (ms / 1000));
  }
  return m;
}

export async function main(): Promise<void> {
  const job = childJob<null>();
  if (job !== undefined) return finishChild(job, measure());
  console.log(benchHeader("runs"));
  const sweepFlags = sweepNodeFlags(["sweep", "--runs", "100000", "--workers", "1"], {});
  const settings: Setting[] = [
    { label: `as streamsim sweep --workers 1 runs (node ${sweepFlags.join(" ")})`, nodeFlags: sweepFlags },
    { label: "V8's defaults (a plain vitest process)", nodeFlags: [] },
  ];
  const measureSetting = (s: Setting): Measured => measureInChild<Measured>("runs", s.nodeFlags, s.label, null);
  const merged = takeTurns(settings, PASSES, measureSetting).map((all): Measured => {
    const last = all[all.length - 1] as Measured;
    return { ...last, rates: all.flatMap((m) => m.rates), perCpu: all.flatMap((m) => m.perCpu), eventRates: all.flatMap((m) => m.eventRates) };
  });
  const [product, defaults] = merged as [Measured, Measured];
  const mean = (xs: number[]): string => (xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(1);
  console.log(
    `${product.n} generated runs per round (records per run mean ${mean(product.records)} / max ${Math.max(...product.records)}; ` +
      `operators mean ${mean(product.operators)} / max ${Math.max(...product.operators)}; faults mean ${mean(product.faults)} / max ${Math.max(...product.faults)}); ` +
      `${ROUNDS} timed rounds per setting and pass after the warm-up, ${PASSES} passes taking turns`,
  );
  console.log(
    formatTable(
      ["setting", "runs/s, 1 core (median)", "runs per CPU-second, every thread (median)", "simulation events/s (median)", "runs that passed"],
      merged.map((m, i) => [
        (settings[i] as Setting).label,
        median(m.rates).toFixed(1),
        median(m.perCpu).toFixed(1),
        `${(median(m.eventRates) / 1e6).toFixed(2)} M`,
        `${m.passed}/${m.n}`,
      ]),
    ),
  );
  const rate = median(product.rates);
  const perCpu = median(product.perCpu);
  console.log(
    `target: >= ${TARGET} runs/s per core; measured ${rate.toFixed(1)} (${(rate / TARGET).toFixed(2)}x of target), ` +
      `${perCpu.toFixed(1)} per CPU-second counting V8's helper threads${Math.min(rate, perCpu) >= TARGET ? "" : "  BELOW TARGET"}; ` +
      `against V8's defaults: ${formatRatio(ratio(rate, median(defaults.rates)))} the runs/s, ${formatRatio(ratio(perCpu, median(defaults.perCpu)))} per CPU-second`,
  );
}
