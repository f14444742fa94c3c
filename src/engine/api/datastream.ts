/**
 * Flink's DataStream API over plans: DataStream, SingleOutputStreamOperator, KeyedStream,
 * WindowedStream and DataStreamSink. Each call records a node of the plan (see plan-builder.ts);
 * nothing runs until the environment executes the job.
 *
 * Records are JSON values. The builtin aggregations read a numeric field of object records
 * (`value` unless told otherwise), as the builtin functions of the registry do.
 */
import type { AggregateFunction, Value } from "../plan/functions.ts";
import type { FnRef, WindowAssigner } from "../plan/plan.ts";
import type { Sink } from "./connectors.ts";
import { ApiError } from "./errors.ts";
import type {
  AggregateFunctionSpec,
  FilterFunctionSpec,
  FlatMapFunctionSpec,
  FunctionRegistrar,
  KeyedProcessFunctionSpec,
  KeySelectorSpec,
  MapFunctionSpec,
  ReduceFunctionSpec,
} from "./functions.ts";
import { checkParallelism, type Draft, type DraftBody, type DraftEdge, type PlanBuilder } from "./plan-builder.ts";
import type { WatermarkStrategy } from "./watermarks.ts";

/** What streams share: the graph being built and the environment's function registrar. */
export type StreamContext = { readonly builder: PlanBuilder; readonly fns: FunctionRegistrar };

const checkName = (name: string, call: string): string => {
  if (typeof name !== "string" || name.trim().length === 0) throw new ApiError(`${call}: a name must be a non-empty string, got ${JSON.stringify(name)}`);
  return name;
};

const checkField = (field: string, call: string): string => {
  if (typeof field !== "string" || field.length === 0) throw new ApiError(`${call}: field must be a non-empty field name, got ${JSON.stringify(field)}`);
  return field;
};

/** A stream of records: the output of one or more operators, with the partitioning its consumers will use. */
export class DataStream {
  /** @internal */
  constructor(
    protected readonly ctx: StreamContext,
    /** @internal the edges a consumer of this stream gets */
    readonly edges: readonly DraftEdge[],
  ) {}

  protected op(body: DraftBody, defaultName: string, edges: readonly DraftEdge[] = this.edges): SingleOutputStreamOperator {
    const d = this.ctx.builder.add(body, edges, defaultName);
    return new SingleOutputStreamOperator(this.ctx, d);
  }

  private repartition(partition: DraftEdge["partition"]): DataStream {
    return new DataStream(
      this.ctx,
      this.edges.map((e) => ({ from: e.from, partition })),
    );
  }

  /** One output record per input record. */
  map(fn: MapFunctionSpec): SingleOutputStreamOperator {
    return this.op({ kind: "map", fn: this.ctx.fns.map(fn) }, "Map");
  }

  /** Keeps the records for which `fn` is true. */
  filter(fn: FilterFunctionSpec): SingleOutputStreamOperator {
    return this.op({ kind: "filter", fn: this.ctx.fns.filter(fn) }, "Filter");
  }

  /** Zero or more output records per input record (`fn` returns them as an array). */
  flatMap(fn: FlatMapFunctionSpec): SingleOutputStreamOperator {
    return this.op({ kind: "flatMap", fn: this.ctx.fns.flatMap(fn) }, "Flat Map");
  }

  /** Partitions the stream by key: a closure, a registry key selector `{ fn, args }`, or a field name. */
  keyBy(key: KeySelectorSpec): KeyedStream {
    const ref = this.ctx.fns.key(key);
    return new KeyedStream(
      this.ctx,
      this.edges.map((e) => ({ from: e.from, partition: "hash", key: ref })),
    );
  }

  /**
   * This stream and the others as one (no operator: the next operator reads all of them; each
   * input keeps its own partitioning, as in Flink).
   */
  union(...others: DataStream[]): DataStream {
    const edges = [...this.edges];
    for (const o of others) {
      if (o.ctx.builder !== this.ctx.builder) throw new ApiError("union: the streams belong to different StreamExecutionEnvironments");
      edges.push(...o.edges);
    }
    return new DataStream(this.ctx, edges);
  }

  /** Round-robin to every subtask of the next operator. */
  rebalance(): DataStream {
    return this.repartition("rebalance");
  }

  /** Subtask i to subtask i of the next operator (which needs the same parallelism). */
  forward(): DataStream {
    return this.repartition("forward");
  }

  /** Every record to every subtask of the next operator. */
  broadcast(): DataStream {
    return this.repartition("broadcast");
  }

