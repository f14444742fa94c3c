/**
 * The logical pipeline as data.
 *
 * A plan is a DAG of nodes listed in topological order (every edge points to an earlier node).
 * Operator functions are referred to by name and arguments from the function registry
 * (`{ fn: "affine", args: { a: 3, b: 1 } }`), so a plan can be generated, shrunk, saved, diffed,
 * executed by the engine and interpreted by the oracle. Closures passed to the API are registered
 * in a per-environment registry under generated names (`closure:3`); such plans replay by seed
 * from the test that built them, not from a file alone.
 *
 * Partitioning lives on edges, as in Flink: `hash` edges carry the key selector (keyBy), and every
 * keyed operator (reduce, process, window) has hash input edges.
 */
import type { JsonValue } from "../../sim/trace.ts";

export type FnRef = { readonly fn: string; readonly args?: { readonly [k: string]: JsonValue } };

export type Partitioning = "forward" | "rebalance" | "hash" | "broadcast";

export type Edge = {
  readonly from: string;
  readonly partition: Partitioning;
  /** Key selector; required exactly when `partition` is "hash". */
  readonly key?: FnRef;
};

export type ReduceAgg = "sum" | "min" | "max" | "count";

export type WindowAssigner =
  | { readonly kind: "tumbling"; readonly sizeMs: number }
  | { readonly kind: "sliding"; readonly sizeMs: number; readonly slideMs: number };

export type SinkKind = "twoPhaseCommit" | "upsert" | "plain";

type NodeBase = {
  readonly id: string;
  /** Display name (Flink's `.name()`); defaults to the id. */
  readonly name?: string;
  readonly parallelism: number;
  readonly inputs: readonly Edge[];
  /** Simulated processing cost per record, in ms (default from the job config). */
  readonly costMsPerRecord?: number;
};

/** Reads a broker topic. Partition p of the topic is read by subtask p % parallelism. */
export type SourceNode = NodeBase & {
  readonly kind: "source";
  readonly topic: string;
  /** Bounded out-of-orderness watermarks, computed per partition (as Flink's Kafka source). */
  readonly watermark?: { readonly outOfOrdernessMs: number };
};
export type MapNode = NodeBase & { readonly kind: "map"; readonly fn: FnRef };
export type FilterNode = NodeBase & { readonly kind: "filter"; readonly fn: FnRef };
export type FlatMapNode = NodeBase & { readonly kind: "flatMap"; readonly fn: FnRef };
/**
 * Keyed rolling aggregation: emits the updated aggregate for every input record (Flink's
 * `KeyedStream.reduce/sum/min/max`). Builtin aggregations work on a numeric `field` of an object
 * record; `fn` names a registry reduce function instead.
 */
export type ReduceNode = NodeBase & {
  readonly kind: "reduce";
  readonly agg?: ReduceAgg;
  readonly field?: string;
  readonly fn?: FnRef;
};
/** Keyed process function from the registry, with keyed state and timers. */
export type ProcessNode = NodeBase & { readonly kind: "process"; readonly fn: FnRef };
/** Event-time window on a keyed stream, aggregated by a registry aggregate function. */
export type WindowNode = NodeBase & {
  readonly kind: "window";
  readonly assigner: WindowAssigner;
  readonly aggregate: FnRef;
};
export type SinkNode = NodeBase & {
  readonly kind: "sink";
  readonly sink: SinkKind;
  /** Output topic on the broker. */
  readonly topic: string;
  /** For upsert sinks: the key selector of the upsert table. */
  readonly upsertKey?: FnRef;
};

export type PlanNode = SourceNode | MapNode | FilterNode | FlatMapNode | ReduceNode | ProcessNode | WindowNode | SinkNode;
export type NodeKind = PlanNode["kind"];

export type Plan = { readonly nodes: readonly PlanNode[] };

/** Kinds whose inputs must be hash-partitioned (keyed operators). */
export const KEYED_KINDS: ReadonlySet<NodeKind> = new Set<NodeKind>(["reduce", "process", "window"]);

/** One input record on the broker: a JSON value and its event timestamp (ms). */
export type InputRecord = { readonly value: JsonValue; readonly ts: number };

/** The job's input: each topic's partitions, each a list of records in offset order. */
export type Inputs = ReadonlyArray<{ readonly topic: string; readonly partitions: ReadonlyArray<readonly InputRecord[]> }>;

export function nodeById(plan: Plan, id: string): PlanNode | undefined {
  return plan.nodes.find((n) => n.id === id);
}

/** Downstream consumers of each node, in plan order. */
export function consumersOf(plan: Plan): Map<string, Array<{ node: PlanNode; edge: Edge }>> {
  const out = new Map<string, Array<{ node: PlanNode; edge: Edge }>>();
  for (const n of plan.nodes) out.set(n.id, []);
  for (const n of plan.nodes) for (const e of n.inputs) out.get(e.from)?.push({ node: n, edge: e });
  return out;
}
