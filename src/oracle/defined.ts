/**
 * Which results a plan defines.
 *
 * Legitimate nondeterminism (the interleaving of partitions and channels) is not a failure, so the
 * checkers compare only what no interleaving changes. This module works that out from the plan
 * alone, node by node, as a "flow" property of each node's output:
 *
 * - mode "multiset": the multiset of records is defined (stateless paths, windows, dedupe,
 *   bucketSum, and stateless operators after them);
 * - mode "running": running aggregates (reduce, runningCount, possibly followed by maps): per key
 *   (the record's `key` field) the number of emissions is defined, and each origin's final value
 *   (where the reference can tell it) must be among the committed values;
 * - mode "undefined": anything else (a keyed operator or a filter/flatMap consuming running
 *   values, a reduce whose emitted key field depends on arrival order ...), with a reason.
 *
 * Two more properties decide what an at-least-once run can be checked for (no-loss): whether the
 * set of distinct records survives duplicated input (`dupInsensitive`), and whether the set of
 * record keys does (`keysStable`). DESIGN.md: "What duplicates can change is no basis for a
 * no-loss check."
 *
 * Unknown functions (user closures, names that are not builtins) are classified conservatively:
 * stateless user functions keep the mode of their input; a user process function, window
 * aggregate or reduce function is taken at its word (`userDefined: true`: the user asserts its
 * result is defined, e.g. that a reduce is commutative).
 */
import type { Edge, FnRef, Plan, PlanNode } from "../engine/plan/plan.ts";
import { builtins } from "../engine/plan/registry.ts";
import { assert } from "../sim/assert.ts";

export type SinkMode = "multiset" | "running" | "undefined";

/**
 * What a no-loss check may demand of an at-least-once run: every distinct expected record
 * ("records"), every expected record key ("keys"), or nothing ("none").
 */
export type NoLossLevel = "records" | "keys" | "none";

/** Properties of the records on one node's output (or input). */
export type Flow = {
  readonly mode: SinkMode;
  /** Why the mode is "undefined" (null otherwise). */
  readonly reason: string | null;
  /** A user function on the path is taken at its word. */
  readonly userDefined: boolean;
  /** The set of distinct records is the same when the input is duplicated (at-least-once replays). */
  readonly dupInsensitive: boolean;
  /**
   * Every distinct record the reference expects still appears when the input is replayed at least
   * once, though new distinct records may appear too. A window is the difference: a restore can
   * replay part of a window that had already fired and been purged in the restored state, so the
   * window fires again with a partial aggregate, a new distinct record (not dupInsensitive); its
   * full aggregate was still committed once (it survives). An aggregate over such records (a
   * window over a window's output) no longer survives: the partial value can change it.
   */
  readonly survives: boolean;
  /** The set of record keys (`key` fields) is the same when the input is duplicated. */
  readonly keysStable: boolean;
  /**
   * Running records: each origin (reducer and key) reaches here over one FIFO path, so the last
   * record of an origin is its final value. Always true for records that are not running.
   */
  readonly keyOrder: boolean;
  /** Running records: every record of one origin has the same `key` field. */
  readonly keyFieldPerOrigin: boolean;
  /**
   * Every record's timestamp is defined. False after dedupe: it keeps whichever duplicate arrives
   * first, and duplicates may carry different timestamps, so event-time operators after it
   * (windows, bucketSum) give order-dependent results.
   */
  readonly timestampsDefined: boolean;
};

export type NodeFlow = {
  readonly node: PlanNode;
  /** The union of the node's inputs (null for sources). */
  readonly input: Flow | null;
  readonly output: Flow;
};

/** The classification of one sink's input. */
export type SinkClass = {
  readonly vertex: string;
  readonly mode: SinkMode;
  /** Why the mode is "undefined" (null otherwise). */
  readonly reason: string | null;
  /** A user function on the path is taken at its word (e.g. a user process function). */
  readonly userDefined: boolean;
  /** What a no-loss check may demand of this sink. */
  readonly noLoss: NoLossLevel;
  /** Running sinks: the last value per key reaching the sink is the final one (upsert tables). */
  readonly lastIsFinal: boolean;
};

const SOURCE_FLOW: Flow = {
  mode: "multiset",
  reason: null,
  userDefined: false,
  dupInsensitive: true,
  survives: true,
  keysStable: true,
  keyOrder: true,
  keyFieldPerOrigin: true,
  timestampsDefined: true,
};

/** Builtin names by kind that the classification knows. */
const KEY_PRESERVING_MAPS: ReadonlySet<string> = new Set(["identity", "affine", "abs", "rekey"]);
const IDEMPOTENT_REDUCE_FNS: ReadonlySet<string> = new Set(["minValue", "maxValue"]);
const IDEMPOTENT_AGGREGATES: ReadonlySet<string> = new Set(["min", "max"]);

