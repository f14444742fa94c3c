/**
 * Heap keyed state backend with timers (Flink's HeapKeyedStateBackend + InternalTimerService).
 *
 * State lives per key and state name. A snapshot is a canonical JSON string (which doubles as the
 * deep copy); restore parses it. Event-time timers are kept per (timestamp, key) and fire in that
 * order when the watermark passes them.
 */
import type { JsonValue } from "../../sim/trace.ts";
import type { ListState, MapState, ValueState, Value } from "../plan/functions.ts";
import type { KeyedStateEntry } from "../result.ts";

type StateValue = { kind: "value"; v: Value } | { kind: "list"; v: Value[] } | { kind: "map"; v: Map<string, Value> };

export type TimerEntry = { readonly ts: number; readonly key: string };

/** A value state with a read-modify-write in one lookup (for an operator's per-record path). */
export type MergingValueState<T extends Value> = ValueState<T> & {
  /** Set the current key's value to `f(previous or undefined, input)` and return it. */
  merge(input: Value, f: (prev: T | undefined, input: Value) => T): T;
};

export type KeyedSnapshot = {
  readonly state: ReadonlyArray<readonly [string, ReadonlyArray<readonly [string, "value" | "list" | "map", JsonValue]>]>;
  readonly eventTimers: readonly TimerEntry[];
  readonly processingTimers: readonly TimerEntry[];
};

const timerId = (t: TimerEntry): string => `${t.ts}|${t.key}`;
const byTsKey = (a: TimerEntry, b: TimerEntry): number => a.ts - b.ts || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/** A JSON primitive that JSON.parse(JSON.stringify(x)) gives back unchanged. */
function sameThroughJson(x: unknown): boolean {
  return x === null || typeof x === "string" || typeof x === "boolean" || (typeof x === "number" && Number.isFinite(x) && !Object.is(x, -0));
}

/**
 * JSON.parse(JSON.stringify(v)) (the deep copy of a snapshot), without the string for the usual
 * state values: such a primitive, or a plain object of them (copied key by key, in the same order).
 */
function copyJson(v: JsonValue): JsonValue {
  if (sameThroughJson(v)) return v;
  if (typeof v === "object" && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype) {
    const obj = v as { readonly [k: string]: JsonValue };
    const out: Record<string, JsonValue> = {};
    let plain = typeof obj["toJSON"] !== "function";
    for (const k in obj) {
      const x = obj[k];
      if (!plain || k === "__proto__" || !sameThroughJson(x)) {
        plain = false;
        break;
      }
      out[k] = x as JsonValue;
    }
    if (plain) return out;
  }
  return JSON.parse(JSON.stringify(v)) as JsonValue;
}

export class KeyedStateBackend {
  /**
   * State name -> key -> that key's state of that name (one table per registered state, as
   * Flink's StateTable): a state handle holds its table, so an access is one lookup by key.
   * Tables are never replaced (handles keep them), only emptied.
   */
  private readonly tables = new Map<string, Map<string, StateValue>>();
  currentKey = "";
  private readonly eventTimers = new Map<string, TimerEntry>();
  private readonly processingTimers = new Map<string, TimerEntry>();

  private table(name: string): Map<string, StateValue> {
    let t = this.tables.get(name);
    if (t === undefined) {
      t = new Map();
      this.tables.set(name, t);
    }
    return t;
  }

  /** The current key's slot in table `t`, created empty of `kind` if missing and `create`. */
  private slot(t: Map<string, StateValue>, kind: StateValue["kind"], create: boolean): StateValue | undefined {
    let s = t.get(this.currentKey);
    if (s === undefined && create) {
      s = kind === "value" ? { kind, v: null } : kind === "list" ? { kind, v: [] } : { kind, v: new Map() };
      t.set(this.currentKey, s);
    }
    return s;
  }

  valueState<T extends Value>(name: string): MergingValueState<T> {
    const t = this.table(name);
    return {
      merge: (input: Value, f: (prev: T | undefined, input: Value) => T): T => {
        const k = this.currentKey;
        const s = t.get(k);
        const next = f(s === undefined ? undefined : (s.v as T), input);
        if (s !== undefined) (s as { v: Value }).v = next;
        else t.set(k, { kind: "value", v: next });
        return next;
      },
      value: () => {
        const s = t.get(this.currentKey);
        return s === undefined ? undefined : (s.v as T);
      },
      update: (v: T) => {
        const s = t.get(this.currentKey);
        if (s !== undefined) (s as { v: Value }).v = v;
        else t.set(this.currentKey, { kind: "value", v });
      },
      clear: () => {
        t.delete(this.currentKey);
      },
    };
  }

  listState<T extends Value>(name: string): ListState<T> {
    const t = this.table(name);
    return {
      get: () => ((this.slot(t, "list", false)?.v as T[] | undefined) ?? []).slice(),
      add: (v: T) => {
        (this.slot(t, "list", true)?.v as Value[]).push(v);
      },
      update: (vs: readonly T[]) => {
        if (vs.length === 0) t.delete(this.currentKey);
        else (this.slot(t, "list", true) as { v: Value[] }).v = vs.slice();
      },
      clear: () => {
        t.delete(this.currentKey);
      },
    };
  }

