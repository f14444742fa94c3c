/**
 * Operator implementations: stateless transforms, keyed reduce, keyed process functions, event-time
 * windows. Sources and sinks, which talk to the broker, are in connectors.ts.
 */
import type { Scheduler, SimNode } from "../../sim/scheduler.ts";
import type { JsonValue } from "../../sim/trace.ts";
import type {
  AggregateFunction,
  Collector,
  FilterFunction,
  FlatMapFunction,
  KeyedProcessFunction,
  KeySelector,
  MapFunction,
  ProcessContext,
  ReduceFunction,
  RuntimeContext,
  TimerService,
  Value,
} from "../plan/functions.ts";
import { MIN_WATERMARK } from "../plan/functions.ts";
import type { FilterNode, FlatMapNode, MapNode, ProcessNode, ReduceNode, WindowNode } from "../plan/plan.ts";
import type { Registry } from "../plan/registry.ts";
import type { KeyedStateEntry } from "../result.ts";
import { KeyedStateBackend, type KeyedSnapshot } from "../state/keyed.ts";
import type { Operator, Output } from "./operator.ts";

const noop = (done: (e?: string) => void): void => done();

export class MapOperator implements Operator {
  private readonly f: MapFunction;
  constructor(node: MapNode, registry: Registry, private readonly out: Output) {
    this.f = registry.resolve("map", node.fn);
  }
  restore(): void {}
  open = noop;
  processRecord(v: Value, ts: number): void {
    this.out.emit(this.f(v), ts);
  }
  processWatermark(): void {}
  endOfInput(): void {}
  snapshot(): JsonValue {
    return null;
  }
}

export class FilterOperator implements Operator {
  private readonly f: FilterFunction;
  constructor(node: FilterNode, registry: Registry, private readonly out: Output) {
    this.f = registry.resolve("filter", node.fn);
  }
  restore(): void {}
  open = noop;
  processRecord(v: Value, ts: number): void {
    if (this.f(v)) this.out.emit(v, ts);
  }
  processWatermark(): void {}
  endOfInput(): void {}
  snapshot(): JsonValue {
    return null;
  }
}

export class FlatMapOperator implements Operator {
  private readonly f: FlatMapFunction;
  constructor(node: FlatMapNode, registry: Registry, private readonly out: Output) {
    this.f = registry.resolve("flatMap", node.fn);
  }
  restore(): void {}
  open = noop;
  processRecord(v: Value, ts: number): void {
    for (const o of this.f(v)) this.out.emit(o, ts);
  }
  processWatermark(): void {}
  endOfInput(): void {}
  snapshot(): JsonValue {
    return null;
  }
}

/** Base of keyed operators: the key selector of the (hash) input and the state backend. */
abstract class KeyedOperator implements Operator {
  protected readonly backend = new KeyedStateBackend();
  constructor(
    protected readonly vertex: string,
    protected readonly key: KeySelector,
    protected readonly out: Output,
  ) {}
  restore(state: JsonValue): void {
    this.backend.restore((state as { keyed: KeyedSnapshot }).keyed);
  }
  open(done: (e?: string) => void): void {
    done();
  }
  abstract processRecord(v: Value, ts: number): void;
  processWatermark(_wm: number): void {}
  endOfInput(): void {}
  snapshot(): JsonValue {
    return { keyed: this.backend.snapshot() as unknown as JsonValue };
  }
  finalState(): KeyedStateEntry[] {
    return this.backend.entries(this.vertex);
  }
}

export class ReduceOperator extends KeyedOperator {
  private readonly combine: ReduceFunction;
  constructor(node: ReduceNode, key: KeySelector, registry: Registry, out: Output) {
    super(node.id, key, out);
    if (node.fn !== undefined) this.combine = registry.resolve("reduce", node.fn);
    else {
      const field = node.field ?? "value";
      const agg = node.agg ?? "sum";
      const get = (v: Value): number => (v as Record<string, number>)[field] as number;
      // Through locals, not `this.combine = (a, b) => ...` (see `oldGenerationShapes` in eslint.config.js).
      const combine: ReduceFunction = (a, b) => {
        const x = get(a);
        const y = agg === "count" ? 1 : get(b);
        const r = agg === "sum" || agg === "count" ? x + y : agg === "min" ? Math.min(x, y) : Math.max(x, y);
        return { ...(b as Record<string, Value>), [field]: r };
      };
      this.combine = combine;
      if (agg === "count") {
        const first = (v: Value): Value => ({ ...(v as Record<string, Value>), [field]: 1 });
        this.first = first;
      }
    }
  }
  private first: (v: Value) => Value = (v) => v;
  /** State handles read the current key when called, so one handle serves every record. */
  private readonly st = this.backend.valueState<Value>("reduce");
  /** The running value after `v` (made once: passed to `merge` for every record). */
  private readonly reduceInto = (prev: Value | undefined, v: Value): Value => (prev === undefined ? this.first(v) : this.combine(prev, v));
  processRecord(v: Value, ts: number): void {
    this.backend.currentKey = this.key(v);
    // Read and update the key's running value with one state lookup.
    this.out.emit(this.st.merge(v, this.reduceInto), ts);
  }
}

/** Runs a KeyedProcessFunction with keyed state and event/processing-time timers. */
/**
 * The context a process function sees while a record is processed: the operator's current timestamp
 * and key. A class, not an object literal with getters (see `oldGenerationShapes` in eslint.config.js).
 */
class LiveProcessContext implements ProcessContext {
  constructor(
    private readonly op: { readonly currentTimestamp: number },
    private readonly keys: { readonly currentKey: string },
    readonly timerService: TimerService,
  ) {}
  get timestamp(): number {
    return this.op.currentTimestamp;
  }
  get currentKey(): string {
    return this.keys.currentKey;
  }
}

