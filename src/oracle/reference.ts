/**
 * The reference interpreter: a direct, single-threaded evaluation of a plan over its whole input,
 * with no checkpoints, no faults and no parallelism. It shares no code with the engine's runtime
 * (DESIGN.md: the checker must not share the engine's bugs); it drives the same registry functions
 * with its own keyed state and timer service.
 *
 * Semantics (Flink's, as the engine implements them):
 * - a source yields every record of every partition of its topic, partition by partition;
 * - map/filter/flatMap apply the registry function; the output keeps the input's timestamp;
 * - partitioning does not change the result, except broadcast: a node of parallelism p behind a
 *   broadcast edge processes every record p times;
 * - keyed operators process their input in a canonical order (timestamp, then arrival index);
 * - event-time timers and windows fire at end of input (the engine's final MAX watermark; with no
 *   late data, firing them earlier gives the same results), in (timestamp, key) order; a firing
 *   timer may register more timers; processing-time timers fire after them, at end of input too;
 * - a window result carries timestamp end - 1, one per (key, window).
 *
 * Running aggregates are tagged with their origin (operator and key) so that the checkers can
 * compare what no interleaving changes: per key the number of emissions and the final value.
 */
import { canonicalJson } from "../sim/trace.ts";
import type { JsonValue } from "../sim/trace.ts";
import type { KeyedStateEntry } from "../engine/result.ts";
import type { Edge, FnRef, Inputs, Plan, PlanNode, SinkKind, WindowAssigner } from "../engine/plan/plan.ts";
import type {
  Collector,
  KeyedProcessFunction,
  KeySelector,
  ListState,
  MapState,
  ProcessContext,
  RuntimeContext,
  TimerService,
  ValueState,
} from "../engine/plan/functions.ts";
import { MAX_WATERMARK, MIN_WATERMARK } from "../engine/plan/functions.ts";
import type { Registry } from "../engine/plan/registry.ts";
import { builtins } from "../engine/plan/registry.ts";
import { assert } from "../sim/assert.ts";
import { analyze, classifyFlows, isBuiltin, isIdempotentReduce } from "./defined.ts";
import type { Flow, NoLossLevel, SinkClass, SinkMode } from "./defined.ts";

/** The plan or its input cannot be interpreted (a missing topic, a record a builtin cannot read). */
export class InterpretError extends Error {
  override readonly name = "InterpretError";
}

/** Running sinks: what the plan defines for one key (the records' `key` field). */
export type RunningKeyExpectation = {
  readonly key: string;
  /** Number of records with this key the sink receives. */
  readonly count: number;
  /**
   * Records that must be among the key's committed records (a multiset): the final value of each
   * origin whose final value is defined, and every record that is not a running value.
   */
  readonly mustInclude: readonly JsonValue[];
  /** The part of mustInclude that duplicated input cannot change (finals of min/max on a stateless path). */
  readonly idempotentFinals: readonly JsonValue[];
};

/** Upsert sinks: one row of the expected final table. */
export type UpsertRowExpectation = {
  readonly key: string;
  /** Whether the plan defines the row's final value (otherwise only the key's presence is). */
  readonly defined: boolean;
  /** The final value when defined (null otherwise). */
  readonly value: JsonValue;
  /** Why the value is not defined (null when it is). */
  readonly reason: string | null;
};

export type SinkExpectation = {
  readonly vertex: string;
  readonly topic: string;
  readonly kind: SinkKind;
  readonly mode: SinkMode;
  /** Why the mode is "undefined" (null otherwise). */
  readonly reason: string | null;
  readonly userDefined: boolean;
  /** What a no-loss check may demand of this sink. */
  readonly noLoss: NoLossLevel;
  /** The expected records (a multiset; in the reference's order). */
  readonly records: readonly JsonValue[];
  /** Running sinks: per key expectations, sorted by key (null for other modes). */
  readonly running: readonly RunningKeyExpectation[] | null;
  /** Upsert sinks: the expected final table, sorted by key (null for other sinks). */
  readonly table: readonly UpsertRowExpectation[] | null;
};

/** Keyed state the plan does not define (order-dependent); the state check skips it. */
export type UndefinedState = {
  readonly vertex: string;
  /** The key, or null for every key of the vertex. */
  readonly key: string | null;
  readonly reason: string;
};

