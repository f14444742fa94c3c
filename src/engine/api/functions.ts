/**
 * How the API turns what a user passes as an operator function into a plan's function reference.
 *
 * A plan is data: operators name their functions from a registry (`{ fn: "affine", args }`).
 * The API accepts three forms and keeps the plan data in each case:
 * - a registry reference: `{ fn, args? }`, or a builtin's name as a string;
 * - a closure (or a user KeyedProcessFunction): registered in the environment's child registry
 *   under a generated name (`closure:1`, `closure:2` ...) in the order the pipeline is built, so
 *   the same build gives the same plan. Such a plan replays from its seed in the test that builds
 *   it, not from a scenario file alone.
 *
 * Process functions, as in Flink, are copied per deployment: Flink serializes the function
 * object when the job is built and every subtask, after every restart, works on a fresh copy.
 * Here an instance is copied as it was when it was passed to `process()` (own fields deep-copied:
 * arrays, maps, sets and plain objects; functions shared); a class or a factory is called once per
 * deployment. State kept in a plain field therefore starts over after a restore, as it does in Flink.
 */
import type { AggregateFunction, FilterFunction, FlatMapFunction, KeyedProcessFunction, KeySelector, MapFunction, ReduceFunction } from "../plan/functions.ts";
import type { FnRef } from "../plan/plan.ts";
import type { FnKind, Registry } from "../plan/registry.ts";
import { ApiError } from "./errors.ts";

/** A registry reference, or a builtin's name. */
export type FnSpec = FnRef | string;

export type MapFunctionSpec = MapFunction | FnSpec;
export type FilterFunctionSpec = FilterFunction | FnSpec;
export type FlatMapFunctionSpec = FlatMapFunction | FnSpec;
export type ReduceFunctionSpec = ReduceFunction | FnSpec;
export type AggregateFunctionSpec = AggregateFunction | FnSpec;
/** A key selector closure, a registry reference `{ fn, args }`, or (a string) the name of the record field holding the key. */
export type KeySelectorSpec = KeySelector | FnRef | string;
/** A class whose instances are process functions (constructed with no arguments). */
export type KeyedProcessFunctionClass = new () => KeyedProcessFunction;
/** An instance (copied per deployment), a class, a factory, a registry reference or a builtin's name. */
export type KeyedProcessFunctionSpec = KeyedProcessFunction | KeyedProcessFunctionClass | (() => KeyedProcessFunction) | FnSpec;

/** Most nesting levels a process function instance's fields are copied through. */
const MAX_COPY_DEPTH = 64;

/** Registers closures in an environment's registry under generated names. */
export class FunctionRegistrar {
  private counter = 0;
  constructor(readonly registry: Registry) {}

  private next(): string {
    this.counter++;
    return `closure:${this.counter}`;
  }

  private ref(spec: FnRef | string, what: string): FnRef {
    if (typeof spec === "string") {
      if (spec.length === 0) throw new ApiError(`${what}: a function name must not be empty`);
      return { fn: spec };
    }
    if (typeof spec !== "object" || spec === null || typeof spec.fn !== "string")
      throw new ApiError(`${what}: expected a function, a registry reference { fn, args? } or a function name, got ${describe(spec)}`);
    return spec.args === undefined ? { fn: spec.fn } : { fn: spec.fn, args: spec.args };
  }

  private closure<K extends Exclude<FnKind, "process">>(kind: K, f: unknown): FnRef {
    const name = this.next();
    // The registry's factories take args; a closure has none and is shared by every subtask.
    this.registry.register(kind, name, (() => f) as never);
    return { fn: name };
  }

