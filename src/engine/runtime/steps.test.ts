import { describe, expect, test } from "vitest";
import { runScenario } from "../cluster/job.ts";
import { defaultCheckpointConfig, defaultClusterConfig, defaultJobConfig } from "../config.ts";
import type { InputRecord } from "../plan/plan.ts";
import type { Scenario } from "../../scenario.ts";

const RECORDS = 256;
const input: InputRecord[] = Array.from({ length: RECORDS }, (_, i) => ({ value: { key: `k${i % 4}`, value: i }, ts: 0 }));

/** One source fetching its whole partition at once, in front of a map that takes 1 ms a record. */
function scenario(bufferRecords: number, channelCredits: number): Scenario {
  return {
    name: "steps",
    seed: 3,
    plan: {
      nodes: [
        { id: "src", kind: "source", topic: "in", parallelism: 1, inputs: [] },
        { id: "slow", kind: "map", fn: { fn: "identity" }, parallelism: 1, costMsPerRecord: 1, inputs: [{ from: "src", partition: "forward" }] },
        { id: "out", kind: "sink", sink: "twoPhaseCommit", topic: "out", parallelism: 1, inputs: [{ from: "slow", partition: "forward" }] },
      ],
    },
    inputs: [{ topic: "in", partitions: [input] }],
    config: {
      ...defaultJobConfig,
      checkpoint: { ...defaultCheckpointConfig, intervalMs: 20, minPauseMs: 0, timeoutMs: 60_000 },
      sourceFetchRecords: RECORDS,
      bufferRecords,
      channelCredits,
    },
    cluster: { ...defaultClusterConfig, taskManagers: 1 },
    faults: { faults: [] },
  };
}

describe("steps under backpressure", () => {
  test("a source's barrier waits behind what its output can take, not behind its whole fetch", () => {
    const r = runScenario(scenario(1, 1));
    expect(r.status).toBe("FINISHED");
    expect(r.sinks[0]?.committed).toEqual(input.map((x) => x.value));
    const done = r.checkpoints.filter((c) => c.status === "COMPLETED");
    // The map needs 256 ms for the fetch; a barrier behind all of it would take that long. Behind
    // one buffer of one record (and the one the map is processing), a checkpoint takes a few ms
    // plus the storage writes, so several complete while the map works through the fetch.
    expect(done.length).toBeGreaterThanOrEqual(5);
    for (const c of done.slice(0, 5)) expect(c.durationMs).toBeLessThan(60);
  });

  test("a larger output takes more per step: the barrier waits behind credits times buffer records", () => {
    // 4 credits of 16 records: up to 64 records (64 ms of the map) ahead of a barrier at the source.
    const r = runScenario(scenario(16, 4));
    expect(r.status).toBe("FINISHED");
    expect(r.sinks[0]?.committed).toEqual(input.map((x) => x.value));
    const first = r.checkpoints.find((c) => c.status === "COMPLETED");
    expect(first?.durationMs).toBeGreaterThan(30);
    expect(first?.durationMs).toBeLessThan(200);
  });
});