  mapState<V extends Value>(name: string): MapState<V> {
    const t = this.table(name);
    const m = (create: boolean): Map<string, Value> | undefined => this.slot(t, "map", create)?.v as Map<string, Value> | undefined;
    return {
      get: (k) => m(false)?.get(k) as V | undefined,
      put: (k, v) => {
        m(true)?.set(k, v);
      },
      remove: (k) => {
        const mm = m(false);
        if (mm === undefined) return;
        mm.delete(k);
        if (mm.size === 0) t.delete(this.currentKey);
      },
      contains: (k) => m(false)?.has(k) ?? false,
      keys: () => [...(m(false)?.keys() ?? [])].sort(),
      isEmpty: () => (m(false)?.size ?? 0) === 0,
      clear: () => {
        t.delete(this.currentKey);
      },
    };
  }

  /** Every key with state, sorted. */
  private sortedKeys(): string[] {
    const keys = new Set<string>();
    for (const t of this.tables.values()) for (const k of t.keys()) keys.add(k);
    return [...keys].sort();
  }

  // ---- timers ---------------------------------------------------------------------------------

  registerEventTimer(ts: number): void {
    const t = { ts, key: this.currentKey };
    this.eventTimers.set(timerId(t), t);
  }
  deleteEventTimer(ts: number): void {
    this.eventTimers.delete(timerId({ ts, key: this.currentKey }));
  }
  registerProcessingTimer(ts: number): boolean {
    const t = { ts, key: this.currentKey };
    const id = timerId(t);
    if (this.processingTimers.has(id)) return false;
    this.processingTimers.set(id, t);
    return true;
  }
  deleteProcessingTimer(ts: number): void {
    this.processingTimers.delete(timerId({ ts, key: this.currentKey }));
  }
  hasProcessingTimer(t: TimerEntry): boolean {
    return this.processingTimers.has(timerId(t));
  }
  removeProcessingTimer(t: TimerEntry): void {
    this.processingTimers.delete(timerId(t));
  }
  processingTimerList(): TimerEntry[] {
    return [...this.processingTimers.values()].sort(byTsKey);
  }

  /** Removes and returns the earliest event-time timer due at `watermark`, or undefined. */
  pollEventTimer(watermark: number): TimerEntry | undefined {
    let best: TimerEntry | undefined;
    for (const t of this.eventTimers.values()) {
      if (t.ts <= watermark && (best === undefined || byTsKey(t, best) < 0)) best = t;
    }
    if (best !== undefined) this.eventTimers.delete(timerId(best));
    return best;
  }
  get eventTimerCount(): number {
    return this.eventTimers.size;
  }

  // ---- snapshot / restore -----------------------------------------------------------------------

  /** State names, sorted, with their tables. */
  private sortedTables(): Array<readonly [string, Map<string, StateValue>]> {
    return [...this.tables.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  snapshot(): KeyedSnapshot {
    const tables = this.sortedTables();
    const state = this.sortedKeys().map((k) => {
      const names = tables.filter(([, t]) => t.has(k)).map(([n]) => n);
      return [
        k,
        names.map((n) => {
          const s = this.table(n).get(k) as StateValue;
          const v: JsonValue = s.kind === "map" ? Object.fromEntries([...s.v.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) : s.v;
          // A deep copy (the snapshot must not share objects with live state).
          return [n, s.kind, copyJson(v)] as const;
        }),
      ] as const;
    });
    return {
      state,
      eventTimers: [...this.eventTimers.values()].sort(byTsKey),
      processingTimers: [...this.processingTimers.values()].sort(byTsKey),
    };
  }

  restore(s: KeyedSnapshot): void {
    // Emptied in place: state handles hold their tables.
    for (const t of this.tables.values()) t.clear();
    this.eventTimers.clear();
    this.processingTimers.clear();
    for (const [key, entries] of s.state) {
      for (const [name, kind, v] of entries) {
        const t = this.table(name);
        if (kind === "map") t.set(key, { kind, v: new Map(Object.entries(v as Record<string, Value>)) });
        else if (kind === "list") t.set(key, { kind, v: (v as Value[]).slice() });
        else t.set(key, { kind, v: v as Value });
      }
    }
    for (const t of s.eventTimers) this.eventTimers.set(timerId(t), t);
    for (const t of s.processingTimers) this.processingTimers.set(timerId(t), t);
  }

  /** The state of every key, as the oracle's contract encodes it (sorted; empty keys omitted). */
  entries(vertex: string): KeyedStateEntry[] {
    const out: KeyedStateEntry[] = [];
    const tables = this.sortedTables();
    for (const k of this.sortedKeys()) {
      const state: Record<string, JsonValue> = {};
      for (const [n, t] of tables) {
        const s = t.get(k);
        if (s === undefined) continue;
        if (s.kind === "map") {
          if (s.v.size === 0) continue;
          state[n] = Object.fromEntries([...s.v.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
        } else if (s.kind === "list") {
          if (s.v.length === 0) continue;
          state[n] = s.v.slice();
        } else state[n] = s.v;
      }
      if (Object.keys(state).length > 0) out.push({ vertex, key: k, state });
    }
    return out;
  }
}
