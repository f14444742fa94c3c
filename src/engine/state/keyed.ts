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

export type KeyedSnapshot = {
  readonly state: ReadonlyArray<readonly [string, ReadonlyArray<readonly [string, "value" | "list" | "map", JsonValue]>]>;
  readonly eventTimers: readonly TimerEntry[];
  readonly processingTimers: readonly TimerEntry[];
};

const timerId = (t: TimerEntry): string => `${t.ts}|${t.key}`;
const byTsKey = (a: TimerEntry, b: TimerEntry): number => a.ts - b.ts || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

export class KeyedStateBackend {
  private readonly data = new Map<string, Map<string, StateValue>>();
  currentKey = "";
  private readonly eventTimers = new Map<string, TimerEntry>();
  private readonly processingTimers = new Map<string, TimerEntry>();

  private slot(name: string, kind: StateValue["kind"], create: boolean): StateValue | undefined {
    let perKey = this.data.get(this.currentKey);
    if (perKey === undefined) {
      if (!create) return undefined;
      perKey = new Map();
      this.data.set(this.currentKey, perKey);
    }
    let s = perKey.get(name);
    if (s === undefined && create) {
      s = kind === "value" ? { kind, v: null } : kind === "list" ? { kind, v: [] } : { kind, v: new Map() };
      perKey.set(name, s);
    }
    return s;
  }

  private drop(name: string): void {
    const perKey = this.data.get(this.currentKey);
    if (perKey === undefined) return;
    perKey.delete(name);
    if (perKey.size === 0) this.data.delete(this.currentKey);
  }

  valueState<T extends Value>(name: string): ValueState<T> {
    return {
      value: () => {
        const s = this.slot(name, "value", false);
        return s === undefined ? undefined : (s.v as T);
      },
      update: (v: T) => {
        (this.slot(name, "value", true) as { v: Value }).v = v;
      },
      clear: () => this.drop(name),
    };
  }

  listState<T extends Value>(name: string): ListState<T> {
    return {
      get: () => ((this.slot(name, "list", false)?.v as T[] | undefined) ?? []).slice(),
      add: (v: T) => {
        (this.slot(name, "list", true)?.v as Value[]).push(v);
      },
      update: (vs: readonly T[]) => {
        if (vs.length === 0) this.drop(name);
        else (this.slot(name, "list", true) as { v: Value[] }).v = vs.slice();
      },
      clear: () => this.drop(name),
    };
  }

  mapState<V extends Value>(name: string): MapState<V> {
    const m = (create: boolean): Map<string, Value> | undefined =>
      this.slot(name, "map", create)?.v as Map<string, Value> | undefined;
    return {
      get: (k) => m(false)?.get(k) as V | undefined,
      put: (k, v) => {
        m(true)?.set(k, v);
      },
      remove: (k) => {
        const mm = m(false);
        if (mm === undefined) return;
        mm.delete(k);
        if (mm.size === 0) this.drop(name);
      },
      contains: (k) => m(false)?.has(k) ?? false,
      keys: () => [...(m(false)?.keys() ?? [])].sort(),
      isEmpty: () => (m(false)?.size ?? 0) === 0,
      clear: () => this.drop(name),
    };
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

  snapshot(): KeyedSnapshot {
    const keys = [...this.data.keys()].sort();
    const state = keys.map((k) => {
      const perKey = this.data.get(k) as Map<string, StateValue>;
      const names = [...perKey.keys()].sort();
      return [
        k,
        names.map((n) => {
          const s = perKey.get(n) as StateValue;
          const v: JsonValue = s.kind === "map" ? Object.fromEntries([...s.v.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) : s.v;
          // A deep copy (the snapshot must not share objects with live state).
          return [n, s.kind, JSON.parse(JSON.stringify(v)) as JsonValue] as const;
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
    this.data.clear();
    this.eventTimers.clear();
    this.processingTimers.clear();
    for (const [key, entries] of s.state) {
      const perKey = new Map<string, StateValue>();
      for (const [name, kind, v] of entries) {
        if (kind === "map") perKey.set(name, { kind, v: new Map(Object.entries(v as Record<string, Value>)) });
        else if (kind === "list") perKey.set(name, { kind, v: (v as Value[]).slice() });
        else perKey.set(name, { kind, v: v as Value });
      }
      this.data.set(key, perKey);
    }
    for (const t of s.eventTimers) this.eventTimers.set(timerId(t), t);
    for (const t of s.processingTimers) this.processingTimers.set(timerId(t), t);
  }

  /** The state of every key, as the oracle's contract encodes it (sorted; empty keys omitted). */
  entries(vertex: string): KeyedStateEntry[] {
    const out: KeyedStateEntry[] = [];
    for (const k of [...this.data.keys()].sort()) {
      const perKey = this.data.get(k) as Map<string, StateValue>;
      const state: Record<string, JsonValue> = {};
      for (const n of [...perKey.keys()].sort()) {
        const s = perKey.get(n) as StateValue;
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
