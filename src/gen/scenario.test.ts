import { describe, expect, test } from "vitest";
import { validateClusterConfig, validateJobConfig } from "../engine/config.ts";
import { builtins } from "../engine/plan/registry.ts";
import { validateInputs, validatePlan } from "../engine/plan/validate.ts";
import { sampleWithSeed, shrunkCounterexample } from "./contract.ts";
import { clusterNodes } from "./faults.ts";
import { livableTimeoutMs } from "./config.ts";
import { maxParallelism, operatorCount } from "./plan.ts";
import { scenarioArb } from "./scenario.ts";


const recordCount = (s: { inputs: ReadonlyArray<{ partitions: ReadonlyArray<readonly unknown[]> }> }): number =>
  s.inputs.reduce((n, t) => n + t.partitions.reduce((m, p) => m + p.length, 0), 0);

describe("scenarioArb", () => {
  test("the same seed gives the same scenarios", () => {
    expect(sampleWithSeed(scenarioArb(), 42, 20)).toEqual(sampleWithSeed(scenarioArb(), 42, 20));
  });

  test("every generated scenario is valid throughout and survives a JSON round trip", () => {
    for (const s of sampleWithSeed(scenarioArb(), 1, 300)) {
      expect(s.name).toBe("generated");
      expect(s.expect).toEqual({ verdict: "pass" });
      expect(Number.isInteger(s.seed)).toBe(true);
      expect(validatePlan(s.plan, builtins)).toBeUndefined();
      expect(validateInputs(s.inputs, s.plan)).toBeUndefined();
      expect(validateJobConfig(s.config)).toBeUndefined();
      expect(validateClusterConfig(s.cluster)).toBeUndefined();
      expect(s.cluster.slotsPerTaskManager).toBeGreaterThanOrEqual(maxParallelism(s.plan));
      const nodes = clusterNodes(s.cluster.taskManagers);
      for (const f of s.faults.faults) {
        if (f.fault === "crash") expect(nodes).toContain(f.node);
        if (f.fault === "failTask") {
          const v = s.plan.nodes.find((n) => n.id === f.vertex);
          expect(v).toBeDefined();
          expect(f.subtask).toBeLessThan(v?.parallelism ?? 0);
        }
        if (f.fault === "slowOperator") expect(s.plan.nodes.some((n) => n.id === f.vertex)).toBe(true);
        if (f.fault === "partition") for (const n of [...f.a, ...f.b]) expect(nodes).toContain(n);
      }
      expect(JSON.parse(JSON.stringify(s))).toEqual(s);
    }
  });

  test("options fix the sink kinds, the mode and the fault intensity", () => {
    const opts = { sinkKinds: ["twoPhaseCommit"], mode: "AT_LEAST_ONCE", faults: "none" } as const;
    for (const s of sampleWithSeed(scenarioArb(opts), 2, 200)) {
      expect(s.config.checkpoint.mode).toBe("AT_LEAST_ONCE");
      expect(s.faults.faults).toEqual([]);
      for (const n of s.plan.nodes) if (n.kind === "sink") expect(n.sink).toBe("twoPhaseCommit");
    }
    // Two raw faults, each at most two concrete ones (a structured schedule).
    for (const s of sampleWithSeed(scenarioArb({ faults: "light" }), 3, 200)) expect(s.faults.faults.length).toBeLessThanOrEqual(4);
    expect(() => scenarioArb({ faults: "extreme" as never })).toThrow(
      'scenarioArb options.faults must be one of none, light, normal, heavy, got "extreme"',
    );
  });

  test("every scenario's checkpoint timeout leaves the idle job time to complete a checkpoint on its cluster", () => {
    let raised = 0;
    for (const s of sampleWithSeed(scenarioArb(), 5, 500)) {
      const floor = livableTimeoutMs(s.plan, s.cluster, s.config);
      expect(s.config.checkpoint.timeoutMs).toBeGreaterThanOrEqual(floor);
      if (s.config.checkpoint.timeoutMs === floor && floor < 5000) raised++;
    }
    expect(raised).toBeGreaterThan(0);
  });

  test("fault times fall within the horizon", () => {
    for (const s of sampleWithSeed(scenarioArb({ faultHorizonMs: 700 }), 4, 200)) {
      for (const f of s.faults.faults) if (typeof f.at === "number") expect(f.at).toBeLessThanOrEqual(700);
    }
  });

  test("a property failing for faulted keyed plans shrinks to one fault, a three-node plan and no records", () => {
    const s = shrunkCounterexample(
      scenarioArb(),
      (x) => x.faults.faults.length === 0 || !x.plan.nodes.some((n) => n.kind === "reduce" || n.kind === "process" || n.kind === "window"),
      5,
    );
    expect(s.faults.faults.length).toBe(1);
    expect(s.plan.nodes.length).toBe(3);
    expect(operatorCount(s.plan)).toBe(1);
    expect(recordCount(s)).toBe(0);
    expect(s.cluster.taskManagers).toBe(1);
  });
});
