import { describe, expect, test } from "vitest";
import type { Edge, FnRef, Plan, PlanNode } from "../engine/plan/plan.ts";
import { classify } from "./defined.ts";
import type { SinkClass } from "./defined.ts";

const byKey: FnRef = { fn: "field", args: { name: "key" } };
const hash = (from: string, key: FnRef = byKey): Edge => ({ from, partition: "hash", key });
const fwd = (from: string): Edge => ({ from, partition: "forward" });
const src: PlanNode = { id: "src", kind: "source", topic: "in", parallelism: 1, inputs: [] };
const sink = (inputs: Edge[], id = "out", parallelism = 1): PlanNode => ({ id, kind: "sink", sink: "twoPhaseCommit", topic: id, parallelism, inputs });
const map = (id: string, from: Edge, fn: string, parallelism = 1): PlanNode => ({ id, kind: "map", fn: { fn }, parallelism, inputs: [from] });
const reduce = (id: string, from: Edge, agg: "sum" | "max" = "sum"): PlanNode => ({ id, kind: "reduce", agg, parallelism: 1, inputs: [from] });
const proc = (id: string, from: Edge, fn: string): PlanNode => ({ id, kind: "process", fn: { fn }, parallelism: 1, inputs: [from] });
const win = (id: string, from: Edge, aggregate: string): PlanNode => ({
  id,
  kind: "window",
  assigner: { kind: "tumbling", sizeMs: 10 },
  aggregate: { fn: aggregate },
  parallelism: 1,
  inputs: [from],
});

function only(plan: Plan): SinkClass {
  const classes = classify(plan);
  expect(classes).toHaveLength(1);
  return classes[0] as SinkClass;
}

