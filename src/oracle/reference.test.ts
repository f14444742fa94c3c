import { describe, expect, test } from "vitest";
import type { ListState } from "../engine/plan/functions.ts";
import type { Edge, FnRef, Inputs, Plan, PlanNode } from "../engine/plan/plan.ts";
import { builtins, Registry } from "../engine/plan/registry.ts";
import type { JsonValue } from "../sim/trace.ts";
import { assignWindows, interpret, InterpretError } from "./reference.ts";
import type { SinkExpectation } from "./reference.ts";

const byKey: FnRef = { fn: "field", args: { name: "key" } };
const hash = (from: string, key: FnRef = byKey): Edge => ({ from, partition: "hash", key });
const fwd = (from: string): Edge => ({ from, partition: "forward" });
const src = (id = "src", topic = "in", parallelism = 1): PlanNode => ({ id, kind: "source", topic, parallelism, inputs: [] });
const sink = (from: Edge | Edge[], id = "out", kind: "plain" | "twoPhaseCommit" | "upsert" = "twoPhaseCommit", parallelism = 1): PlanNode => ({
  id,
  kind: "sink",
  sink: kind,
  topic: `${id}-topic`,
  parallelism,
  inputs: Array.isArray(from) ? from : [from],
  ...(kind === "upsert" ? { upsertKey: byKey } : {}),
});
const r = (key: string, value: number, ts: number) => ({ value: { key, value }, ts });
const inputs = (...partitions: Array<Array<ReturnType<typeof r>>>): Inputs => [{ topic: "in", partitions }];
const sinkOf = (ref: ReturnType<typeof interpret>, id = "out"): SinkExpectation => {
  const s = ref.sinks.find((x) => x.vertex === id);
  if (s === undefined) throw new Error(`no sink ${id}`);
  return s;
};
const sorted = (vs: readonly JsonValue[]): string[] => vs.map((v) => JSON.stringify(v)).sort();

