import fc from "fast-check";
import { describe, expect, test } from "vitest";
import type { Inputs, Plan, SourceNode } from "../engine/plan/plan.ts";
import { validateInputs } from "../engine/plan/validate.ts";
import { sampleWithSeed, shrunkCounterexample } from "./contract.ts";
import { inputsArb } from "./inputs.ts";
import { planArb } from "./plan.ts";

const planWithInputs = (opts: Parameters<typeof inputsArb>[1] = {}): fc.Arbitrary<[Plan, Inputs]> =>
  planArb().chain((plan) => inputsArb(plan, opts).map((inputs): [Plan, Inputs] => [plan, inputs]));

const twoSources: Plan = {
  nodes: [
    { id: "a", kind: "source", topic: "in-0", parallelism: 2, inputs: [], watermark: { outOfOrdernessMs: 10 } },
    { id: "b", kind: "source", topic: "in-1", parallelism: 1, inputs: [], watermark: { outOfOrdernessMs: 0 } },
    { id: "s", kind: "sink", sink: "plain", topic: "out", parallelism: 1, inputs: [{ from: "a", partition: "rebalance" }, { from: "b", partition: "rebalance" }] },
  ],
};

const totalRecords = (inputs: Inputs): number => inputs.reduce((n, t) => n + t.partitions.reduce((m, p) => m + p.length, 0), 0);
const records = (inputs: Inputs): Array<{ key: string; value: number }> =>
  inputs.flatMap((t) => t.partitions.flatMap((p) => p.map((r) => r.value as { key: string; value: number })));

describe("inputsArb", () => {
  test("the same seed gives the same inputs", () => {
    expect(sampleWithSeed(inputsArb(twoSources), 42)).toEqual(sampleWithSeed(inputsArb(twoSources), 42));
  });

  test("generated inputs cover every source topic with 1..4 partitions and pass validateInputs", () => {
    fc.assert(
      fc.property(planWithInputs(), ([plan, inputs]) => {
        expect(validateInputs(inputs, plan)).toBeUndefined();
        const topics = plan.nodes.filter((n): n is SourceNode => n.kind === "source").map((n) => n.topic);
        expect(inputs.map((t) => t.topic)).toEqual(topics);
        for (const t of inputs) expect(t.partitions.length).toBeGreaterThanOrEqual(1);
        for (const t of inputs) expect(t.partitions.length).toBeLessThanOrEqual(4);
        expect(totalRecords(inputs)).toBeLessThanOrEqual(200);
        for (const r of records(inputs)) {
          expect(r.key).toMatch(/^k[0-7]$/);
          expect(Number.isInteger(r.value) && Math.abs(r.value) <= 20).toBe(true);
        }
      }),
      { numRuns: 300, seed: 1 },
    );
  });

  test("no generated record is late under per-partition watermarks", () => {
    fc.assert(
      fc.property(planWithInputs(), ([plan, inputs]) => {
        for (const t of inputs) {
          const source = plan.nodes.find((n): n is SourceNode => n.kind === "source" && n.topic === t.topic) as SourceNode;
          const ooo = source.watermark?.outOfOrdernessMs ?? 0;
          for (const partition of t.partitions) {
            let max = -Infinity;
            for (const r of partition) {
              expect(r.ts).toBeGreaterThanOrEqual(max - ooo);
              max = Math.max(max, r.ts);
            }
          }
        }
      }),
      { numRuns: 300, seed: 2 },
    );
  });

  test("timestamps are out of order only where the source allows it", () => {
    let disordered = 0;
    for (const inputs of sampleWithSeed(inputsArb(twoSources), 3, 200)) {
      for (const t of inputs) {
        for (const p of t.partitions) {
          for (let i = 1; i < p.length; i++) {
            if ((p[i]?.ts as number) < (p[i - 1]?.ts as number)) {
              expect(t.topic).toBe("in-0");
              disordered++;
            }
          }
        }
      }
    }
    expect(disordered).toBeGreaterThan(0);
  });

  test("keys are skewed: k0 is the most frequent and k7 the rarest", () => {
    const counts = new Map<string, number>();
    for (const inputs of sampleWithSeed(inputsArb(twoSources), 4, 200)) {
      for (const r of records(inputs)) counts.set(r.key, (counts.get(r.key) ?? 0) + 1);
    }
    const c = (k: string): number => counts.get(k) ?? 0;
    expect(c("k0")).toBeGreaterThan(c("k1"));
    expect(c("k1")).toBeGreaterThan(c("k3"));
    expect(c("k3")).toBeGreaterThan(c("k7"));
    expect(c("k7")).toBeGreaterThan(0);
  });

  test("maxRecords bounds the total, and invalid options are refused", () => {
    for (const inputs of sampleWithSeed(inputsArb(twoSources, { maxRecords: 10 }), 5, 100)) expect(totalRecords(inputs)).toBeLessThanOrEqual(10);
    expect(() => inputsArb(twoSources, { maxPartitions: 0 })).toThrow("inputsArb options.maxPartitions must be an integer in [1, 16], got 0");
  });

  test("a property failing for 5 or more records shrinks to exactly 5 records of key k0 and value 0 in one partition", () => {
    const inputs = shrunkCounterexample(inputsArb(twoSources), (i) => totalRecords(i) < 5, 6);
    expect(totalRecords(inputs)).toBe(5);
    expect(inputs.map((t) => t.partitions.length)).toEqual([1, 1]);
    expect(records(inputs)).toEqual(Array.from({ length: 5 }, () => ({ key: "k0", value: 0 })));
  });
});
