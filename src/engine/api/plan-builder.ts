/**
 * The graph the DataStream API records, and its translation into a plan (data).
 *
 * Streams record drafts of plan nodes in the order the pipeline is built, which is a topological
 * order (a node's inputs exist before it). `build` resolves what Flink resolves when it makes the
 * job graph:
 * - only nodes that lead to a sink are part of the job (a stream nobody sinks is dropped);
 * - parallelism: the operator's own, else the environment's;
 * - partitioning: an edge without an explicit one is `forward` between equal parallelisms and
 *   `rebalance` otherwise (Flink's default);
 * - ids: the operator's `uid`, else its `name`, else (sinks) its topic, else `<kind>-<n>` with n
 *   the creation order; made file- and trace-friendly and unique (`-2`, `-3` ... on a clash).
 */
import type { JsonValue } from "../../sim/trace.ts";
import { canonicalJson } from "../../sim/trace.ts";
import type {
  Edge,
  FnRef,
  InputRecord,
  Inputs,
  Partitioning,
  Plan,
  PlanNode,
  ReduceAgg,
  SinkKind,
  WindowAssigner,
} from "../plan/plan.ts";
import type { Registry } from "../plan/registry.ts";
import { MAX_PARALLELISM, validatePlan } from "../plan/validate.ts";
import { ApiError } from "./errors.ts";

export type DraftEdge = {
  readonly from: Draft;
  /** "default": forward between equal parallelisms, rebalance otherwise. */
  readonly partition: Partitioning | "default";
  readonly key?: FnRef;
};

/** Kind-specific fields of a draft, as in the plan node. */
export type DraftBody =
  | { readonly kind: "source"; readonly topic: string; watermark: { readonly outOfOrdernessMs: number } | undefined }
  | { readonly kind: "map" | "filter" | "flatMap" | "process"; readonly fn: FnRef }
  | { readonly kind: "reduce"; readonly agg?: ReduceAgg; readonly field?: string; readonly fn?: FnRef }
  | { readonly kind: "window"; readonly assigner: WindowAssigner; readonly aggregate: FnRef }
  | { readonly kind: "sink"; readonly sink: SinkKind; readonly topic: string; readonly upsertKey?: FnRef };

export type Draft = {
  /** Creation order, from 1. */
  readonly seq: number;
  readonly builder: PlanBuilder;
  readonly body: DraftBody;
  readonly inputs: readonly DraftEdge[];
  readonly defaultName: string;
  uid: string | undefined;
  name: string | undefined;
  parallelism: number | undefined;
  costMsPerRecord: number | undefined;
};

/** Source records per draft (null: none given). */
type SourceData = ReadonlyArray<readonly InputRecord[]> | null;

/** A character set ids keep: letters, digits, '_', '-', '.'; anything else becomes '-'. */
export function slug(s: string): string {
  const out = s.trim().replace(/[^A-Za-z0-9_.-]+/g, "-").replace(/^-+|-+$/g, "");
  return out.length === 0 ? "node" : out;
}

export function checkParallelism(n: number, call: string): number {
  if (!(Number.isInteger(n) && n >= 1 && n <= MAX_PARALLELISM))
    throw new ApiError(`${call}: parallelism must be an integer from 1 to ${MAX_PARALLELISM}, got ${n}`);
  return n;
}

export class PlanBuilder {
  private readonly drafts: Draft[] = [];
  private readonly sourceData = new Map<Draft, SourceData>();

  add(body: DraftBody, inputs: readonly DraftEdge[], defaultName: string): Draft {
    for (const e of inputs)
      if (e.from.builder !== this) throw new ApiError("a stream of another StreamExecutionEnvironment cannot be used here; build the whole pipeline on one environment");
    const d: Draft = {
      seq: this.drafts.length + 1,
      builder: this,
      body,
      inputs,
      defaultName,
      uid: undefined,
      name: undefined,
      parallelism: undefined,
      costMsPerRecord: undefined,
    };
    this.drafts.push(d);
    return d;
  }

  addSource(topic: string, data: SourceData, name: string | undefined, outOfOrdernessMs: number | null): Draft {
    const d = this.add({ kind: "source", topic, watermark: outOfOrdernessMs === null ? undefined : { outOfOrdernessMs } }, [], name ?? "Source");
    d.name = name;
    this.sourceData.set(d, data);
    return d;
  }

