import fc from "fast-check";
import { describe, expect, test } from "vitest";
import type { Edge, Plan, PlanNode } from "../engine/plan/plan.ts";
import { consumersOf, KEYED_KINDS, nodeById } from "../engine/plan/plan.ts";
import { builtins } from "../engine/plan/registry.ts";
import { validatePlan } from "../engine/plan/validate.ts";
import { sampleWithSeed, shrunkCounterexample } from "./contract.ts";
import type { PlanDescriptor } from "./plan.ts";
import { buildPlan, descriptorOperatorCount, normalizeDescriptor, operatorCount, planArb, planDescriptorArb } from "./plan.ts";

const isKeyEdge = (e: Edge): boolean => e.partition === "hash" && e.key?.fn === "field" && e.key.args?.["name"] === "key";
const fnOf = (n: PlanNode): string | undefined => ("fn" in n && n.fn !== undefined ? n.fn.fn : undefined);
const isRunning = (n: PlanNode): boolean => n.kind === "reduce" || (n.kind === "process" && fnOf(n) === "runningCount");
const isKeyed = (n: PlanNode): boolean => KEYED_KINDS.has(n.kind);

/** Keyed nodes upstream of `n` (inclusive), by walking inputs. */
function keyedAncestors(plan: Plan, n: PlanNode): PlanNode[] {
  const out: PlanNode[] = [];
  const seen = new Set<string>();
  const stack = [n];
  for (let guard = 0; stack.length > 0 && guard < 10_000; guard++) {
    const cur = stack.pop() as PlanNode;
    if (seen.has(cur.id)) continue;
    seen.add(cur.id);
    if (isKeyed(cur)) out.push(cur);
    for (const e of cur.inputs) stack.push(nodeById(plan, e.from) as PlanNode);
  }
  return out;
}

/** Whether `n` keeps each key on one subtask with a defined last value: a non-dedupe keyed node, or a forward chain from one. */
function keepsKeyOrder(plan: Plan, n: PlanNode): boolean {
  let cur: PlanNode | undefined = n;
  for (let guard = 0; cur !== undefined && guard < 100; guard++) {
    if (isKeyed(cur)) return !(cur.kind === "process" && fnOf(cur) === "dedupe");
    if (cur.kind === "source" || cur.inputs.length !== 1 || cur.inputs[0]?.partition !== "forward") return false;
    cur = nodeById(plan, cur.inputs[0].from);
  }
  return false;
}

