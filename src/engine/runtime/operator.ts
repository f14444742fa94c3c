/**
 * The operator contract inside a task. An operator decides; the task carries out effects
 * (channels, snapshots, acknowledgements).
 */
import type { JsonValue } from "../../sim/trace.ts";
import type { Value } from "../plan/functions.ts";
import type { KeyedStateEntry } from "../result.ts";

export interface Output {
  emit(value: Value, ts: number): void;
}

export interface Operator {
  /** Restore from a snapshot (before open). */
  restore(state: JsonValue): void;
  /** Open; async for operators that talk to the outside world. Call `done(error?)` once. */
  open(done: (error?: string) => void): void;
  processRecord(value: Value, ts: number): void;
  /** The combined input watermark advanced (fire event-time timers here; the task forwards it). */
  processWatermark(wm: number): void;
  /** Every input has ended (after the final MAX watermark). */
  endOfInput(): void;
  /** Called after each processing step (sinks send their batched writes). */
  afterStep?(): void;
  /** Called when the task has nothing to do (no mail, no input, not backpressured): sources fetch. */
  idle?(): void;
  /**
   * Synchronous part of a snapshot for checkpoint `id`: the operator's state as JSON, or a
   * function that gives it once `flush` has completed (for state that names values the outside
   * world is still returning, such as a transaction's epoch).
   */
  snapshot(id: number): JsonValue | (() => JsonValue);
  /** Asynchronous part: external writes before the barrier are durable. */
  flush?(id: number, done: (error?: string) => void): void;
  notifyCheckpointComplete?(id: number): void;
  /** After end of data: nothing left to do (e.g. every pending transaction committed). Default true. */
  isFinished?(): boolean;
  /** Keyed state at job end, for the state checker. */
  finalState?(): KeyedStateEntry[];
  close?(): void;
}