export type Reference = {
  /** One per sink vertex, in plan order. */
  readonly sinks: readonly SinkExpectation[];
  /** Final keyed state, sorted by vertex then key; empty states and keys omitted. */
  readonly state: readonly KeyedStateEntry[];
  readonly undefinedState: readonly UndefinedState[];
};

/** Bound on timer firings at end of input (a timer that always re-registers itself would loop). */
export const MAX_TIMER_FIRINGS = 10_000_000;

// ---- internals ---------------------------------------------------------------------------------

type Tag = {
  /** `${vertex}\u0000${key}` of the running aggregate. */
  readonly origin: string;
  final: boolean;
  finalDefined: boolean;
  readonly idempotent: boolean;
};
type Rec = { readonly value: JsonValue; readonly ts: number; readonly tag: Tag | null };
type Keyed = { readonly rec: Rec; readonly key: string; readonly index: number };

const cmpStr = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function isObject(v: JsonValue): v is { readonly [k: string]: JsonValue } {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The record's `key` field as a string ("" when it has none): how running sinks group records. */
export function recordKey(v: JsonValue): string {
  if (!isObject(v)) return "";
  const k = v["key"];
  if (k === undefined) return "";
  return typeof k === "string" ? k : canonicalJson(k);
}

function without(v: JsonValue, field: string): string {
  if (!isObject(v)) return canonicalJson(v);
  const rest: { [k: string]: JsonValue } = {};
  for (const k of Object.keys(v)) if (k !== field) rest[k] = v[k] as JsonValue;
  return canonicalJson(rest);
}

function numField(node: PlanNode, v: JsonValue, field: string): number {
  const x = isObject(v) ? v[field] : undefined;
  if (typeof x !== "number")
    throw new InterpretError(`${node.kind} "${node.id}": field "${field}" of record ${canonicalJson(v)} is not a number`);
  return x;
}

function withField(node: PlanNode, v: JsonValue, field: string, x: number): JsonValue {
  if (!isObject(v)) throw new InterpretError(`${node.kind} "${node.id}": record ${canonicalJson(v)} is not an object`);
  return { ...v, [field]: x };
}

/** Stable canonical order of a keyed operator's input: timestamp, then arrival index. */
function canonicalOrder(input: readonly Keyed[]): Keyed[] {
  return [...input].sort((a, b) => a.rec.ts - b.rec.ts || a.index - b.index);
}

function gather(node: PlanNode, outputs: ReadonlyMap<string, readonly Rec[]>, registry: Registry): Keyed[] {
  const out: Keyed[] = [];
  for (const e of node.inputs) {
    const up = outputs.get(e.from);
    assert(up !== undefined, `node "${node.id}" reads "${e.from}", which is not an earlier node of the plan`);
    const keyOf: KeySelector | null = e.partition === "hash" ? resolveKey(node, e, registry) : null;
    const copies = e.partition === "broadcast" ? node.parallelism : 1;
    for (const rec of up) {
      const key = keyOf === null ? "" : keyOf(rec.value);
      for (let c = 0; c < copies; c++) out.push({ rec, key, index: out.length });
    }
  }
  return out;
}

function resolveKey(node: PlanNode, e: Edge, registry: Registry): KeySelector {
  if (e.key === undefined) throw new InterpretError(`node "${node.id}": hash edge from "${e.from}" has no key selector`);
  return registry.resolve("key", e.key);
}

function requireKeyed(node: PlanNode): void {
  for (const e of node.inputs) {
    if (e.partition !== "hash")
      throw new InterpretError(`${node.kind} "${node.id}": input from "${e.from}" is a ${e.partition} edge; a keyed operator needs hash inputs`);
  }
}

// ---- keyed state for process functions ----------------------------------------------------------

type Cell =
  | { kind: "value"; v: JsonValue | undefined }
  | { kind: "list"; items: JsonValue[] }
  | { kind: "map"; m: Map<string, JsonValue> };

class KeyedStore {
  /** key -> state name -> cell (insertion order; sorted when encoded). */
  private readonly byKey = new Map<string, Map<string, Cell>>();
  currentKey = "";

  constructor(private readonly vertex: string) {}

  private cell<K extends Cell["kind"]>(name: string, kind: K): Extract<Cell, { kind: K }> {
    let states = this.byKey.get(this.currentKey);
    if (states === undefined) {
      states = new Map();
      this.byKey.set(this.currentKey, states);
    }
    let c = states.get(name);
    if (c === undefined) {
      c = kind === "value" ? { kind: "value", v: undefined } : kind === "list" ? { kind: "list", items: [] } : { kind: "map", m: new Map() };
      states.set(name, c);
    }
    if (c.kind !== kind)
      throw new InterpretError(`process "${this.vertex}": state "${name}" is used both as ${c.kind} state and as ${kind} state`);
    return c as Extract<Cell, { kind: K }>;
  }

  valueState<T extends JsonValue>(name: string): ValueState<T> {
    return {
      value: () => this.cell(name, "value").v as T | undefined,
      update: (v) => {
        this.cell(name, "value").v = v;
      },
      clear: () => {
        this.cell(name, "value").v = undefined;
      },
    };
  }

  listState<T extends JsonValue>(name: string): ListState<T> {
    return {
      get: () => [...this.cell(name, "list").items] as T[],
      add: (v) => {
        this.cell(name, "list").items.push(v);
      },
      update: (vs) => {
        this.cell(name, "list").items = [...vs];
      },
      clear: () => {
        this.cell(name, "list").items = [];
      },
    };
  }

  mapState<V extends JsonValue>(name: string): MapState<V> {
    return {
      get: (k) => this.cell(name, "map").m.get(k) as V | undefined,
      put: (k, v) => {
        this.cell(name, "map").m.set(k, v);
      },
      remove: (k) => {
        this.cell(name, "map").m.delete(k);
      },
      contains: (k) => this.cell(name, "map").m.has(k),
      keys: () => [...this.cell(name, "map").m.keys()].sort(cmpStr),
      isEmpty: () => this.cell(name, "map").m.size === 0,
      clear: () => {
        this.cell(name, "map").m.clear();
      },
    };
  }

  /** The contract's encoding: ValueState its value, ListState an array, MapState an object with sorted keys; empties omitted. */
  encode(): KeyedStateEntry[] {
    const out: KeyedStateEntry[] = [];
    for (const key of [...this.byKey.keys()].sort(cmpStr)) {
      const states = this.byKey.get(key);
      assert(states !== undefined, `state of key "${key}" vanished`);
      const enc: { [name: string]: JsonValue } = {};
      for (const name of [...states.keys()].sort(cmpStr)) {
        const c = states.get(name);
        assert(c !== undefined, `state "${name}" vanished`);
        if (c.kind === "value" && c.v !== undefined) enc[name] = c.v;
        if (c.kind === "list" && c.items.length > 0) enc[name] = [...c.items];
        if (c.kind === "map" && c.m.size > 0) {
          const obj: { [k: string]: JsonValue } = {};
          for (const k of [...c.m.keys()].sort(cmpStr)) obj[k] = c.m.get(k) as JsonValue;
          enc[name] = obj;
        }
      }
      if (Object.keys(enc).length > 0) out.push({ vertex: this.vertex, key, state: enc });
    }
    return out;
  }
}

// ---- timers ------------------------------------------------------------------------------------

type TimerEntry = { readonly domain: "event" | "processing"; readonly ts: number; readonly key: string };
const timerId = (t: TimerEntry): string => `${t.domain}|${t.ts}|${t.key}`;
const timerLess = (a: TimerEntry, b: TimerEntry): boolean => a.ts < b.ts || (a.ts === b.ts && a.key < b.key);

/** A binary min-heap of timers by (timestamp, key), with lazy deletion through the live set. */
class TimerQueue {
  private readonly heap: TimerEntry[] = [];
  private readonly live = new Set<string>();

  add(t: TimerEntry): void {
    const id = timerId(t);
    if (this.live.has(id)) return; // Flink deduplicates timers per (key, timestamp)
    this.live.add(id);
    this.heap.push(t);
    let i = this.heap.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = this.heap[p] as TimerEntry;
      const cur = this.heap[i] as TimerEntry;
      if (!timerLess(cur, parent)) break;
      this.heap[p] = cur;
      this.heap[i] = parent;
      i = p;
    }
  }

  delete(t: TimerEntry): void {
    this.live.delete(timerId(t));
  }

  /** The next live timer, or undefined. */
  pop(): TimerEntry | undefined {
    for (let guard = 0; this.heap.length > 0; guard++) {
      assert(guard <= MAX_TIMER_FIRINGS, "timer queue did not drain");
      const top = this.heap[0] as TimerEntry;
      const last = this.heap.pop() as TimerEntry;
      if (this.heap.length > 0) {
        this.heap[0] = last;
        let i = 0;
        for (;;) {
          const l = 2 * i + 1;
          const r = l + 1;
          let m = i;
          if (l < this.heap.length && timerLess(this.heap[l] as TimerEntry, this.heap[m] as TimerEntry)) m = l;
          if (r < this.heap.length && timerLess(this.heap[r] as TimerEntry, this.heap[m] as TimerEntry)) m = r;
          if (m === i) break;
          const tmp = this.heap[m] as TimerEntry;
          this.heap[m] = this.heap[i] as TimerEntry;
          this.heap[i] = tmp;
          i = m;
        }
      }
      const id = timerId(top);
      if (this.live.has(id)) {
        this.live.delete(id);
        return top;
      }
    }
    return undefined;
  }
}

