import { describe, expect, test } from "vitest";
import { validateCheckpointConfig, validateClusterConfig, validateJobConfig, validateRestartStrategy } from "../engine/config.ts";
import type { Plan } from "../engine/plan/plan.ts";
import { checkpointConfigArb, clusterConfigArb, clusterFor, jobConfigArb, restartStrategyArb, UNLIMITED_ATTEMPTS } from "./config.ts";
import { sampleWithSeed, shrunkCounterexample } from "./contract.ts";

describe("checkpointConfigArb", () => {
  test("the same seed gives the same configs", () => {
    expect(sampleWithSeed(checkpointConfigArb(), 42)).toEqual(sampleWithSeed(checkpointConfigArb(), 42));
  });

  test("every generated checkpoint config is valid and within the generator's ranges", () => {
    const tolerable = new Set<number>();
    let unaligned = 0;
    for (const c of sampleWithSeed(checkpointConfigArb(), 1, 1000)) {
      expect(validateCheckpointConfig(c)).toBeUndefined();
      expect(c.intervalMs).toBeGreaterThanOrEqual(10);
      expect(c.intervalMs).toBeLessThanOrEqual(2000);
      expect(c.timeoutMs).toBeGreaterThanOrEqual(10);
      expect(c.timeoutMs).toBeLessThanOrEqual(5000);
      expect(c.minPauseMs).toBeLessThanOrEqual(300);
      expect(c.maxConcurrent).toBeLessThanOrEqual(3);
      expect(c.retained).toBeLessThanOrEqual(3);
      // Unaligned only where Flink allows it (validateCheckpointConfig checks that too).
      if (c.unaligned) expect(c.mode === "EXACTLY_ONCE" && c.maxConcurrent === 1).toBe(true);
      if (c.unaligned) unaligned++;
      tolerable.add(c.tolerableFailures);
    }
    expect([...tolerable].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 1000]);
    expect(unaligned).toBeGreaterThan(50); // and it is generated
  });

  test("mostly short intervals and long timeouts", () => {
    const cs = sampleWithSeed(checkpointConfigArb(), 2, 1000);
    expect(cs.filter((c) => c.intervalMs <= 500).length).toBeGreaterThan(700);
    expect(cs.filter((c) => c.timeoutMs >= 200).length).toBeGreaterThan(600);
  });

  test("the mode can be fixed", () => {
    for (const mode of ["EXACTLY_ONCE", "AT_LEAST_ONCE"] as const) {
      for (const c of sampleWithSeed(checkpointConfigArb({ mode }), 3, 200)) expect(c.mode).toBe(mode);
    }
    expect(new Set(sampleWithSeed(checkpointConfigArb(), 3, 200).map((c) => c.mode)).size).toBe(2);
  });

  test("a property failing for long intervals shrinks to the boundary", () => {
    const c = shrunkCounterexample(checkpointConfigArb(), (x) => x.intervalMs < 100, 4);
    expect(c.intervalMs).toBe(100);
    expect(c.minPauseMs).toBe(0);
    expect(c.maxConcurrent).toBe(1);
  });
});

describe("restartStrategyArb", () => {
  test("the same seed gives the same strategies", () => {
    expect(sampleWithSeed(restartStrategyArb(), 42)).toEqual(sampleWithSeed(restartStrategyArb(), 42));
  });

  test("recoverable strategies are valid, cover three kinds and let the job restart many times with short delays", () => {
    const kinds = new Set<string>();
    for (const r of sampleWithSeed(restartStrategyArb(), 1, 1000)) {
      expect(validateRestartStrategy(r)).toBeUndefined();
      kinds.add(r.kind);
      if (r.kind === "fixedDelay") {
        expect(r.attempts === UNLIMITED_ATTEMPTS || r.attempts >= 10).toBe(true);
        expect(r.delayMs).toBeLessThanOrEqual(200);
      }
      if (r.kind === "failureRate") {
        expect(r.maxFailuresPerInterval).toBeGreaterThanOrEqual(10);
        expect(r.delayMs).toBeLessThanOrEqual(200);
      }
      if (r.kind === "exponentialDelay") expect(r.maxBackoffMs).toBeLessThanOrEqual(200);
    }
    expect([...kinds].sort()).toEqual(["exponentialDelay", "failureRate", "fixedDelay"]);
  });

  test("without recoverable the strategy may be none", () => {
    const rs = sampleWithSeed(restartStrategyArb({ recoverable: false }), 2, 500);
    for (const r of rs) expect(validateRestartStrategy(r)).toBeUndefined();
    expect(rs.some((r) => r.kind === "none")).toBe(true);
  });
});

describe("jobConfigArb", () => {
  test("the same seed gives the same job configs", () => {
    expect(sampleWithSeed(jobConfigArb(), 42)).toEqual(sampleWithSeed(jobConfigArb(), 42));
  });

  test("every generated job config passes validateJobConfig and never uses restart strategy none", () => {
    for (const j of sampleWithSeed(jobConfigArb(), 1, 1000)) {
      expect(validateJobConfig(j)).toBeUndefined();
      expect(j.restart?.kind).not.toBe("none");
    }
  });

  test("the mode option reaches the checkpoint config", () => {
    for (const j of sampleWithSeed(jobConfigArb({ mode: "AT_LEAST_ONCE" }), 2, 100)) expect(j.checkpoint.mode).toBe("AT_LEAST_ONCE");
  });
});

describe("clusterConfigArb", () => {
  test("the same seed gives the same clusters", () => {
    expect(sampleWithSeed(clusterConfigArb(), 42)).toEqual(sampleWithSeed(clusterConfigArb(), 42));
  });

  test("every generated cluster is valid, has 1..3 TaskManagers with the slots asked for, and heartbeats in range", () => {
    for (const c of sampleWithSeed(clusterConfigArb({ minSlots: 3 }), 1, 1000)) {
      expect(validateClusterConfig(c)).toBeUndefined();
      expect(c.taskManagers).toBeGreaterThanOrEqual(1);
      expect(c.taskManagers).toBeLessThanOrEqual(3);
      expect(c.slotsPerTaskManager).toBeGreaterThanOrEqual(3);
      expect(c.heartbeatIntervalMs).toBeGreaterThanOrEqual(50);
      expect(c.heartbeatIntervalMs).toBeLessThanOrEqual(100);
      expect(c.heartbeatTimeoutMs).toBeGreaterThanOrEqual(3 * c.heartbeatIntervalMs);
      expect(c.heartbeatTimeoutMs).toBeLessThanOrEqual(5 * c.heartbeatIntervalMs);
    }
  });

  test("clusterFor gives every TaskManager a slot per subtask of the widest node", () => {
    const plan: Plan = {
      nodes: [
        { id: "s", kind: "source", topic: "in", parallelism: 7, inputs: [] },
        { id: "o", kind: "sink", sink: "plain", topic: "out", parallelism: 2, inputs: [{ from: "s", partition: "rebalance" }] },
      ],
    };
    const c = clusterFor(plan);
    expect(validateClusterConfig(c)).toBeUndefined();
    expect(c.slotsPerTaskManager).toBe(7);
  });
});