  map(spec: MapFunctionSpec, what = "map"): FnRef {
    return typeof spec === "function" ? this.closure("map", spec) : this.ref(spec, what);
  }
  filter(spec: FilterFunctionSpec, what = "filter"): FnRef {
    return typeof spec === "function" ? this.closure("filter", spec) : this.ref(spec, what);
  }
  flatMap(spec: FlatMapFunctionSpec, what = "flatMap"): FnRef {
    return typeof spec === "function" ? this.closure("flatMap", spec) : this.ref(spec, what);
  }
  reduce(spec: ReduceFunctionSpec, what = "reduce"): FnRef {
    return typeof spec === "function" ? this.closure("reduce", spec) : this.ref(spec, what);
  }
  aggregate(spec: AggregateFunctionSpec, what = "aggregate"): FnRef {
    if (isAggregateFunction(spec)) return this.closure("aggregate", spec);
    return this.ref(spec as FnSpec, what);
  }
  /** An aggregate built from a factory (for wrappers the API makes itself). */
  aggregateFactory(factory: () => AggregateFunction): FnRef {
    const name = this.next();
    this.registry.register("aggregate", name, () => factory());
    return { fn: name };
  }
  key(spec: KeySelectorSpec, what = "keyBy"): FnRef {
    if (typeof spec === "function") return this.closure("key", spec);
    if (typeof spec === "string") {
      if (spec.length === 0) throw new ApiError(`${what}: a key field name must not be empty`);
      return { fn: "field", args: { name: spec } };
    }
    return this.ref(spec, what);
  }
  process(spec: KeyedProcessFunctionSpec, what = "process"): FnRef {
    if (typeof spec === "string") return this.ref(spec, what);
    if (typeof spec === "function") {
      const name = this.next();
      const ctor = spec as KeyedProcessFunctionClass;
      if (isProcessFunctionClass(spec)) this.registry.register("process", name, () => new ctor());
      else
        this.registry.register("process", name, () => {
          const made = (spec as () => KeyedProcessFunction)();
          if (!isProcessFunction(made))
            throw new ApiError(`${what}: the factory must return a KeyedProcessFunction (an object with processElement), got ${describe(made)}`);
          return made;
        });
      return { fn: name };
    }
    if (isProcessFunction(spec)) {
      const name = this.next();
      const template = copyInstance(spec, new Map(), 0);
      this.registry.register("process", name, () => copyInstance(template, new Map(), 0));
      return { fn: name };
    }
    return this.ref(spec as FnRef, what);
  }
}

function isProcessFunction(v: unknown): v is KeyedProcessFunction {
  return typeof v === "object" && v !== null && typeof (v as { processElement?: unknown }).processElement === "function";
}

/** A class (or constructor function) whose prototype has processElement. */
function isProcessFunctionClass(f: object): boolean {
  const proto = (f as { prototype?: unknown }).prototype;
  return typeof proto === "object" && proto !== null && typeof (proto as { processElement?: unknown }).processElement === "function";
}

function isAggregateFunction(v: unknown): v is AggregateFunction {
  if (typeof v !== "object" || v === null) return false;
  const a = v as Partial<Record<keyof AggregateFunction, unknown>>;
  return typeof a.createAccumulator === "function" && typeof a.add === "function" && typeof a.getResult === "function";
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (typeof v === "object") return Array.isArray(v) ? "an array" : "an object without a string fn field";
  return typeof v;
}

/**
 * A deep copy of a function object's data, as serialization would make: own fields copied
 * (arrays, Maps, Sets, plain objects and class instances recursively, keeping prototypes),
 * functions and primitives shared. Cycles are kept as cycles.
 */
export function copyInstance<T>(value: T, seen: Map<object, unknown>, depth: number): T {
  if (typeof value !== "object" || value === null) return value;
  const known = seen.get(value);
  if (known !== undefined) return known as T;
  if (depth > MAX_COPY_DEPTH)
    throw new ApiError(`a process function's fields are nested more than ${MAX_COPY_DEPTH} levels deep; keep its fields flat or use a factory`);
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    seen.set(value, out);
    for (const v of value) out.push(copyInstance(v, seen, depth + 1));
    return out as T;
  }
  if (value instanceof Map) {
    const out = new Map<unknown, unknown>();
    seen.set(value, out);
    for (const [k, v] of value) out.set(copyInstance(k, seen, depth + 1), copyInstance(v, seen, depth + 1));
    return out as T;
  }
  if (value instanceof Set) {
    const out = new Set<unknown>();
    seen.set(value, out);
    for (const v of value) out.add(copyInstance(v, seen, depth + 1));
    return out as T;
  }
  const out = Object.create(Object.getPrototypeOf(value) as object | null) as Record<string | symbol, unknown>;
  seen.set(value, out);
  for (const k of Reflect.ownKeys(value)) {
    const d = Object.getOwnPropertyDescriptor(value, k);
    if (d === undefined) continue;
    if ("value" in d) d.value = copyInstance(d.value as unknown, seen, depth + 1);
    Object.defineProperty(out, k, d);
  }
  return out as T;
}