  /** The drafts that lead to a sink, in creation order. */
  private included(): Draft[] {
    const keep = new Set<Draft>();
    const stack = this.drafts.filter((d) => d.body.kind === "sink");
    if (stack.length === 0)
      throw new ApiError("the pipeline has no sink, so there is nothing to execute; end it with sinkTo(TwoPhaseCommitSink.topic(...)) or another sink");
    // Every draft is pushed at most once per input edge: bounded by the number of edges.
    while (stack.length > 0) {
      const d = stack.pop() as Draft;
      if (keep.has(d)) continue;
      keep.add(d);
      for (const e of d.inputs) stack.push(e.from);
    }
    return this.drafts.filter((d) => keep.has(d));
  }

  private ids(drafts: readonly Draft[]): Map<Draft, string> {
    const ids = new Map<Draft, string>();
    const used = new Set<string>();
    for (const d of drafts) {
      if (d.uid === undefined) continue;
      if (used.has(d.uid)) throw new ApiError(`uid "${d.uid}" is given to two operators; uids must be unique within a job`);
      used.add(d.uid);
      ids.set(d, d.uid);
    }
    for (const d of drafts) {
      if (ids.has(d)) continue;
      const base = d.name !== undefined ? slug(d.name) : d.body.kind === "sink" ? slug(d.body.topic) : `${d.body.kind}-${d.seq}`;
      let id = base;
      for (let k = 2; used.has(id); k++) id = `${base}-${k}`;
      used.add(id);
      ids.set(d, id);
    }
    return ids;
  }

  /** The plan and its input; throws an ApiError when the pipeline is not a valid plan. */
  build(defaultParallelism: number, registry: Registry): { plan: Plan; inputs: Inputs } {
    const drafts = this.included();
    const ids = this.ids(drafts);
    const par = (d: Draft): number => d.parallelism ?? defaultParallelism;
    const nodes: PlanNode[] = drafts.map((d) => {
      const inputs: Edge[] = d.inputs.map((e) => {
        const from = ids.get(e.from) as string;
        const partition: Partitioning = e.partition !== "default" ? e.partition : par(e.from) === par(d) ? "forward" : "rebalance";
        return e.key === undefined ? { from, partition } : { from, partition, key: e.key };
      });
      const base = {
        id: ids.get(d) as string,
        kind: d.body.kind,
        name: d.name ?? d.defaultName,
        parallelism: par(d),
        inputs,
        ...(d.costMsPerRecord === undefined ? {} : { costMsPerRecord: d.costMsPerRecord }),
      };
      const b = d.body;
      switch (b.kind) {
        case "source":
          return { ...base, kind: "source", topic: b.topic, ...(b.watermark === undefined ? {} : { watermark: b.watermark }) };
        case "map":
        case "filter":
        case "flatMap":
        case "process":
          return { ...base, kind: b.kind, fn: b.fn } as PlanNode;
        case "reduce":
          return {
            ...base,
            kind: "reduce",
            ...(b.agg === undefined ? {} : { agg: b.agg }),
            ...(b.field === undefined ? {} : { field: b.field }),
            ...(b.fn === undefined ? {} : { fn: b.fn }),
          };
        case "window":
          return { ...base, kind: "window", assigner: b.assigner, aggregate: b.aggregate };
        case "sink":
          return { ...base, kind: "sink", sink: b.sink, topic: b.topic, ...(b.upsertKey === undefined ? {} : { upsertKey: b.upsertKey }) };
      }
    });
    const plan: Plan = { nodes };
    const problem = validatePlan(plan, registry);
    if (problem !== undefined) throw new ApiError(`the pipeline is not a valid job: ${problem}`);
    return { plan, inputs: this.inputs(drafts) };
  }

  /** Every source topic once, with its records (one empty partition when none were given). */
  private inputs(drafts: readonly Draft[]): Inputs {
    const topics: string[] = [];
    const data = new Map<string, { data: SourceData; by: Draft }>();
    for (const d of drafts) {
      if (d.body.kind !== "source") continue;
      const mine = this.sourceData.get(d) ?? null;
      const seen = data.get(d.body.topic);
      if (seen === undefined) {
        topics.push(d.body.topic);
        data.set(d.body.topic, { data: mine, by: d });
      } else if (mine !== null) {
        if (seen.data === null) data.set(d.body.topic, { data: mine, by: d });
        else if (canonicalJson(seen.data as unknown as JsonValue) !== canonicalJson(mine as unknown as JsonValue))
          throw new ApiError(`topic "${d.body.topic}" is given different records by two sources; give the records once, on one of them`);
      }
    }
    return topics.map((topic) => ({ topic, partitions: data.get(topic)?.data ?? [[]] }));
  }
}