describe("classify", () => {
  test("a stateless path defines the multiset, and no-loss can ask for every distinct record", () => {
    const c = only({ nodes: [src, map("m", fwd("src"), "affine"), { id: "f", kind: "filter", fn: { fn: "valueMod" }, parallelism: 1, inputs: [fwd("m")] }, sink([fwd("f")])] });
    expect(c).toMatchObject({ mode: "multiset", reason: null, userDefined: false, noLoss: "records" });
  });

  test("a window sum defines the multiset, but duplicates change its values, so no-loss asks only for keys", () => {
    expect(only({ nodes: [src, win("w", hash("src"), "sum"), sink([fwd("w")])] })).toMatchObject({ mode: "multiset", noLoss: "keys" });
    expect(only({ nodes: [src, win("w", hash("src"), "max"), sink([fwd("w")])] })).toMatchObject({ mode: "multiset", noLoss: "records" });
    // A window after a window: a restore can refire the first with part of its records (its state
    // had fired and purged the window), a new partial max the second's min takes in, so only the
    // keys survive at least-once replays (sweep seed 22, run 870).
    expect(only({ nodes: [src, win("w1", hash("src"), "max"), win("w2", hash("w1"), "min"), sink([fwd("w2")])] })).toMatchObject({ mode: "multiset", noLoss: "keys" });
    expect(only({ nodes: [src, win("w1", hash("src"), "max"), map("m", fwd("w1"), "abs"), win("w2", hash("m"), "max"), sink([fwd("w2")])] })).toMatchObject({ noLoss: "keys" });
  });

  test("a reduce, and a map after it, give running values", () => {
    expect(only({ nodes: [src, reduce("r", hash("src")), sink([fwd("r")])] })).toMatchObject({ mode: "running", noLoss: "keys", lastIsFinal: true });
    expect(only({ nodes: [src, reduce("r", hash("src")), map("m", fwd("r"), "affine"), sink([fwd("m")])] })).toMatchObject({ mode: "running" });
  });

  test("running values reaching the sink over several channels are still running, but their last value is not the final one", () => {
    const c = only({
      nodes: [src, reduce("r", hash("src")), { id: "out", kind: "sink", sink: "upsert", topic: "t", upsertKey: byKey, parallelism: 2, inputs: [{ from: "r", partition: "rebalance" }] }],
    });
    expect(c).toMatchObject({ mode: "running", lastIsFinal: false });
  });

  test("a filter, flatMap or keyed operator after running values is undefined, with a reason", () => {
    const filtered = only({
      nodes: [src, reduce("r", hash("src")), { id: "f", kind: "filter", fn: { fn: "valueMod" }, parallelism: 1, inputs: [fwd("r")] }, sink([fwd("f")])],
    });
    expect(filtered.mode).toBe("undefined");
    expect(filtered.reason).toMatch(/filter "f" after running values/);
    expect(filtered.noLoss).toBe("none");
    const twice = only({ nodes: [src, reduce("r", hash("src")), reduce("r2", hash("r")), sink([fwd("r2")])] });
    expect(twice.mode).toBe("undefined");
    expect(twice.reason).toMatch(/keyed reduce "r2" consumes running values/);
    const windowed = only({ nodes: [src, proc("c", hash("src"), "runningCount"), win("w", hash("c"), "sum"), sink([fwd("w")])] });
    expect(windowed.mode).toBe("undefined");
  });

  test("a reduce function keyed by something other than the key field is undefined", () => {
    const c = only({
      nodes: [src, { id: "r", kind: "reduce", fn: { fn: "sumValue" }, parallelism: 1, inputs: [hash("src", { fn: "valueMod", args: { m: 3 } })] }, sink([fwd("r")])],
    });
    expect(c.mode).toBe("undefined");
    expect(c.reason).toMatch(/reduce "r"/);
  });

  test("registry process functions: runningCount is running, dedupe and bucketSum are multisets", () => {
    expect(only({ nodes: [src, proc("p", hash("src"), "runningCount"), sink([fwd("p")])] })).toMatchObject({ mode: "running", noLoss: "keys" });
    expect(only({ nodes: [src, proc("p", hash("src"), "dedupe"), sink([fwd("p")])] })).toMatchObject({ mode: "multiset", noLoss: "records" });
    expect(only({ nodes: [src, proc("p", hash("src"), "bucketSum"), sink([fwd("p")])] })).toMatchObject({ mode: "multiset", noLoss: "keys" });
  });

  test("an event-time window or bucketSum after dedupe is undefined: the kept duplicate's timestamp depends on arrival order", () => {
    const w = only({ nodes: [src, proc("d", hash("src"), "dedupe"), win("w", hash("d"), "max"), sink([fwd("w")])] });
    expect(w.mode).toBe("undefined");
    expect(w.reason).toContain("after dedupe");
    const b = only({ nodes: [src, proc("d", hash("src"), "dedupe"), proc("b", hash("d"), "bucketSum"), sink([fwd("b")])] });
    expect(b.mode).toBe("undefined");
    // A stateless step after dedupe keeps the multiset defined: the sink compares values, not timestamps.
    expect(only({ nodes: [src, proc("d", hash("src"), "dedupe"), map("m", fwd("d"), "abs"), sink([fwd("m")])] }).mode).toBe("multiset");
  });

  test("a user process function is a multiset the user asserts; a user map on a stateless path is a plain multiset", () => {
    expect(only({ nodes: [src, proc("p", hash("src"), "closure:1"), sink([fwd("p")])] })).toMatchObject({ mode: "multiset", userDefined: true, noLoss: "none" });
    expect(only({ nodes: [src, map("m", fwd("src"), "closure:2"), sink([fwd("m")])] })).toMatchObject({ mode: "multiset", userDefined: false, noLoss: "records" });
  });

  test("a union of a stateless path and running values is running", () => {
    const c = only({ nodes: [src, reduce("r", hash("src")), sink([fwd("src"), fwd("r")])] });
    expect(c.mode).toBe("running");
  });

  test("every sink is classified, in plan order", () => {
    const classes = classify({ nodes: [src, reduce("r", hash("src")), sink([fwd("r")], "a"), sink([fwd("src")], "b")] });
    expect(classes.map((c) => [c.vertex, c.mode])).toEqual([
      ["a", "running"],
      ["b", "multiset"],
    ]);
  });
});
