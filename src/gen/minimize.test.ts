import { describe, expect, test } from "vitest";
import { defaultClusterConfig, defaultJobConfig } from "../engine/config.ts";
import type { Scenario } from "../scenario.ts";
import { minimizeScenario, SIMPLIFICATIONS } from "./minimize.ts";

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
    // Fails while topic b keeps record 103 and 105 of its partition 1, 105 no earlier than 50 ms,
    // and the plan has a failTask (so moving timestamps earlier loses the failure).
    const fails = (s: Scenario): boolean => {
      const b = s.inputs.filter((t) => t.topic === "b").flatMap((t) => t.partitions.flat());
      const has = (v: number): boolean => b.some((r) => (r.value as { value: number }).value === v);
      const late = b.some((r) => (r.value as { value: number }).value === 105 && r.ts >= 50);
      return has(103) && late && s.faults.faults.some((f) => f.fault === "failTask");
    };
    const r = minimizeScenario(scenario, fails, { maxAttempts: 500 });
    expect(r.exhausted).toBe(false);
    // The failure needs no particular fault time: the absolute one is halved down to 0.
    expect(r.scenario.faults.faults).toEqual([{ at: 0, fault: "failTask", vertex: "v", subtask: 0 }]);
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

  test("simplifies the configuration and the timestamps when that lets it drop more records", () => {
    // A "backlog" failure: some partition holds more records than one buffer, all before the 2nd checkpoint.
    const fails = (s: Scenario): boolean =>
      s.inputs.some((t) =>
        t.partitions.some((p) => p.filter((r) => r.ts < 2 * Math.max(s.config.checkpoint.intervalMs, 0) + s.config.checkpoint.minPauseMs).length > s.config.bufferRecords),
      );
    const start: Scenario = {
      ...scenario,
      config: { ...defaultJobConfig, bufferRecords: 4, checkpoint: { ...defaultJobConfig.checkpoint, intervalMs: 40, minPauseMs: 10 } },
    };
    expect(fails(start)).toBe(true);
    // Removals alone stop at 5 records (one buffer of 4, plus one); one record per buffer needs 2.
    const removalsOnly = minimizeScenario(start, (s) => fails(s) && s.config === start.config, { maxAttempts: 500 });
    expect(values(removalsOnly.scenario)).toHaveLength(5);
    const r = minimizeScenario(start, fails, { maxAttempts: 500 });
    expect(r.exhausted).toBe(false);
    expect(values(r.scenario)).toHaveLength(2);
    expect(r.scenario.config.bufferRecords).toBe(1);
    expect(r.scenario.config.checkpoint.minPauseMs).toBe(0);
    expect(r.scenario.faults.faults).toEqual([]);
    // The timestamps moved to the start, as close together as they can be.
    expect(r.scenario.inputs.flatMap((t) => t.partitions.flatMap((p) => p.map((x) => x.ts)))).toEqual([0, 0]);
  });

  test("never makes a record late: timestamps are not halved when rounding would put one behind the watermark", () => {
    const late: Scenario = {
      ...scenario,
      plan: { nodes: [{ id: "source-0", kind: "source", topic: "a", parallelism: 1, inputs: [], watermark: { outOfOrdernessMs: 0.5 } }] },
      inputs: [{ topic: "a", partitions: [[rec("k0", 1, 2), rec("k0", 2, 1.9)]] }],
    };
    const byName = (name: string) => SIMPLIFICATIONS.find((s) => s.name === name);
    // 1.9 is in time after 2 (disorder 0.5), but floor(1.9 / 2) = 0 would be late after floor(2 / 2) = 1.
    expect(byName("timestamps halved")?.apply(late)).toBeUndefined();
    const shifted = byName("every partition's timestamps start at 0")?.apply(late);
    expect(shifted?.inputs[0]?.partitions[0]?.map((r) => r.ts)).toEqual([2 - 1.9, 0]);
    // Without a source reading the topic with watermarks, no record can be late.
    expect(byName("timestamps halved")?.apply({ ...late, plan: { nodes: [] } })?.inputs[0]?.partitions[0]?.map((r) => r.ts)).toEqual([1, 0]);
  });

  test("keeps a heavier cost per record only when it lets removals drop more, and always returns the last scenario that failed", () => {
    // Fails once the records' total cost reaches 0.4 ms: 8 records at 0.05 ms each, 2 at 0.2, 1 at 1.
    const start: Scenario = { ...scenario, config: { ...defaultJobConfig, costMsPerRecord: 0.05 } };
    let last: Scenario | undefined;
    const track = (f: (s: Scenario) => boolean) => (s: Scenario): boolean => {
      const r = f(s);
      if (r) last = s;
      return r;
    };
    const heavy = minimizeScenario(start, track((s) => values(s).length * s.config.costMsPerRecord >= 0.4), { maxAttempts: 500 });
    expect(values(heavy.scenario)).toHaveLength(1);
    expect(heavy.scenario.config.costMsPerRecord).toBe(1);
    expect(heavy.scenario).toBe(last);
    // A failure the cost does not matter to keeps the cost it had.
    const plain = minimizeScenario(start, track((s) => values(s).includes(103)), { maxAttempts: 500 });
    expect(values(plain.scenario)).toEqual([103]);
    expect(plain.scenario.config.costMsPerRecord).toBe(0.05);
    expect(plain.scenario).toBe(last);
  });
});
