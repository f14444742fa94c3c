/**
 * The function registry: operator functions by name and arguments.
 *
 * Builtins work on records shaped `{ key: string, value: number }` (what the generators make);
 * user functions can be registered under any name, and the API registers closures under
 * generated names. A registry lookup that fails names the function and the kind expected.
 */
import type { JsonValue } from "../../sim/trace.ts";
import type {
  AggregateFunction,
  FilterFunction,
  FlatMapFunction,
  KeyedProcessFunction,
  KeySelector,
  MapState,
  ValueState,
  MapFunction,
  ReduceFunction,
  Value,
} from "./functions.ts";
import type { FnRef } from "./plan.ts";

export type FnKind = "map" | "filter" | "flatMap" | "key" | "reduce" | "aggregate" | "process";

type Args = { readonly [k: string]: JsonValue };
type Factories = {
  map: (args: Args) => MapFunction;
  filter: (args: Args) => FilterFunction;
  flatMap: (args: Args) => FlatMapFunction;
  key: (args: Args) => KeySelector;
  reduce: (args: Args) => ReduceFunction;
  aggregate: (args: Args) => AggregateFunction;
  /** A factory: every subtask (and every restart) gets a fresh instance. */
  process: (args: Args) => KeyedProcessFunction;
};

export type Rec = { key: string; value: number };

export class RegistryError extends Error {
  override readonly name = "RegistryError";
}

export class Registry {
  private readonly entries = new Map<string, unknown>();
  constructor(private readonly parent?: Registry) {}

  register<K extends FnKind>(kind: K, name: string, factory: Factories[K]): this {
    const id = `${kind}:${name}`;
    if (this.entries.has(id)) throw new RegistryError(`${kind} function "${name}" is already registered`);
    this.entries.set(id, factory);
    return this;
  }

  has(kind: FnKind, name: string): boolean {
    return this.entries.has(`${kind}:${name}`) || (this.parent?.has(kind, name) ?? false);
  }

  /** Names registered for a kind (sorted), including the parent's. */
  names(kind: FnKind): string[] {
    const own = [...this.entries.keys()].filter((k) => k.startsWith(kind + ":")).map((k) => k.slice(kind.length + 1));
    return [...new Set([...(this.parent?.names(kind) ?? []), ...own])].sort();
  }

  resolve<K extends FnKind>(kind: K, ref: FnRef): ReturnType<Factories[K]> {
    const f = this.lookup(kind, ref.fn);
    if (f === undefined) {
      throw new RegistryError(
        `unknown ${kind} function "${ref.fn}"; known: ${this.names(kind).join(", ") || "(none)"}`,
      );
    }
    return (f as (a: Args) => ReturnType<Factories[K]>)(ref.args ?? {});
  }

  private lookup(kind: FnKind, name: string): unknown {
    return this.entries.get(`${kind}:${name}`) ?? this.parent?.lookup(kind, name);
  }
}

// ---- builtins ----------------------------------------------------------------------------------

const num = (args: Args, name: string, dflt: number): number => {
  const v = args[name];
  return typeof v === "number" ? v : dflt;
};
const asRec = (v: Value): Rec => v as Rec;
/** A small deterministic string hash (FNV-1a 32), used by builtins and key-group assignment. */
export function stringHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
const mod = (a: number, m: number): number => ((a % m) + m) % m;

function windowAgg(kind: "sum" | "count" | "min" | "max"): () => AggregateFunction {
  return () => ({
    createAccumulator: () => null,
    add: (v, acc) => {
      const x = kind === "count" ? 1 : asRec(v).value;
      if (acc === null) return x;
      const a = acc as number;
      return kind === "min" ? Math.min(a, x) : kind === "max" ? Math.max(a, x) : a + x;
    },
    getResult: (acc, key, w) => ({ key, value: (acc as number | null) ?? 0, windowStart: w.start, windowEnd: w.end }),
  });
}

function reduceBy(kind: "sum" | "min" | "max"): () => ReduceFunction {
  return () => (a, b) => {
    const x = asRec(a);
    const y = asRec(b);
    const v = kind === "sum" ? x.value + y.value : kind === "min" ? Math.min(x.value, y.value) : Math.max(x.value, y.value);
    return { ...x, value: v };
  };
}