/** A builtin of the given kind (not a user function registered or shadowed under another name). */
export function isBuiltin(kind: "map" | "filter" | "flatMap" | "key" | "reduce" | "aggregate" | "process", ref: FnRef | undefined): boolean {
  return ref !== undefined && builtins.has(kind, ref.fn);
}

/** The edge's key selector reads the records' `key` field (builtin `field` with name "key"). */
export function keysByKeyField(edge: Edge): boolean {
  if (edge.key === undefined || edge.key.fn !== "field" || !isBuiltin("key", edge.key)) return false;
  const name = edge.key.args?.["name"];
  return name === undefined || name === "key";
}

/** A reduce, min or max whose final value duplicates of its input cannot change. */
export function isIdempotentReduce(node: PlanNode): boolean {
  if (node.kind !== "reduce") return false;
  if (node.agg !== undefined) return node.agg === "min" || node.agg === "max";
  return node.fn !== undefined && isBuiltin("reduce", node.fn) && IDEMPOTENT_REDUCE_FNS.has(node.fn.fn);
}

const label = (n: PlanNode): string => `${n.kind} "${n.id}"`;

function undefinedFlow(reason: string, base: Flow): Flow {
  return { ...base, mode: "undefined", reason, dupInsensitive: false, survives: false, keysStable: false };
}

/** Per-origin order survives an edge into `node` (one FIFO channel per origin). */
function edgeKeepsOrder(edge: Edge, node: PlanNode, from: Flow): boolean {
  if (from.mode !== "running") return true;
  if (!from.keyOrder) return false;
  if (node.parallelism === 1) return true;
  if (edge.partition === "forward") return true;
  if (edge.partition === "hash") return keysByKeyField(edge) && from.keyFieldPerOrigin;
  return false; // rebalance spreads an origin over channels; broadcast interleaves copies
}

/** The union of a node's inputs. */
function combine(node: PlanNode, flows: ReadonlyMap<string, NodeFlow>): Flow {
  assert(node.inputs.length > 0, `${label(node)} has no inputs`);
  let mode: SinkMode = "multiset";
  let reason: string | null = null;
  let userDefined = false;
  let dupInsensitive = true;
  let survives = true;
  let keysStable = true;
  let keyOrder = true;
  let keyFieldPerOrigin = true;
  let timestampsDefined = true;
  for (const e of node.inputs) {
    const up = flows.get(e.from);
    assert(up !== undefined, `${label(node)} reads "${e.from}", which is not an earlier node of the plan`);
    const f = up.output;
    if (f.mode === "undefined" && mode !== "undefined") {
      mode = "undefined";
      reason = f.reason;
    } else if (f.mode === "running" && mode === "multiset") {
      mode = "running";
    }
    userDefined ||= f.userDefined;
    dupInsensitive &&= f.dupInsensitive;
    survives &&= f.survives;
    keysStable &&= f.keysStable;
    keyOrder &&= edgeKeepsOrder(e, node, f);
    keyFieldPerOrigin &&= f.keyFieldPerOrigin;
    timestampsDefined &&= f.timestampsDefined;
  }
  return { mode, reason, userDefined, dupInsensitive, survives, keysStable, keyOrder, keyFieldPerOrigin, timestampsDefined };
}

/** A keyed operator's output when its input is not a multiset (null when it is). */
function keyedOnRunning(node: PlanNode, input: Flow): Flow | null {
  return input.mode === "multiset"
    ? null
    : undefinedFlow(
        input.mode === "running"
          ? `keyed ${label(node)} consumes running values, whose intermediate values depend on arrival order`
          : (input.reason ?? `the input of ${label(node)} is not defined`),
        input,
      );
}