// ---- operators ---------------------------------------------------------------------------------

type Ctx = {
  readonly registry: Registry;
  readonly inputFlow: Flow | null;
  readonly state: KeyedStateEntry[];
  readonly undefinedState: UndefinedState[];
};

function runSource(node: PlanNode & { kind: "source" }, inputs: Inputs): Rec[] {
  const topic = inputs.find((t) => t.topic === node.topic);
  if (topic === undefined) throw new InterpretError(`source "${node.id}": the input has no topic "${node.topic}"`);
  const out: Rec[] = [];
  for (const partition of topic.partitions) for (const r of partition) out.push({ value: r.value, ts: r.ts, tag: null });
  return out;
}

function runReduce(node: PlanNode & { kind: "reduce" }, input: readonly Keyed[], ctx: Ctx): Rec[] {
  requireKeyed(node);
  const field = node.field ?? "value";
  const agg = node.agg;
  if (agg === undefined && node.fn === undefined) throw new InterpretError(`reduce "${node.id}" has neither agg nor fn`);
  const reduceFn = agg === undefined && node.fn !== undefined ? ctx.registry.resolve("reduce", node.fn) : null;
  const userFn = agg === undefined && !isBuiltin("reduce", node.fn);
  // Builtin reduce functions keep the first record's fields but "value"; aggregations the current one's but `field`.
  const restField = agg === undefined ? "value" : field;
  const idempotent = isIdempotentReduce(node) && (ctx.inputFlow?.dupInsensitive ?? false);
  type KeyState = { acc: JsonValue; count: number; rest: string; restConstant: boolean; last: Tag };
  const perKey = new Map<string, KeyState>();
  const out: Rec[] = [];
  for (const { rec, key } of canonicalOrder(input)) {
    const st = perKey.get(key);
    let emitted: JsonValue;
    if (st === undefined) {
      emitted = agg === "count" ? withField(node, rec.value, field, 1) : rec.value;
      if (agg !== undefined && agg !== "count") numField(node, rec.value, field);
    } else if (agg === "count") {
      emitted = withField(node, rec.value, field, st.count + 1);
    } else if (agg !== undefined) {
      const a = numField(node, st.acc, field);
      const x = numField(node, rec.value, field);
      emitted = withField(node, rec.value, field, agg === "sum" ? a + x : agg === "min" ? Math.min(a, x) : Math.max(a, x));
    } else {
      assert(reduceFn !== null, "reduce function resolved");
      emitted = reduceFn(st.acc, rec.value);
    }
    const tag: Tag = { origin: `${node.id}\u0000${key}`, final: false, finalDefined: true, idempotent };
    const rest = userFn ? "" : without(rec.value, restField);
    if (st === undefined) perKey.set(key, { acc: emitted, count: 1, rest, restConstant: true, last: tag });
    else {
      st.acc = emitted;
      st.count++;
      st.restConstant &&= st.rest === rest;
      st.last = tag;
    }
    out.push({ value: emitted, ts: rec.ts, tag });
  }
  for (const key of [...perKey.keys()].sort(cmpStr)) {
    const st = perKey.get(key) as KeyState;
    st.last.final = true;
    st.last.finalDefined = st.restConstant;
    ctx.state.push({ vertex: node.id, key, state: { reduce: st.acc } });
    if (!st.restConstant)
      ctx.undefinedState.push({
        vertex: node.id,
        key,
        reason: `the records of key "${key}" differ in fields other than "${restField}", so the fields the aggregate keeps depend on arrival order`,
      });
  }
  return out;
}

