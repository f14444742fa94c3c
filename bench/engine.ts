/**
 * Engine throughput: records per second through source -> map -> keyBy/reduce -> two-phase-commit
 * sink at parallelism 4 with a checkpoint every 100 simulated ms, against the same functions
 * applied in a plain loop over the same input (the cost floor), in the same process. Also the
 * peak heap for a 1M-record run. Prints medians and the ratio; asserts nothing.
 *
 *   npm run bench engine            (default 200k records per timed run, 1M for the memory run)
 *   RECORDS=100000 npm run bench engine
 */
import { runScenario } from "../src/engine/cluster/job.ts";
import { defaultCheckpointConfig, defaultClusterConfig, defaultJobConfig } from "../src/engine/config.ts";
import type { InputRecord, Plan } from "../src/engine/plan/plan.ts";
import { builtins } from "../src/engine/plan/registry.ts";
import type { Scenario } from "../src/scenario.ts";
import { benchHeader, collectGarbage, formatRate, formatTable, median } from "./stats.ts";

const PARALLELISM = 4;
const PARTITIONS = 8;

const plan: Plan = {
  nodes: [
    { id: "source", kind: "source", topic: "in", parallelism: PARALLELISM, inputs: [] },
    { id: "map", kind: "map", fn: { fn: "affine", args: { a: 3, b: 1 } }, parallelism: PARALLELISM, inputs: [{ from: "source", partition: "forward" }] },
    {
      id: "reduce",
      kind: "reduce",
      agg: "sum",
      parallelism: PARALLELISM,
      inputs: [{ from: "map", partition: "hash", key: { fn: "field", args: { name: "key" } } }],
    },
    { id: "sink", kind: "sink", sink: "twoPhaseCommit", topic: "out", parallelism: PARALLELISM, inputs: [{ from: "reduce", partition: "forward" }] },
  ],
};

function inputs(records: number): InputRecord[][] {
  const parts: InputRecord[][] = Array.from({ length: PARTITIONS }, () => []);
  for (let i = 0; i < records; i++) (parts[i % PARTITIONS] as InputRecord[]).push({ value: { key: `k${i % 1000}`, value: i % 97 }, ts: i });
  return parts;
}

function scenario(parts: InputRecord[][]): Scenario {
  return {
    name: "bench-engine",
    seed: 1,
    plan,
    inputs: [{ topic: "in", partitions: parts }],
    config: {
      ...defaultJobConfig,
      checkpoint: { ...defaultCheckpointConfig, intervalMs: 100 },
      costMsPerRecord: 0.001,
      bufferRecords: 256,
      sourceFetchRecords: 1024,
      channelCredits: 8,
    },
    cluster: { ...defaultClusterConfig, taskManagers: 2, slotsPerTaskManager: PARALLELISM, maxEvents: 200_000_000, maxTimeMs: 3_600_000 },
    faults: { faults: [] },
  };
}

/** The same functions in a plain loop: map, key, running sum per key, collect the output. */
function plainLoop(parts: InputRecord[][]): number {
  const map = builtins.resolve("map", { fn: "affine", args: { a: 3, b: 1 } });
  const key = builtins.resolve("key", { fn: "field", args: { name: "key" } });
  const sums = new Map<string, { key: string; value: number }>();
  const out: unknown[] = [];
  for (const p of parts)
    for (const r of p) {
      const m = map(r.value) as { key: string; value: number };
      const k = key(m);
      const prev = sums.get(k);
      const next = prev === undefined ? m : { ...m, value: prev.value + m.value };
      sums.set(k, next);
      out.push(next);
    }
  return out.length;
}

export async function main(): Promise<void> {
  console.log(benchHeader("engine"));
  const n = Number(process.env["RECORDS"] ?? 200_000);
  const parts = inputs(n);
  const s = scenario(parts);
  // Warm up both.
  runScenario(scenario(inputs(20_000)));
  plainLoop(parts);
  const engineRates: number[] = [];
  const loopRates: number[] = [];
  let checkpoints = 0;
  let events = 0;
  for (let round = 0; round < 5; round++) {
    collectGarbage();
    let t0 = performance.now();
    const r = runScenario(s);
    const engineMs = performance.now() - t0;
    if (r.status !== "FINISHED") throw new Error(`bench run ended ${r.status}: ${r.failureReason}`);
    const committed = r.sinks[0]?.committed.length ?? 0;
    if (committed !== n) throw new Error(`bench run committed ${committed} records, expected ${n}`);
    checkpoints = r.checkpoints.filter((c) => c.status === "COMPLETED").length;
    events = r.events;
    engineRates.push(n / (engineMs / 1000));
    t0 = performance.now();
    plainLoop(parts);
    loopRates.push(n / ((performance.now() - t0) / 1000));
  }
  const e = median(engineRates);
  const l = median(loopRates);
  console.log(
    formatTable(
      ["contender", "records/s (median of 5)", "notes"],
      [
        ["engine (p=4, 2PC sink, checkpoint every 100 ms)", formatRate(e), `${n} records, ${checkpoints} checkpoints, ${events} events`],
        ["plain loop (same functions)", formatRate(l), "map, key, running sum, collect"],
      ],
    ),
  );
  console.log(`engine cost relative to the plain loop: ${(l / e).toFixed(1)}x (target <= 20x); engine rate target >= 1M records/s`);

  // Peak memory for 1M records (input included), sampled after the run.
  const big = Number(process.env["MEMORY_RECORDS"] ?? 1_000_000);
  collectGarbage();
  const before = process.memoryUsage().heapUsed;
  let peak = before;
  const bigParts = inputs(big);
  const t0 = performance.now();
  const r = runScenario(scenario(bigParts));
  const ms = performance.now() - t0;
  peak = Math.max(peak, process.memoryUsage().heapUsed);
  console.log(
    `memory: ${big} records: heap ${(before / 2 ** 20).toFixed(0)} MiB before, ${(peak / 2 ** 20).toFixed(0)} MiB after the run ` +
      `(${r.status}, ${formatRate(big / (ms / 1000))} records/s, rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB)`,
  );
}