function nodeOutput(node: PlanNode, input: Flow): Flow {
  const allByKeyField = node.inputs.every(keysByKeyField);
  switch (node.kind) {
    case "source":
      return SOURCE_FLOW;
    case "sink":
      return input;
    case "map": {
      if (input.mode === "undefined") return input;
      const known = isBuiltin("map", node.fn) && KEY_PRESERVING_MAPS.has(node.fn.fn);
      return {
        ...input,
        userDefined: input.userDefined || (!known && input.mode === "running"),
        keysStable: input.dupInsensitive || (input.keysStable && known),
        keyFieldPerOrigin: input.keyFieldPerOrigin && known,
      };
    }
    case "filter":
    case "flatMap": {
      if (input.mode === "undefined") return input;
      if (input.mode === "running")
        return undefinedFlow(`${label(node)} after running values: which intermediate values it keeps depends on arrival order`, input);
      const total =
        (node.kind === "filter" && node.fn.fn === "all" && isBuiltin("filter", node.fn)) ||
        (node.kind === "flatMap" && node.fn.fn === "explode" && isBuiltin("flatMap", node.fn) && explodeCount(node.fn) >= 1);
      return { ...input, keysStable: input.dupInsensitive || (input.keysStable && total) };
    }
    case "reduce": {
      const bad = keyedOnRunning(node, input);
      if (bad !== null) return bad;
      const userFn = node.fn !== undefined && !isBuiltin("reduce", node.fn);
      if (node.agg === undefined && !allByKeyField)
        return undefinedFlow(
          `reduce "${node.id}" with a reduce function keeps the first record's fields, and it is keyed by something other than the records' key field, so the key field of its output depends on arrival order`,
          input,
        );
      return {
        mode: "running",
        reason: null,
        userDefined: input.userDefined || userFn,
        dupInsensitive: false,
        survives: false,
        keysStable: input.keysStable,
        keyOrder: true,
        keyFieldPerOrigin: allByKeyField,
        timestampsDefined: input.timestampsDefined,
      };
    }
    case "process": {
      const bad = keyedOnRunning(node, input);
      if (bad !== null) return bad;
      const builtin = isBuiltin("process", node.fn);
      const keysFromKey = input.dupInsensitive || (input.keysStable && allByKeyField);
      if (builtin && node.fn.fn === "runningCount")
        return { ...input, mode: "running", dupInsensitive: false, survives: false, keysStable: keysFromKey, keyOrder: true, keyFieldPerOrigin: true };
      if (builtin && node.fn.fn === "dedupe") return { ...input, timestampsDefined: false };
      if (builtin && node.fn.fn === "bucketSum")
        return input.timestampsDefined
          ? { ...input, dupInsensitive: false, survives: false, keysStable: keysFromKey }
          : undefinedFlow(`${label(node)} buckets by event time, but its input's timestamps depend on arrival order (after dedupe)`, input);
      return { ...input, userDefined: true, dupInsensitive: false, survives: false, keysStable: false };
    }
    case "window": {
      const bad = keyedOnRunning(node, input);
      if (bad !== null) return bad;
      if (!input.timestampsDefined)
        return undefinedFlow(`${label(node)} assigns windows by event time, but its input's timestamps depend on arrival order (after dedupe)`, input);
      const builtin = isBuiltin("aggregate", node.aggregate);
      const idempotent = builtin && IDEMPOTENT_AGGREGATES.has(node.aggregate.fn);
      return {
        ...input,
        userDefined: input.userDefined || !builtin,
        // Replays after a restore can refire a window with part of its records (see Flow.survives).
        dupInsensitive: false,
        survives: input.dupInsensitive && idempotent,
        keysStable: builtin && (input.dupInsensitive || (input.keysStable && allByKeyField)),
      };
    }
  }
}

function explodeCount(ref: FnRef): number {
  const n = ref.args?.["n"];
  return typeof n === "number" ? n : 2;
}

/** The flow of every node of the plan (inputs and output), in plan order. */
export function analyze(plan: Plan): Map<string, NodeFlow> {
  const flows = new Map<string, NodeFlow>();
  for (const node of plan.nodes) {
    const input = node.kind === "source" ? null : combine(node, flows);
    const output = nodeOutput(node, input ?? SOURCE_FLOW);
    flows.set(node.id, { node, input, output });
  }
  return flows;
}

function noLossLevel(f: Flow): NoLossLevel {
  if (f.mode === "undefined") return "none";
  if (f.survives) return "records";
  return f.keysStable ? "keys" : "none";
}

/** The classification of every sink of the plan, in plan order. */
export function classify(plan: Plan): SinkClass[] {
  return classifyFlows(plan, analyze(plan));
}

/** classify, from the plan's flows (analyze) when the caller has them already. */
export function classifyFlows(plan: Plan, flows: ReadonlyMap<string, NodeFlow>): SinkClass[] {
  const out: SinkClass[] = [];
  for (const node of plan.nodes) {
    if (node.kind !== "sink") continue;
    const f = flows.get(node.id)?.output;
    assert(f !== undefined, `sink "${node.id}" has no flow`);
    out.push({
      vertex: node.id,
      mode: f.mode,
      reason: f.mode === "undefined" ? (f.reason ?? "not defined") : null,
      userDefined: f.userDefined,
      noLoss: noLossLevel(f),
      lastIsFinal: f.mode === "running" && f.keyOrder,
    });
  }
  return out;
}