export class ProcessOperator extends KeyedOperator {
  private readonly fn: KeyedProcessFunction;
  private watermark = MIN_WATERMARK;
  private currentTs = 0;
  private readonly collector: Collector;
  private readonly timerService: TimerService;
  private readonly ctx: ProcessContext;

  constructor(
    node: ProcessNode,
    key: KeySelector,
    registry: Registry,
    out: Output,
    private readonly rt: { subtask: number; parallelism: number; scheduler: Scheduler; owner: SimNode; enqueue: (a: () => void) => void },
  ) {
    super(node.id, key, out);
    this.fn = registry.resolve("process", node.fn);
    this.collector = { collect: (v, ts) => this.out.emit(v, ts ?? this.currentTs) };
    const b = this.backend;
    this.timerService = {
      currentWatermark: () => this.watermark,
      currentProcessingTime: () => rt.scheduler.now,
      registerEventTimeTimer: (t) => b.registerEventTimer(t),
      deleteEventTimeTimer: (t) => b.deleteEventTimer(t),
      registerProcessingTimeTimer: (t) => {
        if (b.registerProcessingTimer(t)) this.armProcessingTimer({ ts: t, key: b.currentKey });
      },
      deleteProcessingTimeTimer: (t) => b.deleteProcessingTimer(t),
    };
    this.ctx = new LiveProcessContext(this, b, this.timerService);
  }

  /** The timestamp of the record or timer being processed. */
  get currentTimestamp(): number {
    return this.currentTs;
  }

  override open(done: (e?: string) => void): void {
    const b = this.backend;
    const ctx: RuntimeContext = {
      getState: (n) => b.valueState(n),
      getListState: (n) => b.listState(n),
      getMapState: (n) => b.mapState(n),
      subtaskIndex: this.rt.subtask,
      parallelism: this.rt.parallelism,
    };
    try {
      this.fn.open?.(ctx);
    } catch (e) {
      return done(`open of process function failed: ${(e as Error).message}`);
    }
    for (const t of b.processingTimerList()) this.armProcessingTimer(t);
    done();
  }

  private armProcessingTimer(t: { ts: number; key: string }): void {
    const delay = Math.max(0, t.ts - this.rt.scheduler.now);
    this.rt.scheduler.schedule(delay, () => {
      this.rt.enqueue(() => {
        if (!this.backend.hasProcessingTimer(t)) return;
        this.backend.removeProcessingTimer(t);
        this.backend.currentKey = t.key;
        this.currentTs = t.ts;
        this.fn.onTimer?.(t.ts, { ...this.ctxFor(), timeDomain: "processing" }, this.collector);
      });
    }, this.rt.owner);
  }

  private ctxFor(): ProcessContext {
    return { timestamp: this.currentTs, currentKey: this.backend.currentKey, timerService: this.timerService };
  }

  processRecord(v: Value, ts: number): void {
    this.backend.currentKey = this.key(v);
    this.currentTs = ts;
    this.fn.processElement(v, this.ctx, this.collector);
  }

  override processWatermark(wm: number): void {
    this.watermark = wm;
    for (let guard = 0; guard < 1_000_000; guard++) {
      const t = this.backend.pollEventTimer(wm);
      if (t === undefined) return;
      this.backend.currentKey = t.key;
      this.currentTs = t.ts;
      this.fn.onTimer?.(t.ts, { ...this.ctxFor(), timeDomain: "event" }, this.collector);
    }
    throw new Error("event-time timers kept re-registering at or below the watermark (more than 1,000,000 firings)");
  }
}

/**
 * Event-time windows (tumbling and sliding) with an aggregate function. Window contents live in
 * keyed MapState "windows" (window start -> accumulator); an event-time timer at end-1 fires each.
 */
export class WindowOperator extends KeyedOperator {
  private readonly agg: AggregateFunction;
  private readonly size: number;
  private readonly slide: number;
  private watermark = MIN_WATERMARK;

  constructor(node: WindowNode, key: KeySelector, registry: Registry, out: Output) {
    super(node.id, key, out);
    this.agg = registry.resolve("aggregate", node.aggregate);
    this.size = node.assigner.sizeMs;
    this.slide = node.assigner.kind === "tumbling" ? node.assigner.sizeMs : node.assigner.slideMs;
  }

  private readonly windows = this.backend.mapState<Value>("windows");

  processRecord(v: Value, ts: number): void {
    this.backend.currentKey = this.key(v);
    const windows = this.windows;
    const lastStart = ts - (((ts % this.slide) + this.slide) % this.slide);
    for (let start = lastStart; start > ts - this.size; start -= this.slide) {
      const end = start + this.size;
      if (end - 1 <= this.watermark) continue; // late for this window: dropped, as Flink does
      const k = String(start);
      const acc = windows.get(k);
      windows.put(k, this.agg.add(v, acc === undefined ? this.agg.createAccumulator() : acc));
      this.backend.registerEventTimer(end - 1);
    }
  }

  override processWatermark(wm: number): void {
    this.watermark = wm;
    for (let guard = 0; guard < 10_000_000; guard++) {
      const t = this.backend.pollEventTimer(wm);
      if (t === undefined) return;
      this.backend.currentKey = t.key;
      const windows = this.windows;
      const start = t.ts + 1 - this.size;
      const k = String(start);
      const acc = windows.get(k);
      if (acc === undefined) continue;
      windows.remove(k);
      this.out.emit(this.agg.getResult(acc, t.key, { start, end: start + this.size }), t.ts);
    }
  }
}