function runProcess(node: PlanNode & { kind: "process" }, input: readonly Keyed[], ctx: Ctx): Rec[] {
  requireKeyed(node);
  const fn: KeyedProcessFunction = ctx.registry.resolve("process", node.fn);
  const running = isBuiltin("process", node.fn) && node.fn.fn === "runningCount";
  const store = new KeyedStore(node.id);
  const timers = new TimerQueue();
  const processingTimers = new TimerQueue();
  const lastTag = new Map<string, Tag>();
  const out: Rec[] = [];
  let watermark = MIN_WATERMARK;
  let timestamp = 0;

  const runtime: RuntimeContext = {
    getState: (name) => store.valueState(name),
    getListState: (name) => store.listState(name),
    getMapState: (name) => store.mapState(name),
    subtaskIndex: 0,
    parallelism: node.parallelism,
  };
  const timerService: TimerService = {
    currentWatermark: () => watermark,
    currentProcessingTime: () => 0,
    registerEventTimeTimer: (ts) => timers.add({ domain: "event", ts, key: store.currentKey }),
    deleteEventTimeTimer: (ts) => timers.delete({ domain: "event", ts, key: store.currentKey }),
    registerProcessingTimeTimer: (ts) => processingTimers.add({ domain: "processing", ts, key: store.currentKey }),
    deleteProcessingTimeTimer: (ts) => processingTimers.delete({ domain: "processing", ts, key: store.currentKey }),
  };
  const collector: Collector = {
    collect: (value, timestampMs) => {
      let tag: Tag | null = null;
      if (running) {
        tag = { origin: `${node.id}\u0000${store.currentKey}`, final: false, finalDefined: true, idempotent: false };
        lastTag.set(store.currentKey, tag);
      }
      out.push({ value, ts: timestampMs ?? timestamp, tag });
    },
  };
  const pctx: ProcessContext = new ReadingProcessContext(() => timestamp, () => store.currentKey, timerService);

  fn.open?.(runtime);
  for (const { rec, key } of canonicalOrder(input)) {
    store.currentKey = key;
    timestamp = rec.ts;
    fn.processElement(rec.value, pctx, collector);
  }

  // End of input: the final MAX watermark fires every event-time timer, then processing-time timers.
  watermark = MAX_WATERMARK;
  let firings = 0;
  for (;;) {
    const t = timers.pop() ?? processingTimers.pop();
    if (t === undefined) break;
    assert(++firings <= MAX_TIMER_FIRINGS, `process "${node.id}": more than ${MAX_TIMER_FIRINGS} timer firings at end of input`);
    store.currentKey = t.key;
    timestamp = t.ts;
    const domain = t.domain;
    if (fn.onTimer !== undefined) {
      const tctx = {
        timestamp: t.ts,
        currentKey: t.key,
        timerService,
        timeDomain: domain,
      };
      fn.onTimer(t.ts, tctx, collector);
    }
  }
  for (const tag of lastTag.values()) tag.final = true;
  ctx.state.push(...store.encode());
  return out;
}