export const builtins: Registry = new Registry()
  // map
  .register("map", "identity", () => (v) => v)
  .register("map", "affine", (args) => {
    const a = num(args, "a", 1);
    const b = num(args, "b", 0);
    return (v) => ({ ...asRec(v), value: asRec(v).value * a + b });
  })
  .register("map", "rekey", (args) => {
    const m = num(args, "mod", 2);
    return (v) => ({ ...asRec(v), key: `k${mod(stringHash(asRec(v).key), m)}` });
  })
  .register("map", "abs", () => (v) => ({ ...asRec(v), value: Math.abs(asRec(v).value) }))
  // filter
  .register("filter", "all", () => () => true)
  .register("filter", "valueMod", (args) => {
    const m = num(args, "m", 2);
    const r = num(args, "r", 0);
    return (v) => mod(asRec(v).value, m) === r;
  })
  .register("filter", "valueAtLeast", (args) => {
    const min = num(args, "min", 0);
    return (v) => asRec(v).value >= min;
  })
  // flatMap
  .register("flatMap", "explode", (args) => {
    const n = num(args, "n", 2);
    return (v) => {
      const r = asRec(v);
      const out: Value[] = [];
      for (let i = 0; i < n; i++) out.push({ ...r, value: r.value * n + i });
      return out;
    };
  })
  .register("flatMap", "dropOdd", () => (v) => (mod(asRec(v).value, 2) === 0 ? [v] : []))
  // key selectors
  .register("key", "field", (args) => {
    const name = typeof args["name"] === "string" ? args["name"] : "key";
    return (v) => String((v as Record<string, JsonValue>)[name]);
  })
  .register("key", "valueMod", (args) => {
    const m = num(args, "m", 4);
    return (v) => `m${mod(asRec(v).value, m)}`;
  })
  // reduce
  .register("reduce", "sumValue", reduceBy("sum"))
  .register("reduce", "minValue", reduceBy("min"))
  .register("reduce", "maxValue", reduceBy("max"))
  // window aggregates
  .register("aggregate", "sum", windowAgg("sum"))
  .register("aggregate", "count", windowAgg("count"))
  .register("aggregate", "min", windowAgg("min"))
  .register("aggregate", "max", windowAgg("max"))
  // keyed process functions
  .register("process", "runningCount", () => {
    let count: ValueState<number> | undefined;
    return {
      open(ctx) {
        count = ctx.getState<number>("count");
      },
      processElement(v, ctx, out) {
        const c = (count?.value() ?? 0) + 1;
        count?.update(c);
        out.collect({ key: ctx.currentKey, value: c });
        void v;
      },
    };
  })
  .register("process", "dedupe", () => {
    let seen: MapState<boolean> | undefined;
    return {
      open(ctx) {
        seen = ctx.getMapState<boolean>("seen");
      },
      processElement(v, _ctx, out) {
        const id = String(asRec(v).value);
        if (seen?.contains(id)) return;
        seen?.put(id, true);
        out.collect(v);
      },
    };
  })
  .register("process", "bucketSum", (args) => {
    const size = Math.max(1, num(args, "sizeMs", 100));
    let buckets: MapState<number> | undefined;
    return {
      open(ctx) {
        buckets = ctx.getMapState<number>("buckets");
      },
      processElement(v, ctx, out) {
        void out;
        const start = Math.floor(ctx.timestamp / size) * size;
        const k = String(start);
        buckets?.put(k, (buckets.get(k) ?? 0) + asRec(v).value);
        ctx.timerService.registerEventTimeTimer(start + size - 1);
      },
      onTimer(ts, ctx, out) {
        const start = ts - size + 1;
        const k = String(start);
        const sum = buckets?.get(k);
        if (sum === undefined) return;
        buckets?.remove(k);
        out.collect({ key: ctx.currentKey, value: sum, windowStart: start, windowEnd: start + size }, ts);
      },
    };
  });
