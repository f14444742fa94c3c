import { describe, expect, test } from "vitest";
import type { Inputs, Plan, PlanNode } from "./plan.ts";
import { builtins } from "./registry.ts";
import { validateInputs, validatePlan } from "./validate.ts";

const KEY = { fn: "field", args: { name: "key" } };

/** source -> map (forward) -> reduce (hash) -> upsert sink (forward), plus a window feeding a plain sink. */
function basePlan(): PlanNode[] {
  return [
    { id: "src", kind: "source", topic: "in-0", parallelism: 2, inputs: [], watermark: { outOfOrdernessMs: 5 } },
    { id: "m", kind: "map", parallelism: 2, inputs: [{ from: "src", partition: "forward" }], fn: { fn: "affine", args: { a: 2, b: 1 } } },
    { id: "r", kind: "reduce", parallelism: 3, inputs: [{ from: "m", partition: "hash", key: KEY }], agg: "sum", field: "value" },
    { id: "w", kind: "window", parallelism: 1, inputs: [{ from: "m", partition: "hash", key: KEY }], assigner: { kind: "sliding", sizeMs: 100, slideMs: 50 }, aggregate: { fn: "sum" } },
    { id: "up", kind: "sink", sink: "upsert", topic: "out-0", parallelism: 3, inputs: [{ from: "r", partition: "forward" }], upsertKey: KEY },
    { id: "out", kind: "sink", sink: "plain", topic: "out-1", parallelism: 2, inputs: [{ from: "w", partition: "rebalance" }] },
  ];
}

/** The base plan with node `id` replaced by `patch(node)`. */
function withNode(id: string, patch: (n: PlanNode) => object): Plan {
  return { nodes: basePlan().map((n) => (n.id === id ? (patch(n) as PlanNode) : n)) };
}

const check = (p: Plan): string | undefined => validatePlan(p, builtins);