describe("the reference interpreter", () => {
  test("a stateless path maps and filters every record of every partition", () => {
    const plan: Plan = {
      nodes: [
        src(),
        { id: "m", kind: "map", fn: { fn: "affine", args: { a: 2, b: 1 } }, parallelism: 2, inputs: [{ from: "src", partition: "rebalance" }] },
        { id: "f", kind: "filter", fn: { fn: "valueAtLeast", args: { min: 5 } }, parallelism: 2, inputs: [fwd("m")] },
        sink(fwd("f"), "out", "twoPhaseCommit", 2),
      ],
    };
    const ref = interpret(plan, inputs([r("k1", 1, 1), r("k2", 2, 2)], [r("k1", 3, 3)]), builtins);
    const out = sinkOf(ref);
    expect(out.mode).toBe("multiset");
    expect(out.noLoss).toBe("records");
    expect(out.records).toEqual([
      { key: "k2", value: 5 },
      { key: "k1", value: 7 },
    ]);
    expect(ref.state).toEqual([]);
  });

  test("flatMap explode turns each record into n records", () => {
    const plan: Plan = {
      nodes: [src(), { id: "x", kind: "flatMap", fn: { fn: "explode", args: { n: 3 } }, parallelism: 1, inputs: [fwd("src")] }, sink(fwd("x"))],
    };
    const ref = interpret(plan, inputs([r("k1", 3, 1)]));
    expect(sinkOf(ref).records).toEqual([
      { key: "k1", value: 9 },
      { key: "k1", value: 10 },
      { key: "k1", value: 11 },
    ]);
  });

  test("a broadcast edge into parallelism 3 replicates every record three times", () => {
    const plan: Plan = {
      nodes: [
        src(),
        { id: "m", kind: "map", fn: { fn: "identity" }, parallelism: 3, inputs: [{ from: "src", partition: "broadcast" }] },
        sink(fwd("m"), "out", "twoPhaseCommit", 3),
      ],
    };
    const ref = interpret(plan, inputs([r("k1", 1, 1), r("k2", 2, 2)]));
    expect(sorted(sinkOf(ref).records)).toEqual(sorted([...Array(3).fill({ key: "k1", value: 1 }), ...Array(3).fill({ key: "k2", value: 2 })]));
  });

  test("a tumbling event-time window sums each key per window, with timestamp end - 1", () => {
    const plan: Plan = {
      nodes: [
        src(),
        { id: "w", kind: "window", assigner: { kind: "tumbling", sizeMs: 10 }, aggregate: { fn: "sum" }, parallelism: 2, inputs: [hash("src")] },
        sink(fwd("w"), "out", "twoPhaseCommit", 2),
      ],
    };
    const ref = interpret(plan, inputs([r("k1", 1, 1), r("k1", 4, 12)], [r("k1", 2, 5), r("k2", 10, 3)]));
    expect(sorted(sinkOf(ref).records)).toEqual(
      sorted([
        { key: "k1", value: 3, windowStart: 0, windowEnd: 10 },
        { key: "k2", value: 10, windowStart: 0, windowEnd: 10 },
        { key: "k1", value: 4, windowStart: 10, windowEnd: 20 },
      ]),
    );
    expect(sinkOf(ref).mode).toBe("multiset");
    expect(ref.state).toEqual([]); // every window fired
  });

  test("a sliding window assigns a record to size/slide windows, as Flink does", () => {
    expect(assignWindows(7, { kind: "sliding", sizeMs: 10, slideMs: 5 })).toEqual([
      { start: 5, end: 15 },
      { start: 0, end: 10 },
    ]);
    expect(assignWindows(10, { kind: "sliding", sizeMs: 10, slideMs: 5 })).toEqual([
      { start: 10, end: 20 },
      { start: 5, end: 15 },
    ]);
    expect(assignWindows(3, { kind: "tumbling", sizeMs: 10 })).toEqual([{ start: 0, end: 10 }]);
    const plan: Plan = {
      nodes: [
        src(),
        { id: "w", kind: "window", assigner: { kind: "sliding", sizeMs: 10, slideMs: 5 }, aggregate: { fn: "count" }, parallelism: 1, inputs: [hash("src")] },
        sink(fwd("w")),
      ],
    };
    const ref = interpret(plan, inputs([r("k1", 100, 3), r("k1", 100, 7)]));
    expect(sorted(sinkOf(ref).records)).toEqual(
      sorted([
        { key: "k1", value: 1, windowStart: -5, windowEnd: 5 },
        { key: "k1", value: 2, windowStart: 0, windowEnd: 10 },
        { key: "k1", value: 1, windowStart: 5, windowEnd: 15 },
      ]),
    );
  });

  test("a reduce sum emits the running sum per record in timestamp order and keeps the aggregate as state", () => {
    const plan: Plan = {
      nodes: [src(), { id: "sum", kind: "reduce", agg: "sum", parallelism: 2, inputs: [hash("src")] }, sink(fwd("sum"), "out", "twoPhaseCommit", 2)],
    };
    // Partition 0 holds ts 4 before ts 3: the canonical order sorts by timestamp.
    const ref = interpret(plan, inputs([r("k1", 1, 1), r("k1", 4, 4), r("k1", 2, 3)], [r("k2", 5, 2)]));
    const out = sinkOf(ref);
    expect(out.mode).toBe("running");
    expect(out.records).toEqual([
      { key: "k1", value: 1 },
      { key: "k2", value: 5 },
      { key: "k1", value: 3 },
      { key: "k1", value: 7 },
    ]);
    expect(out.running).toEqual([
      { key: "k1", count: 3, mustInclude: [{ key: "k1", value: 7 }], idempotentFinals: [] },
      { key: "k2", count: 1, mustInclude: [{ key: "k2", value: 5 }], idempotentFinals: [] },
    ]);
    expect(ref.state).toEqual([
      { vertex: "sum", key: "k1", state: { reduce: { key: "k1", value: 7 } } },
      { vertex: "sum", key: "k2", state: { reduce: { key: "k2", value: 5 } } },
    ]);
  });

  test("a reduce count replaces the field with the running count, and max over a stateless path has idempotent finals", () => {
    const count: Plan = { nodes: [src(), { id: "c", kind: "reduce", agg: "count", parallelism: 1, inputs: [hash("src")] }, sink(fwd("c"))] };
    const input = inputs([r("k1", 9, 1), r("k1", 3, 2), r("k1", 5, 3)]);
    expect(sinkOf(interpret(count, input)).records).toEqual([
      { key: "k1", value: 1 },
      { key: "k1", value: 2 },
      { key: "k1", value: 3 },
    ]);
    const max: Plan = { nodes: [src(), { id: "mx", kind: "reduce", agg: "max", parallelism: 1, inputs: [hash("src")] }, sink(fwd("mx"))] };
    const out = sinkOf(interpret(max, input));
    expect(out.records).toEqual([
      { key: "k1", value: 9 },
      { key: "k1", value: 9 },
      { key: "k1", value: 9 },
    ]);
    expect(out.running?.[0]?.idempotentFinals).toEqual([{ key: "k1", value: 9 }]);
  });

  test("a reduce over records that differ outside the aggregated field leaves its final value and state undefined", () => {
    const plan: Plan = {
      nodes: [src(), { id: "sum", kind: "reduce", agg: "sum", parallelism: 1, inputs: [hash("src")] }, sink(fwd("sum"))],
    };
    const ref = interpret(plan, [{ topic: "in", partitions: [[{ value: { key: "k1", value: 1, id: 1 }, ts: 1 }, { value: { key: "k1", value: 2, id: 2 }, ts: 2 }]] }]);
    expect(sinkOf(ref).running).toEqual([{ key: "k1", count: 2, mustInclude: [], idempotentFinals: [] }]);
    expect(ref.undefinedState).toHaveLength(1);
    expect(ref.undefinedState[0]?.key).toBe("k1");
  });

  test("bucketSum sums per bucket and emits each bucket when its event-time timer fires at end of input", () => {
    const plan: Plan = {
      nodes: [src(), { id: "b", kind: "process", fn: { fn: "bucketSum", args: { sizeMs: 10 } }, parallelism: 1, inputs: [hash("src")] }, sink(fwd("b"))],
    };
    const ref = interpret(plan, inputs([r("k1", 3, 1), r("k1", 5, 12), r("k2", 1, 15)], [r("k1", 4, 8)]));
    expect(sinkOf(ref).records).toEqual([
      { key: "k1", value: 7, windowStart: 0, windowEnd: 10 },
      { key: "k1", value: 5, windowStart: 10, windowEnd: 20 },
      { key: "k2", value: 1, windowStart: 10, windowEnd: 20 },
    ]);
    expect(sinkOf(ref).mode).toBe("multiset");
    expect(ref.state).toEqual([]); // every bucket was removed by its timer
  });

  test("runningCount keeps a count per key and dedupe keeps a sorted map of seen values", () => {
    const plan: Plan = {
      nodes: [
        src(),
        { id: "cnt", kind: "process", fn: { fn: "runningCount" }, parallelism: 1, inputs: [hash("src")] },
        sink(fwd("cnt"), "counts"),
        { id: "dd", kind: "process", fn: { fn: "dedupe" }, parallelism: 1, inputs: [hash("src")] },
        sink(fwd("dd"), "unique"),
      ],
    };
    const ref = interpret(plan, inputs([r("k1", 2, 1), r("k1", 10, 2), r("k1", 2, 3), r("k2", 1, 4)]));
    expect(sinkOf(ref, "counts").running).toEqual([
      { key: "k1", count: 3, mustInclude: [{ key: "k1", value: 3 }], idempotentFinals: [] },
      { key: "k2", count: 1, mustInclude: [{ key: "k2", value: 1 }], idempotentFinals: [] },
    ]);
    expect(sinkOf(ref, "unique").records).toEqual([
      { key: "k1", value: 2 },
      { key: "k1", value: 10 },
      { key: "k2", value: 1 },
    ]);
    expect(ref.state).toEqual([
      { vertex: "cnt", key: "k1", state: { count: 3 } },
      { vertex: "cnt", key: "k2", state: { count: 1 } },
      { vertex: "dd", key: "k1", state: { seen: { "10": true, "2": true } } },
      { vertex: "dd", key: "k2", state: { seen: { "1": true } } },
    ]);
  });

  test("event-time timers fire in (timestamp, key) order, and a firing timer can register another", () => {
    const registry = new Registry(builtins).register("process", "chain", () => {
      let list: ListState | undefined;
      return {
        open(ctx) {
          list = ctx.getListState("fired");
        },
        processElement(_v, ctx) {
          ctx.timerService.registerEventTimeTimer(ctx.timestamp + 100);
        },
        onTimer(ts, ctx, out) {
          list?.add(ts);
          out.collect({ key: ctx.currentKey, value: ts });
          if (ts < 300) ctx.timerService.registerEventTimeTimer(ts + 150);
        },
      };
    });
    const plan: Plan = {
      nodes: [src(), { id: "p", kind: "process", fn: { fn: "chain" }, parallelism: 1, inputs: [hash("src")] }, sink(fwd("p"))],
    };
    const ref = interpret(plan, inputs([r("b", 0, 10), r("a", 0, 10), r("a", 0, 200)]), registry);
    expect(sinkOf(ref).records).toEqual([
      { key: "a", value: 110 },
      { key: "b", value: 110 },
      { key: "a", value: 260 }, // registered by a's timer at 110
      { key: "b", value: 260 },
      { key: "a", value: 300 },
      { key: "a", value: 410 }, // 260 re-registers at 410; 300 stops
      { key: "b", value: 410 },
    ]);
    expect(sinkOf(ref).userDefined).toBe(true);
    expect(ref.state).toEqual([
      { vertex: "p", key: "a", state: { fired: [110, 260, 300, 410] } },
      { vertex: "p", key: "b", state: { fired: [110, 260, 410] } },
    ]);
  });

  test("an upsert sink expects the final running value per key where one path keeps the order, and no value where several channels reorder it", () => {
    const nodes = (partition: "forward" | "rebalance"): PlanNode[] => [
      src(),
      { id: "sum", kind: "reduce", agg: "sum", parallelism: 2, inputs: [hash("src")] },
      { id: "out", kind: "sink", sink: "upsert", topic: "t", upsertKey: byKey, parallelism: 3, inputs: [{ from: "sum", partition }] },
    ];
    const input = inputs([r("k1", 1, 1), r("k1", 2, 2), r("k2", 5, 3)]);
    const fixed = nodes("forward").map((n) => (n.id === "out" ? { ...n, parallelism: 2 } : n));
    expect(sinkOf(interpret({ nodes: fixed }, input)).table).toEqual([
      { key: "k1", defined: true, value: { key: "k1", value: 3 }, reason: null },
      { key: "k2", defined: true, value: { key: "k2", value: 5 }, reason: null },
    ]);
    const table = sinkOf(interpret({ nodes: nodes("rebalance") }, input)).table;
    expect(table?.map((row) => [row.key, row.defined])).toEqual([
      ["k1", false],
      ["k2", false],
    ]);
  });

  test("a missing topic and a keyed operator behind a non-hash edge are reported by name", () => {
    const plan: Plan = { nodes: [src("s", "nope"), sink(fwd("s"))] };
    expect(() => interpret(plan, inputs([]))).toThrow(/source "s": the input has no topic "nope"/);
    const bad: Plan = {
      nodes: [src(), { id: "sum", kind: "reduce", agg: "sum", parallelism: 1, inputs: [fwd("src")] }, sink(fwd("sum"))],
    };
    expect(() => interpret(bad, inputs([r("k", 1, 1)]))).toThrow(InterpretError);
  });
});