/**
 * What a process function sees while the interpreter feeds it a record. A class, not an object
 * literal with getters (see `oldGenerationShapes` in eslint.config.js). The engine has its own
 * (LiveProcessContext): the oracle shares no code with it.
 */
class ReadingProcessContext implements ProcessContext {
  constructor(
    private readonly readTimestamp: () => number,
    private readonly readKey: () => string,
    readonly timerService: TimerService,
  ) {}
  get timestamp(): number {
    return this.readTimestamp();
  }
  get currentKey(): string {
    return this.readKey();
  }
}

/** Flink's window start: ts - ((ts - offset) mod slide), offset 0. */
export function windowStart(ts: number, slideMs: number): number {
  return ts - (((ts % slideMs) + slideMs) % slideMs);
}

/** The windows [start, end) a record with timestamp `ts` belongs to, newest first (Flink's order). */
export function assignWindows(ts: number, assigner: WindowAssigner): Array<{ start: number; end: number }> {
  const slide = assigner.kind === "tumbling" ? assigner.sizeMs : assigner.slideMs;
  assert(slide > 0 && assigner.sizeMs > 0, "window size and slide are positive");
  const out: Array<{ start: number; end: number }> = [];
  const bound = Math.ceil(assigner.sizeMs / slide) + 1;
  for (let start = windowStart(ts, slide); start > ts - assigner.sizeMs; start -= slide) {
    assert(out.length <= bound, "window assignment is bounded");
    out.push({ start, end: start + assigner.sizeMs });
  }
  return out;
}