  /**
   * Sets the watermarks of the source(s) this stream comes straight from. Limitation: timestamps
   * are the records' broker timestamps and watermarks are made by sources, so this must directly
   * follow `fromSource` / `fromCollection` (or a union of sources); elsewhere it throws. Pass the
   * strategy to `fromSource` to the same effect.
   */
  assignTimestampsAndWatermarks(strategy: WatermarkStrategy): this {
    const sources = this.edges.map((e) => e.from);
    if (!this.edges.every((e) => e.partition === "default" && e.from.body.kind === "source"))
      throw new ApiError(
        "assignTimestampsAndWatermarks: streamsim makes watermarks in sources only (per partition, as Flink's Kafka source); call it directly on the stream fromSource/fromCollection returns, or pass the WatermarkStrategy to fromSource",
      );
    for (const s of sources)
      if (s.body.kind === "source")
        s.body.watermark = strategy.outOfOrdernessMs === null ? undefined : { outOfOrdernessMs: strategy.outOfOrdernessMs };
    return this;
  }

  /** Writes the stream to a sink: `TwoPhaseCommitSink.topic(t)`, `UpsertSink.topic(t, key)` or `PlainSink.topic(t)`. */
  sinkTo(sink: Sink): DataStreamSink {
    if (typeof sink !== "object" || sink === null || typeof sink.topic !== "string")
      throw new ApiError("sinkTo: expected a sink such as TwoPhaseCommitSink.topic(\"out\"), UpsertSink.topic(\"out\", \"key\") or PlainSink.topic(\"out\")");
    const body: DraftBody =
      sink.kind === "upsert"
        ? { kind: "sink", sink: "upsert", topic: sink.topic, upsertKey: this.ctx.fns.key(sink.key ?? "key", "UpsertSink") }
        : { kind: "sink", sink: sink.kind, topic: sink.topic };
    const d = this.ctx.builder.add(body, this.edges, `Sink: ${sink.topic}`);
    return new DataStreamSink(d);
  }
}

function setUid(d: Draft, uid: string): void {
  checkName(uid, "uid");
  if (/[^A-Za-z0-9_.-]/.test(uid)) throw new ApiError(`uid: use letters, digits, '_', '-' and '.' only, got ${JSON.stringify(uid)}`);
  d.uid = uid;
}

function setCost(d: Draft, costMs: number): void {
  if (!(Number.isFinite(costMs) && costMs >= 0)) throw new ApiError(`setCostMsPerRecord: cost must be a finite number of ms >= 0, got ${costMs}`);
  d.costMsPerRecord = costMs;
}

/** The output of one operator: a DataStream whose operator can be named and configured. */
export class SingleOutputStreamOperator extends DataStream {
  /** @internal */
  constructor(
    ctx: StreamContext,
    private readonly draft: Draft,
  ) {
    super(ctx, [{ from: draft, partition: "default" }]);
  }
  /** The operator's display name; also its id in the plan when no uid is set. */
  name(name: string): this {
    this.draft.name = checkName(name, "name");
    return this;
  }
  /** The operator's id in the plan (fault plans, traces and reports name it). */
  uid(uid: string): this {
    setUid(this.draft, uid);
    return this;
  }
  setParallelism(parallelism: number): this {
    this.draft.parallelism = checkParallelism(parallelism, "setParallelism");
    return this;
  }
  /** Simulated processing cost of one record on this operator, in ms (default: the job's). */
  setCostMsPerRecord(costMs: number): this {
    setCost(this.draft, costMs);
    return this;
  }
}

/** A sink of the job. */
export class DataStreamSink {
  /** @internal */
  constructor(private readonly draft: Draft) {}
  /** The sink's display name; also its id in the plan when no uid is set (default id: the topic). */
  name(name: string): this {
    this.draft.name = checkName(name, "name");
    return this;
  }
  uid(uid: string): this {
    setUid(this.draft, uid);
    return this;
  }
  setParallelism(parallelism: number): this {
    this.draft.parallelism = checkParallelism(parallelism, "setParallelism");
    return this;
  }
  setCostMsPerRecord(costMs: number): this {
    setCost(this.draft, costMs);
    return this;
  }
}

/** A stream partitioned by key: keyed aggregations, process functions and windows. */
export class KeyedStream extends DataStream {
  private keyed(body: DraftBody, defaultName: string): SingleOutputStreamOperator {
    return this.op(body, defaultName);
  }

