/**
 * User function interfaces (Flink's names). These are what a plan's operators call; both the
 * engine runtime and the oracle's reference interpreter drive them, each with its own state and
 * timer implementation.
 */
import type { JsonValue } from "../../sim/trace.ts";

export type Value = JsonValue;

export type MapFunction = (value: Value) => Value;
export type FilterFunction = (value: Value) => boolean;
export type FlatMapFunction = (value: Value) => Value[];
export type KeySelector = (value: Value) => string;
export type ReduceFunction = (accumulated: Value, value: Value) => Value;

/** Window aggregation: Flink's AggregateFunction plus the window result shape. */
export interface AggregateFunction {
  createAccumulator(): Value;
  add(value: Value, accumulator: Value): Value;
  getResult(accumulator: Value, key: string, window: { start: number; end: number }): Value;
}

export interface ValueState<T extends Value = Value> {
  value(): T | undefined;
  update(value: T): void;
  clear(): void;
}
export interface ListState<T extends Value = Value> {
  get(): readonly T[];
  add(value: T): void;
  update(values: readonly T[]): void;
  clear(): void;
}
export interface MapState<V extends Value = Value> {
  get(key: string): V | undefined;
  put(key: string, value: V): void;
  remove(key: string): void;
  contains(key: string): boolean;
  /** Keys in sorted order (deterministic). */
  keys(): string[];
  isEmpty(): boolean;
  clear(): void;
}

export interface RuntimeContext {
  getState<T extends Value = Value>(name: string): ValueState<T>;
  getListState<T extends Value = Value>(name: string): ListState<T>;
  getMapState<V extends Value = Value>(name: string): MapState<V>;
  readonly subtaskIndex: number;
  readonly parallelism: number;
}

export interface TimerService {
  currentWatermark(): number;
  currentProcessingTime(): number;
  registerEventTimeTimer(timestampMs: number): void;
  deleteEventTimeTimer(timestampMs: number): void;
  registerProcessingTimeTimer(timestampMs: number): void;
  deleteProcessingTimeTimer(timestampMs: number): void;
}

export interface ProcessContext {
  /** Event timestamp of the current record (or of the firing timer). */
  readonly timestamp: number;
  readonly currentKey: string;
  readonly timerService: TimerService;
}

export interface Collector {
  /** Emit with the current timestamp, or with an explicit one. */
  collect(value: Value, timestampMs?: number): void;
}

/** Flink's KeyedProcessFunction. State must live in the RuntimeContext's state to survive failures. */
export interface KeyedProcessFunction {
  open?(ctx: RuntimeContext): void;
  processElement(value: Value, ctx: ProcessContext, out: Collector): void;
  onTimer?(timestampMs: number, ctx: ProcessContext & { readonly timeDomain: "event" | "processing" }, out: Collector): void;
}

export const MIN_WATERMARK = -Number.MAX_SAFE_INTEGER;
export const MAX_WATERMARK = Number.MAX_SAFE_INTEGER;