function runWindow(node: PlanNode & { kind: "window" }, input: readonly Keyed[], ctx: Ctx): Rec[] {
  requireKeyed(node);
  const aggregate = ctx.registry.resolve("aggregate", node.aggregate);
  type Pane = { key: string; start: number; end: number; acc: JsonValue };
  const panes = new Map<string, Pane>();
  for (const { rec, key } of canonicalOrder(input)) {
    for (const w of assignWindows(rec.ts, node.assigner)) {
      const id = `${key}\u0000${w.start}`;
      let pane = panes.get(id);
      if (pane === undefined) {
        pane = { key, start: w.start, end: w.end, acc: aggregate.createAccumulator() };
        panes.set(id, pane);
      }
      pane.acc = aggregate.add(rec.value, pane.acc);
    }
  }
  const fired = [...panes.values()].sort((a, b) => a.end - b.end || cmpStr(a.key, b.key) || a.start - b.start);
  return fired.map((p) => ({ value: aggregate.getResult(p.acc, p.key, { start: p.start, end: p.end }), ts: p.end - 1, tag: null }));
}

function upsertKeySelector(node: PlanNode & { kind: "sink" }, registry: Registry): KeySelector {
  const ref: FnRef = node.upsertKey ?? { fn: "field", args: { name: "key" } };
  return registry.resolve("key", ref);
}

function sinkExpectation(node: PlanNode & { kind: "sink" }, input: readonly Keyed[], ctx: Ctx, cls: SinkClass): SinkExpectation {
  const records = input.map((k) => k.rec);
  let running: RunningKeyExpectation[] | null = null;
  if (cls.mode === "running") {
    type Acc = { count: number; mustInclude: JsonValue[]; idempotentFinals: JsonValue[] };
    const byKey = new Map<string, Acc>();
    for (const r of records) {
      const k = recordKey(r.value);
      let a = byKey.get(k);
      if (a === undefined) {
        a = { count: 0, mustInclude: [], idempotentFinals: [] };
        byKey.set(k, a);
      }
      a.count++;
      if (r.tag === null) a.mustInclude.push(r.value);
      else if (r.tag.final && r.tag.finalDefined) {
        a.mustInclude.push(r.value);
        if (r.tag.idempotent) a.idempotentFinals.push(r.value);
      }
    }
    running = [...byKey.keys()].sort(cmpStr).map((key) => ({ key, ...(byKey.get(key) as Acc) }));
  }
  let table: UpsertRowExpectation[] | null = null;
  if (node.sink === "upsert") {
    const keyOf = upsertKeySelector(node, ctx.registry);
    const rows = new Map<string, Rec[]>();
    for (const r of records) {
      const k = keyOf(r.value);
      const list = rows.get(k);
      if (list === undefined) rows.set(k, [r]);
      else list.push(r);
    }
    table = [...rows.keys()].sort(cmpStr).map((key) => upsertRow(key, rows.get(key) ?? [], cls));
  }
  return {
    vertex: node.id,
    topic: node.topic,
    kind: node.sink,
    mode: cls.mode,
    reason: cls.reason,
    userDefined: cls.userDefined,
    noLoss: cls.noLoss,
    records: records.map((r) => r.value),
    running,
    table,
  };
}