  /** A rolling reduce: emits the new aggregate of the record's key for every record. */
  reduce(fn: ReduceFunctionSpec): SingleOutputStreamOperator {
    return this.keyed({ kind: "reduce", fn: this.ctx.fns.reduce(fn) }, "Keyed Reduce");
  }
  /** A rolling sum of a numeric field (default "value"); the emitted record is the latest one with the field summed. */
  sum(field = "value"): SingleOutputStreamOperator {
    return this.keyed({ kind: "reduce", agg: "sum", field: checkField(field, "sum") }, "Keyed Aggregation");
  }
  /** A rolling minimum of a numeric field (default "value"). */
  min(field = "value"): SingleOutputStreamOperator {
    return this.keyed({ kind: "reduce", agg: "min", field: checkField(field, "min") }, "Keyed Aggregation");
  }
  /** A rolling maximum of a numeric field (default "value"). */
  max(field = "value"): SingleOutputStreamOperator {
    return this.keyed({ kind: "reduce", agg: "max", field: checkField(field, "max") }, "Keyed Aggregation");
  }
  /**
   * A KeyedProcessFunction with keyed state (ValueState, ListState, MapState from the context in
   * `open`) and event/processing-time timers: an instance, a class, a factory, or a registry reference.
   */
  process(fn: KeyedProcessFunctionSpec): SingleOutputStreamOperator {
    return this.keyed({ kind: "process", fn: this.ctx.fns.process(fn) }, "KeyedProcess");
  }
  /** Event-time windows per key. */
  window(assigner: WindowAssigner): WindowedStream {
    return new WindowedStream(this.ctx, this.edges, assigner);
  }
}

/** Windows of a keyed stream, evaluated when the watermark passes their end. */
export class WindowedStream {
  /** @internal */
  constructor(
    private readonly ctx: StreamContext,
    private readonly edges: readonly DraftEdge[],
    private readonly assigner: WindowAssigner,
  ) {}

  private add(aggregate: FnRef, what: string): SingleOutputStreamOperator {
    const a = this.assigner;
    const shape = a.kind === "tumbling" ? `TumblingEventTimeWindows(${a.sizeMs})` : `SlidingEventTimeWindows(${a.sizeMs}, ${a.slideMs})`;
    const d = this.ctx.builder.add({ kind: "window", assigner: this.assigner, aggregate }, this.edges, `Window(${shape}, ${what})`);
    return new SingleOutputStreamOperator(this.ctx, d);
  }

  /** Flink's AggregateFunction (createAccumulator, add, getResult(acc, key, window)), or a registry reference. */
  aggregate(fn: AggregateFunctionSpec): SingleOutputStreamOperator {
    return this.add(this.ctx.fns.aggregate(fn), "Aggregate");
  }

  /** Reduces each window's records to one: the window emits the reduced record. */
  reduce(fn: ReduceFunctionSpec): SingleOutputStreamOperator {
    const fns = this.ctx.fns;
    const reduceRef = fns.reduce(fn);
    const registry = fns.registry;
    const ref = fns.aggregateFactory((): AggregateFunction => {
      const combine = registry.resolve("reduce", reduceRef);
      return {
        createAccumulator: () => null,
        add: (v: Value, acc: Value) => (acc === null ? v : combine(acc, v)),
        getResult: (acc: Value) => acc,
      };
    });
    return this.add(ref, "Reduce");
  }

  private builtin(name: "sum" | "min" | "max" | "count", field: string): SingleOutputStreamOperator {
    checkField(field, name);
    if (field === "value") return this.add({ fn: name }, name);
    const ref = this.ctx.fns.aggregateFactory((): AggregateFunction => ({
      createAccumulator: () => null,
      add: (v: Value, acc: Value) => {
        const x = name === "count" ? 1 : ((v as Record<string, Value>)[field] as number);
        if (acc === null) return x;
        const a = acc as number;
        return name === "min" ? Math.min(a, x) : name === "max" ? Math.max(a, x) : a + x;
      },
      getResult: (acc: Value, key: string, w: { start: number; end: number }) => ({ key, value: (acc as number | null) ?? 0, windowStart: w.start, windowEnd: w.end }),
    }));
    return this.add(ref, name);
  }

  /** Per window and key: `{ key, value: sum of field, windowStart, windowEnd }` (field default "value"). */
  sum(field = "value"): SingleOutputStreamOperator {
    return this.builtin("sum", field);
  }
  /** Per window and key: `{ key, value: min of field, windowStart, windowEnd }`. */
  min(field = "value"): SingleOutputStreamOperator {
    return this.builtin("min", field);
  }
  /** Per window and key: `{ key, value: max of field, windowStart, windowEnd }`. */
  max(field = "value"): SingleOutputStreamOperator {
    return this.builtin("max", field);
  }
  /** Per window and key: `{ key, value: number of records, windowStart, windowEnd }`. */
  count(): SingleOutputStreamOperator {
    return this.builtin("count", "value");
  }
}