describe("planArb", () => {
  test("the same seed gives the same plans", () => {
    expect(sampleWithSeed(planArb(), 42)).toEqual(sampleWithSeed(planArb(), 42));
    expect(sampleWithSeed(planArb(), 42)).not.toEqual(sampleWithSeed(planArb(), 43));
  });

  test("every generated plan passes validatePlan", () => {
    for (const plan of sampleWithSeed(planArb(), 7, 1000)) expect(validatePlan(plan, builtins)).toBeUndefined();
  });

  test("every generated plan stays within the grammar's bounds", () => {
    for (const plan of sampleWithSeed(planArb(), 8, 1000)) {
      const sources = plan.nodes.filter((n) => n.kind === "source");
      const sinks = plan.nodes.filter((n) => n.kind === "sink");
      expect(sources.length).toBeGreaterThanOrEqual(1);
      expect(sources.length).toBeLessThanOrEqual(3);
      expect(sinks.length).toBeGreaterThanOrEqual(1);
      expect(sinks.length).toBeLessThanOrEqual(2);
      expect(operatorCount(plan)).toBeLessThanOrEqual(8);
      for (const n of plan.nodes) expect(n.parallelism).toBeLessThanOrEqual(4);
      for (const s of sources) expect(s.kind === "source" && s.watermark !== undefined && s.watermark.outOfOrdernessMs <= 50).toBe(true);
    }
  });

  test("generated plans keep results defined: running values and upsert sinks keep per-key order", () => {
    for (const plan of sampleWithSeed(planArb(), 9, 1000)) {
      const consumers = consumersOf(plan);
      for (const n of plan.nodes) {
        const keyedUp = keyedAncestors(plan, n).filter((k) => k !== n);
        if (n.kind === "map" && fnOf(n) === "rekey") expect(keyedUp).toEqual([]);
        for (const e of n.inputs) if (e.partition === "hash") expect(isKeyEdge(e)).toBe(true);
        if (isKeyed(n)) {
          // At most two keyed stages on a path, and nothing keyed after a running aggregate.
          expect(keyedUp.some(isRunning)).toBe(false);
          expect(keyedUp.length).toBeLessThanOrEqual(1);
          if (keyedUp.length === 1) expect(n.kind === "window" || fnOf(n) === "bucketSum").toBe(true);
        }
        if (isRunning(n)) {
          for (const { node: c, edge } of consumers.get(n.id) ?? []) {
            if (c.kind === "sink") expect(edge.partition === "forward" || isKeyEdge(edge)).toBe(true);
            else {
              expect(c.kind === "map" && (fnOf(c) === "identity" || fnOf(c) === "affine")).toBe(true);
              expect(edge.partition).toBe("forward");
              for (const { node: cc, edge: ce } of consumers.get(c.id) ?? []) {
                expect(cc.kind).toBe("sink");
                expect(ce.partition === "forward" || isKeyEdge(ce)).toBe(true);
              }
            }
          }
        }
        if (n.kind === "sink" && n.sink === "upsert") {
          expect(n.upsertKey?.fn).toBe("field");
          expect(n.inputs.length).toBe(1);
          const e = n.inputs[0] as Edge;
          expect(e.partition === "forward" || isKeyEdge(e)).toBe(true);
          expect(keepsKeyOrder(plan, nodeById(plan, e.from) as PlanNode)).toBe(true);
        }
      }
    }
  });

  test("the generator covers every builtin operator, window kind, sink kind, unions and every edge kind", () => {
    const seen = new Set<string>();
    for (const plan of sampleWithSeed(planArb(), 10, 1000)) {
      for (const n of plan.nodes) {
        seen.add(n.kind);
        const fn = fnOf(n);
        if (fn !== undefined) seen.add(`${n.kind}:${fn}`);
        if (n.kind === "reduce" && n.agg !== undefined) seen.add(`reduce:${n.agg}`);
        if (n.kind === "window") seen.add(`window:${n.assigner.kind}:${n.aggregate.fn}`);
        if (n.kind === "sink") seen.add(`sink:${n.sink}`);
        if (n.inputs.length > 1) seen.add(`union:${n.kind}`);
        for (const e of n.inputs) seen.add(`edge:${e.partition}`);
      }
    }
    const expected = [
      ...["identity", "affine", "rekey", "abs"].map((f) => `map:${f}`),
      ...["all", "valueMod", "valueAtLeast"].map((f) => `filter:${f}`),
      ...["explode", "dropOdd"].map((f) => `flatMap:${f}`),
      ...["sum", "min", "max", "count", "sumValue", "minValue", "maxValue"].map((f) => `reduce:${f}`),
      ...["runningCount", "dedupe", "bucketSum"].map((f) => `process:${f}`),
      ...["tumbling", "sliding"].flatMap((k) => ["sum", "count", "min", "max"].map((a) => `window:${k}:${a}`)),
      ...["twoPhaseCommit", "upsert", "plain"].map((k) => `sink:${k}`),
      ...["map", "reduce", "window", "sink"].map((k) => `union:${k}`),
      ...["forward", "rebalance", "hash"].map((k) => `edge:${k}`),
    ];
    expect(expected.filter((x) => !seen.has(x))).toEqual([]);
  });

  test("sliding windows have a slide that divides the size, and sizes stay in 50..500 ms", () => {
    for (const plan of sampleWithSeed(planArb(), 11, 1000)) {
      for (const n of plan.nodes) {
        if (n.kind === "window") {
          expect(n.assigner.sizeMs).toBeGreaterThanOrEqual(50);
          expect(n.assigner.sizeMs).toBeLessThanOrEqual(500);
          if (n.assigner.kind === "sliding") expect(n.assigner.sizeMs % n.assigner.slideMs).toBe(0);
        }
      }
    }
  });

  test("options restrict the sink kinds, and upsert-only plans always have a keyed stage to read", () => {
    for (const kinds of [["plain"], ["upsert"], ["twoPhaseCommit", "upsert"]] as const) {
      for (const plan of sampleWithSeed(planArb({ sinkKinds: kinds }), 12, 300)) {
        expect(validatePlan(plan, builtins)).toBeUndefined();
        for (const n of plan.nodes) if (n.kind === "sink") expect(kinds as readonly string[]).toContain(n.sink);
      }
    }
    for (const plan of sampleWithSeed(planArb({ sinkKinds: ["upsert"], maxOperators: 1, maxSources: 1, maxSinks: 1 }), 13, 200)) {
      expect(validatePlan(plan, builtins)).toBeUndefined();
      expect(operatorCount(plan)).toBe(1);
    }
  });

  test("invalid options are refused with a sentence naming the option", () => {
    expect(() => planArb({ maxSources: 4 })).toThrow("planArb options.maxSources must be an integer in [1, 3], got 4");
    expect(() => planArb({ sinkKinds: [] })).toThrow("planArb options.sinkKinds must name at least one sink kind");
    expect(() => planArb({ sinkKinds: ["upsert"], maxOperators: 0 })).toThrow("planArb options.maxOperators must be an integer in [1, 64], got 0");
  });
});

describe("planDescriptorArb", () => {
  test("a descriptor counts the operators of the plan it builds, and normalizing it again changes nothing", () => {
    fc.assert(
      fc.property(planDescriptorArb(), (d: PlanDescriptor) => {
        expect(operatorCount(buildPlan(d))).toBe(descriptorOperatorCount(d));
        expect(normalizeDescriptor(d)).toEqual(d);
      }),
      { numRuns: 300, seed: 14 },
    );
  });

  test("a property failing for plans of 3 or more operators shrinks to exactly 3 operators at parallelism 1", () => {
    for (const seed of [1, 2, 3]) {
      const d = shrunkCounterexample(planDescriptorArb(), (x) => descriptorOperatorCount(x) < 3, seed);
      const plan = buildPlan(d);
      expect(operatorCount(plan)).toBe(3);
      expect(plan.nodes.map((n) => n.parallelism)).toEqual(plan.nodes.map(() => 1));
      expect(plan.nodes.filter((n) => n.kind === "source").length).toBe(1);
      expect(plan.nodes.filter((n) => n.kind === "sink").length).toBe(1);
    }
  });

  test("a property failing for plans with a keyed stage shrinks to one source, one keyed operator and one sink", () => {
    const d = shrunkCounterexample(planDescriptorArb(), (x) => x.keyed === undefined, 5);
    const plan = buildPlan(d);
    expect(plan.nodes.map((n) => n.kind)).toEqual(["source", (d.keyed as { op: string }).op, "sink"]);
    expect(plan.nodes.every((n) => n.parallelism === 1)).toBe(true);
  });
});
