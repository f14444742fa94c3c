import { describe, expect, test } from "vitest";
import { runScenario } from "../cluster/job.ts";
import { defaultCheckpointConfig, defaultClusterConfig, defaultJobConfig } from "../config.ts";
import type { InputRecord } from "../plan/plan.ts";
import type { Scenario } from "../../scenario.ts";
import type { Fault } from "../../faults/plan.ts";

const records = (p: number, n: number): InputRecord[] =>
  Array.from({ length: n }, (_, i) => ({ value: { key: `k${(i + p) % 4}`, value: i % 10 }, ts: i }));

/** source (2) -> keyBy -> reduce sum (2, slowed) -> 2PC sink: the reducer backpressures the sources. */
function scenario(unaligned: boolean, faults: Fault[], buffered = { bufferRecords: 8, channelCredits: 2 }, reducerCostMs = 0.5): Scenario {
  return {
    name: "unaligned",
    seed: 5,
    plan: {
      nodes: [
        { id: "src", kind: "source", topic: "in", parallelism: 2, inputs: [] },
        {
          id: "sum",
          kind: "reduce",
          agg: "sum",
          parallelism: 2,
          costMsPerRecord: reducerCostMs,
          inputs: [{ from: "src", partition: "hash", key: { fn: "field", args: { name: "key" } } }],
        },
        { id: "out", kind: "sink", sink: "twoPhaseCommit", topic: "out", parallelism: 2, inputs: [{ from: "sum", partition: "forward" }] },
      ],
    },
    inputs: [{ topic: "in", partitions: [records(0, 300), records(1, 300)] }],
    config: {
      ...defaultJobConfig,
      checkpoint: { ...defaultCheckpointConfig, intervalMs: 50, timeoutMs: 60_000, unaligned },
      ...buffered,
    },
    cluster: defaultClusterConfig,
    faults: { faults },
  };
}

/** Per key: how many running sums were committed, and the largest (the final sum: values are >= 0). */
function perKey(committed: readonly unknown[]): Record<string, { count: number; max: number }> {
  const out: Record<string, { count: number; max: number }> = {};
  for (const r of committed as Array<{ key: string; value: number }>) {
    const e = (out[r.key] ??= { count: 0, max: 0 });
    e.count++;
    e.max = Math.max(e.max, r.value);
  }
  return out;
}

// Each key gets 150 records; values i % 10 summed over the key's records.
const expected = (() => {
  const out: Record<string, { count: number; max: number }> = {};
  for (const p of [0, 1])
    for (const r of records(p, 300)) {
      const v = r.value as { key: string; value: number };
      const e = (out[v.key] ??= { count: 0, max: 0 });
      e.count++;
      e.max += v.value;
    }
  return out;
})();

describe("unaligned checkpoints", () => {
  test("under backpressure, unaligned checkpoints complete sooner than aligned ones: barriers overtake the queued data", () => {
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
    const durations = (unaligned: boolean): number[] =>
      // Deep channel buffers in front of a slow reducer: an aligned barrier waits behind ~256 records per channel.
      // (The reducer is slow enough that alignment, not the storage disk, dominates a checkpoint.)
      runScenario(scenario(unaligned, [], { bufferRecords: 32, channelCredits: 8 }, 2))
        .checkpoints.filter((c) => c.status === "COMPLETED")
        .map((c) => c.durationMs ?? 0);
    const aligned = durations(false);
    const unaligned = durations(true);
    expect(aligned.length).toBeGreaterThanOrEqual(1);
    // Aligned barriers wait behind the backlog, so fewer checkpoints complete during the job...
    expect(unaligned.length).toBeGreaterThan(aligned.length);
    // ...and each takes far longer.
    expect(median(unaligned)).toBeLessThan(median(aligned) / 2);
  });

  test("a TaskManager crash right after a checkpoint restores its in-flight data and commits every record exactly once", () => {
    const r = runScenario(
      scenario(true, [{ at: { after: "checkpoint-completed", nth: 2, delayMs: 0 }, fault: "crash", node: "tm-1", restartAfterMs: 100 }]),
    );
    expect(r.status).toBe("FINISHED");
    expect(r.restores.map((x) => x.checkpointId)).toEqual([2]);
    expect(perKey(r.sinks[0]?.committed ?? [])).toEqual(expected);
    expect(r.openTransactions).toEqual([]);
  });

  test("the same unaligned run gives the same trace hash", () => {
    const f: Fault[] = [{ at: 120, fault: "crash", node: "tm-0", restartAfterMs: 50 }];
    expect(runScenario(scenario(true, f)).traceHash).toBe(runScenario(scenario(true, f)).traceHash);
  });
});