describe("validatePlan", () => {
  test("a well-formed plan passes", () => {
    expect(check({ nodes: basePlan() })).toBeUndefined();
  });

  test("an empty plan is rejected", () => {
    expect(check({ nodes: [] })).toBe("plan.nodes is empty; a plan needs at least one source and one sink");
  });

  test("a node without an id is rejected", () => {
    expect(check(withNode("m", (n) => ({ ...n, id: "" })))).toBe("plan.nodes[1].id must be a non-empty string; give every node an id");
  });

  test("two nodes with one id are rejected", () => {
    expect(check(withNode("w", (n) => ({ ...n, id: "r" })))).toBe(
      'plan.nodes[3].id "r" is already used by plan.nodes[2]; node ids must be unique',
    );
  });

  test("an edge from a later node breaks topological order", () => {
    const nodes = basePlan();
    const swapped = [nodes[0], nodes[2], nodes[1], ...nodes.slice(3)] as PlanNode[];
    expect(check({ nodes: swapped })).toBe(
      'node "r" (reduce): inputs[0].from "m" is not an earlier node; list nodes in topological order (inputs before consumers)',
    );
  });

  test("an edge from an unknown node is rejected", () => {
    expect(check(withNode("m", (n) => ({ ...n, inputs: [{ from: "nope", partition: "forward" }] })))).toBe(
      'node "m" (map): inputs[0].from names no node ("nope"); point it at a node of the plan',
    );
  });

  test("a source with inputs is rejected", () => {
    const nodes = basePlan();
    nodes.splice(1, 0, { id: "src2", kind: "source", topic: "in-1", parallelism: 1, inputs: [{ from: "src", partition: "rebalance" }] });
    expect(check({ nodes })).toBe('node "src2" (source): a source reads a topic and must have no inputs, got 1');
  });

  test("a source without a topic is rejected", () => {
    expect(check(withNode("src", (n) => ({ ...n, topic: "" })))).toBe('node "src" (source): topic must be a non-empty topic name');
  });

  test("an operator without inputs is rejected", () => {
    expect(check(withNode("m", (n) => ({ ...n, inputs: [] })))).toBe(
      'node "m" (map): inputs is empty; every operator and sink needs at least one input edge',
    );
  });

  test.each([0, 129, 1.5])("parallelism %s is rejected", (p) => {
    expect(check(withNode("w", (n) => ({ ...n, parallelism: p })))).toBe(
      `node "w" (window): parallelism must be an integer from 1 to 128, got ${p}`,
    );
  });

  test("a hash edge without a key is rejected", () => {
    expect(check(withNode("r", (n) => ({ ...n, inputs: [{ from: "m", partition: "hash" }] })))).toBe(
      'node "r" (reduce): inputs[0] is a hash edge without a key; set key to a key selector (keyBy)',
    );
  });

  test("a key on an edge that is not hash is rejected", () => {
    expect(check(withNode("out", (n) => ({ ...n, inputs: [{ from: "w", partition: "rebalance", key: KEY }] })))).toBe(
      'node "out" (sink): inputs[0] is a rebalance edge with a key; only hash edges carry a key, make it a hash edge or drop the key',
    );
  });

  test("a keyed operator fed by a rebalance edge is rejected", () => {
    expect(check(withNode("w", (n) => ({ ...n, inputs: [{ from: "m", partition: "rebalance" }] })))).toBe(
      'node "w" (window): inputs[0] is a rebalance edge; a keyed window needs hash inputs (keyBy before it)',
    );
  });

  test("a forward edge between different parallelisms is rejected", () => {
    expect(check(withNode("m", (n) => ({ ...n, parallelism: 3 })))).toBe(
      'node "m" (map): inputs[0] is a forward edge from "src" (parallelism 2) to parallelism 3; forward needs equal parallelism, use rebalance or equal parallelism',
    );
  });

  test("a function name that is not registered is rejected", () => {
    expect(check(withNode("m", (n) => ({ ...n, fn: { fn: "nope" } })))).toBe(
      'node "m" (map): fn names no registered map function ("nope"); register it or use one of abs, affine, identity, rekey',
    );
  });

  test("a function registered under another kind is rejected", () => {
    expect(check(withNode("w", (n) => ({ ...n, aggregate: { fn: "sumValue" } })))).toBe(
      'node "w" (window): aggregate names no registered aggregate function ("sumValue"); register it or use one of count, max, min, sum',
    );
  });

  test("an unknown key selector on a hash edge is rejected", () => {
    expect(check(withNode("r", (n) => ({ ...n, inputs: [{ from: "m", partition: "hash", key: { fn: "byColor" } }] })))).toBe(
      'node "r" (reduce): inputs[0].key names no registered key function ("byColor"); register it or use one of field, valueMod',
    );
  });

  test("a window of size 0 is rejected", () => {
    expect(check(withNode("w", (n) => ({ ...n, assigner: { kind: "tumbling", sizeMs: 0 } })))).toBe(
      'node "w" (window): assigner.sizeMs must be > 0, got 0',
    );
  });

  test("a sliding window with slide 0 is rejected", () => {
    expect(check(withNode("w", (n) => ({ ...n, assigner: { kind: "sliding", sizeMs: 100, slideMs: 0 } })))).toBe(
      'node "w" (window): assigner.slideMs must be > 0, got 0',
    );
  });

  test("a sliding window whose slide exceeds its size is rejected", () => {
    expect(check(withNode("w", (n) => ({ ...n, assigner: { kind: "sliding", sizeMs: 100, slideMs: 150 } })))).toBe(
      'node "w" (window): assigner.slideMs must be <= sizeMs (100), got 150; a slide longer than the window drops records',
    );
  });

  test("a reduce with both agg and fn is rejected", () => {
    expect(check(withNode("r", (n) => ({ ...n, fn: { fn: "sumValue" } })))).toBe(
      'node "r" (reduce): set exactly one of agg (sum, min, max, count) and fn (a registry reduce function), got both',
    );
  });

  test("a reduce with neither agg nor fn is rejected", () => {
    expect(check(withNode("r", (n) => ({ ...n, agg: undefined })))).toBe(
      'node "r" (reduce): set exactly one of agg (sum, min, max, count) and fn (a registry reduce function), got neither',
    );
  });

  test("a sink without a topic is rejected", () => {
    expect(check(withNode("out", (n) => ({ ...n, topic: "" })))).toBe('node "out" (sink): topic must be a non-empty topic name');
  });

  test("an upsert sink without an upsert key is rejected", () => {
    expect(check(withNode("up", (n) => ({ ...n, upsertKey: undefined })))).toBe(
      'node "up" (sink): an upsert sink needs upsertKey, the key selector of its table',
    );
  });

  test("two sinks writing one topic are rejected", () => {
    expect(check(withNode("out", (n) => ({ ...n, topic: "out-0" })))).toBe(
      'node "out" (sink): topic "out-0" is already written by sink "up"; give each sink its own topic',
    );
  });

  test("a sink writing a source's topic is rejected", () => {
    expect(check(withNode("out", (n) => ({ ...n, topic: "in-0" })))).toBe(
      'node "out" (sink): topic "in-0" is read by source "src"; a sink must write a topic no source reads',
    );
  });

  test("an operator nobody consumes is rejected", () => {
    expect(check({ nodes: basePlan().filter((n) => n.id !== "out") })).toBe(
      'node "w" (window) has no consumer; connect it to a downstream operator or a sink, or remove it',
    );
  });

  test("a sink used as an input is rejected", () => {
    const nodes = basePlan();
    nodes.push({ id: "after", kind: "sink", sink: "plain", topic: "out-2", parallelism: 1, inputs: [{ from: "out", partition: "rebalance" }] });
    expect(check({ nodes })).toBe('node "out" (sink) is used as an input; a sink ends a pipeline, read its topic with a source instead');
  });

  test("a negative per-record cost is rejected", () => {
    expect(check(withNode("m", (n) => ({ ...n, costMsPerRecord: -1 })))).toBe(
      'node "m" (map): costMsPerRecord must be a finite number >= 0 (or omitted for the job default), got -1',
    );
  });
});

describe("validateInputs", () => {
  const plan: Plan = { nodes: basePlan() };
  const ok: Inputs = [{ topic: "in-0", partitions: [[{ value: 1, ts: 0 }, { value: 2, ts: 5 }], []] }];

  test("inputs covering every source topic pass", () => {
    expect(validateInputs(ok, plan)).toBeUndefined();
  });

  test("a missing source topic is rejected", () => {
    expect(validateInputs([{ topic: "other", partitions: [[]] }], plan)).toBe(
      'inputs has no topic "in-0" read by source "src"; add it with at least one partition',
    );
  });

  test("a topic listed twice is rejected", () => {
    expect(validateInputs([...ok, ...ok], plan)).toBe('inputs[1].topic "in-0" already appears at inputs[0]; list each topic once');
  });

  test("a topic without partitions is rejected", () => {
    expect(validateInputs([{ topic: "in-0", partitions: [] }], plan)).toBe(
      'inputs[0].partitions (topic "in-0") must list at least one partition',
    );
  });

  test.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])("timestamp %s is rejected", (ts) => {
    expect(validateInputs([{ topic: "in-0", partitions: [[{ value: 1, ts: 0 }], [{ value: 1, ts }]] }], plan)).toBe(
      `inputs[0].partitions[1][0].ts (topic "in-0") must be a finite integer >= 0, got ${ts}`,
    );
  });
});
