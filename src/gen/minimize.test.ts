import { describe, expect, test } from "vitest";
import { defaultClusterConfig, defaultJobConfig } from "../engine/config.ts";
import type { Scenario } from "../scenario.ts";
import { minimizeScenario } from "./minimize.ts";

const rec = (key: string, value: number, ts: number) => ({ value: { key, value }, ts });

/** 2 topics x 2 partitions of 10 records each, three faults. */
const scenario: Scenario = {
  name: "minimize",
  seed: 1,
  plan: { nodes: [] },
  inputs: ["a", "b"].map((topic) => ({
    topic,
    partitions: [0, 1].map((p) => Array.from({ length: 10 }, (_, i) => rec(`k${i % 3}`, p * 100 + i, i * 10))),
  })),
  config: defaultJobConfig,
  cluster: defaultClusterConfig,
  faults: {
    faults: [
      { at: 10, fault: "crash", node: "tm-0", restartAfterMs: 50 },
      { at: 20, fault: "slowDisk", node: "storage", factor: 2, durationMs: 100 },
      { at: 30, fault: "failTask", vertex: "v", subtask: 0 },
    ],
  },
};

const values = (s: Scenario): number[] => s.inputs.flatMap((t) => t.partitions.flatMap((p) => p.map((r) => (r.value as { value: number }).value)));

describe("minimizeScenario", () => {
  test("keeps only the records and faults the failure needs, in their original order and with their timestamps", () => {
    // Fails while topic b keeps record 103 and 105 of its partition 1 and the plan has a failTask.
    const fails = (s: Scenario): boolean => {
      const b = values({ ...s, inputs: s.inputs.filter((t) => t.topic === "b") });
      return b.includes(103) && b.includes(105) && s.faults.faults.some((f) => f.fault === "failTask");
    };
    const r = minimizeScenario(scenario, fails, { maxAttempts: 500 });
    expect(r.exhausted).toBe(false);
    expect(r.scenario.faults.faults).toEqual([{ at: 30, fault: "failTask", vertex: "v", subtask: 0 }]);
    expect(r.scenario.inputs.map((t) => t.partitions.map((p) => p.map((x) => x.ts)))).toEqual([
      [[], []],
      [[], [30, 50]],
    ]);
    expect(values(r.scenario)).toEqual([103, 105]);
  });

  test("drops everything when the failure needs nothing, and stops at the attempt budget or when the predicate says stop", () => {
    const all = minimizeScenario(scenario, () => true, { maxAttempts: 100 });
    expect(all.scenario.faults.faults).toEqual([]);
    expect(values(all.scenario)).toEqual([]);
    const none = minimizeScenario(scenario, () => false, { maxAttempts: 5 });
    expect(none).toEqual({ scenario, attempts: 5, exhausted: true });
    let calls = 0;
    const stop = minimizeScenario(scenario, () => (++calls > 2 ? "stop" : false), { maxAttempts: 100 });
    expect(stop.attempts).toBe(3);
    expect(stop.exhausted).toBe(true);
    expect(() => minimizeScenario(scenario, () => true, { maxAttempts: -1 })).toThrow("minimizeScenario options.maxAttempts must be an integer >= 0, got -1");
  });
});