function upsertRow(key: string, recs: readonly Rec[], cls: SinkClass): UpsertRowExpectation {
  const undef = (reason: string): UpsertRowExpectation => ({ key, defined: false, value: null, reason });
  if (cls.mode === "undefined") return undef(cls.reason ?? "the sink's input is not defined");
  const tagged = recs.filter((r) => r.tag !== null);
  if (tagged.length === 0) {
    const distinct = new Set(recs.map((r) => canonicalJson(r.value)));
    if (distinct.size === 1) return { key, defined: true, value: (recs[0] as Rec).value, reason: null };
    return undef(`${distinct.size} different records share the upsert key, and which one comes last depends on arrival order`);
  }
  if (tagged.length < recs.length) return undef("running values and other records share the upsert key");
  const origins = new Set(tagged.map((r) => (r.tag as Tag).origin));
  if (origins.size > 1) return undef(`running values of ${origins.size} aggregation keys share the upsert key`);
  if (!cls.lastIsFinal) return undef("the running values reach the sink over several channels, so the last one need not be the final one");
  const finals = tagged.filter((r) => (r.tag as Tag).final);
  const first = finals[0];
  if (first === undefined || !(first.tag as Tag).finalDefined) return undef("the final running value depends on arrival order");
  return { key, defined: true, value: first.value, reason: null };
}

/**
 * Evaluates the plan over the whole input: the expected output of every sink, the comparison
 * mode per sink, and the final keyed state of every keyed operator.
 */
export function interpret(plan: Plan, inputs: Inputs, registry: Registry = builtins): Reference {
  const flows = analyze(plan);
  const classes = new Map<string, SinkClass>();
  for (const c of classifyFlows(plan, flows)) classes.set(c.vertex, c);
  const outputs = new Map<string, Rec[]>();
  const state: KeyedStateEntry[] = [];
  const undefinedState: UndefinedState[] = [];
  const sinks: SinkExpectation[] = [];
  for (const node of plan.nodes) {
    const flow = flows.get(node.id);
    assert(flow !== undefined, `node "${node.id}" has a flow`);
    const ctx: Ctx = { registry, inputFlow: flow.input, state, undefinedState };
    if (node.kind === "source") {
      outputs.set(node.id, runSource(node, inputs));
      continue;
    }
    const input = gather(node, outputs, registry);
    const keyed = node.kind === "reduce" || node.kind === "process" || node.kind === "window";
    if (keyed && flow.input !== null && flow.input.mode !== "multiset")
      undefinedState.push({ vertex: node.id, key: null, reason: flow.output.reason ?? "its input is not defined" });
    switch (node.kind) {
      case "map": {
        const f = registry.resolve("map", node.fn);
        outputs.set(node.id, input.map(({ rec }) => ({ value: f(rec.value), ts: rec.ts, tag: rec.tag })));
        break;
      }
      case "filter": {
        const f = registry.resolve("filter", node.fn);
        outputs.set(node.id, input.filter(({ rec }) => f(rec.value)).map(({ rec }) => rec));
        break;
      }
      case "flatMap": {
        const f = registry.resolve("flatMap", node.fn);
        const out: Rec[] = [];
        for (const { rec } of input) for (const v of f(rec.value)) out.push({ value: v, ts: rec.ts, tag: rec.tag });
        outputs.set(node.id, out);
        break;
      }
      case "reduce":
        outputs.set(node.id, runReduce(node, input, ctx));
        break;
      case "process":
        outputs.set(node.id, runProcess(node, input, ctx));
        break;
      case "window":
        outputs.set(node.id, runWindow(node, input, ctx));
        break;
      case "sink": {
        const cls = classes.get(node.id);
        assert(cls !== undefined, `sink "${node.id}" is classified`);
        sinks.push(sinkExpectation(node, input, ctx, cls));
        outputs.set(node.id, []);
        break;
      }
    }
  }
  state.sort((a, b) => cmpStr(a.vertex, b.vertex) || cmpStr(a.key, b.key));
  return { sinks, state, undefinedState };
}
