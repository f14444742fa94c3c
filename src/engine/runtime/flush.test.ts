/**
 * The output flusher (Flink's buffer timeout) and periodic watermarks (Flink's auto-watermark
 * interval): both change when data travels, never what the job commits.
 */
import { describe, expect, test } from "vitest";
import { StreamExecutionEnvironment } from "../api/environment.ts";
import { runScenario } from "../cluster/job.ts";
import { defaultCheckpointConfig, defaultClusterConfig, defaultJobConfig, type JobConfigData } from "../config.ts";
import type { InputRecord } from "../plan/plan.ts";
import type { Scenario } from "../../scenario.ts";

const records = (p: number, n: number): InputRecord[] =>
  Array.from({ length: n }, (_, i) => ({ value: { key: `k${(i + p) % 5}`, value: i }, ts: i * 2 + p }));

function scenario(config: Partial<JobConfigData>): Scenario {
  return {
    name: "flush",
    seed: 3,
    plan: {
      nodes: [
        { id: "src", kind: "source", topic: "in", parallelism: 2, inputs: [], watermark: { outOfOrdernessMs: 5 } },
        { id: "m", kind: "map", fn: { fn: "affine", args: { a: 2, b: 1 } }, parallelism: 2, inputs: [{ from: "src", partition: "forward" }] },
        {
          id: "w",
          kind: "window",
          assigner: { kind: "tumbling", sizeMs: 20 },
          aggregate: { fn: "sum" },
          parallelism: 2,
          inputs: [{ from: "m", partition: "hash", key: { fn: "field", args: { name: "key" } } }],
        },
        { id: "out", kind: "sink", sink: "twoPhaseCommit", topic: "out", parallelism: 2, inputs: [{ from: "w", partition: "forward" }] },
      ],
    },
    inputs: [{ topic: "in", partitions: [records(0, 120), records(1, 90)] }],
    config: {
      ...defaultJobConfig,
      checkpoint: { ...defaultCheckpointConfig, intervalMs: 30 },
      bufferRecords: 64,
      sourceFetchRecords: 4,
      sourcePacing: "eventTime",
      ...config,
    },
    cluster: defaultClusterConfig,
    faults: { faults: [] },
  };
}

const committed = (s: Scenario): string[] =>
  runScenario(s)
    .sinks.flatMap((k) => k.committed.map((v) => JSON.stringify(v)))
    .sort();

describe("buffer timeout and watermark interval", () => {
  test("a buffer timeout batches the steps' output into fewer buffers and commits the same records", () => {
    const eager = runScenario(scenario({ bufferTimeoutMs: 0, autoWatermarkIntervalMs: 0 }));
    const batched = runScenario(scenario({ bufferTimeoutMs: 10, autoWatermarkIntervalMs: 0 }));
    expect(eager.status).toBe("FINISHED");
    expect(batched.status).toBe("FINISHED");
    expect(batched.events).toBeLessThan(eager.events);
    expect(committed(scenario({ bufferTimeoutMs: 10, autoWatermarkIntervalMs: 0 }))).toEqual(committed(scenario({ bufferTimeoutMs: 0, autoWatermarkIntervalMs: 0 })));
  });

  test("periodic watermarks send fewer watermarks than watermarks after every source step, with the same windows committed", () => {
    const perStep = runScenario(scenario({ bufferTimeoutMs: 0, autoWatermarkIntervalMs: 0 }));
    const periodic = runScenario(scenario({ bufferTimeoutMs: 0, autoWatermarkIntervalMs: 50 }));
    expect(periodic.status).toBe("FINISHED");
    expect(periodic.events).toBeLessThan(perStep.events);
    const a = committed(scenario({ bufferTimeoutMs: 0, autoWatermarkIntervalMs: 0 }));
    expect(a.length).toBeGreaterThan(0);
    expect(committed(scenario({ bufferTimeoutMs: 0, autoWatermarkIntervalMs: 50 }))).toEqual(a);
  });

  test("env.getConfig() sets the watermark interval and the buffer timeout, and rejects a negative one naming the option", () => {
    const env = StreamExecutionEnvironment.create();
    env.getConfig().setAutoWatermarkInterval(50).setBufferTimeout(5);
    expect(env.getConfig().getAutoWatermarkInterval()).toBe(50);
    expect(env.getConfig().getBufferTimeout()).toBe(5);
    expect(() => env.getConfig().setAutoWatermarkInterval(-1)).toThrow(/setAutoWatermarkInterval: runtime.autoWatermarkIntervalMs must be a finite number >= 0/);
    expect(() => env.getConfig().setBufferTimeout(-2)).toThrow(/setBufferTimeout: runtime.bufferTimeoutMs must be >= 0/);
    expect(env.getConfig().getAutoWatermarkInterval()).toBe(50);
  });
});
