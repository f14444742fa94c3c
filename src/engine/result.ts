/**
 * What a run produces, as plain data: the oracle and the reports read this and the trace, never
 * the engine's runtime objects.
 */
import type { JsonValue, TraceEvent } from "../sim/trace.ts";
import type { SinkKind } from "./plan/plan.ts";

export type JobStatus = "CREATED" | "RUNNING" | "RESTARTING" | "FINISHED" | "FAILED" | "CANCELED";

export type CheckpointStatus = "IN_PROGRESS" | "COMPLETED" | "FAILED";

/** Checkpoint statistics as Flink's UI shows them. */
export type CheckpointStats = {
  readonly id: number;
  readonly status: CheckpointStatus;
  readonly triggerTimeMs: number;
  /** Trigger to completion or abort. */
  readonly durationMs: number | null;
  readonly stateBytes: number | null;
  /** Per subtask: `${vertex}#${subtask}` -> alignment duration in ms. */
  readonly alignmentMs: { readonly [subtask: string]: number };
  readonly acknowledged: number;
  readonly total: number;
  /** Why it failed: "expired", "declined: ...", "subsumed", "io: ...", "job failover". */
  readonly failureReason: string | null;
  /** Which attempt of the job (0 = first run, +1 per restart) triggered it. */
  readonly attempt: number;
};

export type SinkOutput = {
  readonly vertex: string;
  readonly topic: string;
  readonly kind: SinkKind;
  /** Records visible to a read-committed reader, in log order. */
  readonly committed: readonly JsonValue[];
  /** Upsert sinks: the final table (key -> last value), keys sorted. */
  readonly table?: ReadonlyArray<readonly [string, JsonValue]>;
};

/** Final keyed state of one key of one operator (state name -> value), at job end. */
export type KeyedStateEntry = {
  readonly vertex: string;
  readonly key: string;
  readonly state: { readonly [name: string]: JsonValue };
};

export type RunResult = {
  readonly status: JobStatus;
  /** Why the job failed, or why the run ended abnormally (a liveness bound). */
  readonly failureReason: string | null;
  /** The run ended because a simulation bound was exceeded. */
  readonly boundExceeded: "maxEvents" | "maxTimeMs" | null;
  readonly endTimeMs: number;
  readonly events: number;
  readonly traceHash: string;
  readonly sinks: readonly SinkOutput[];
  /** Present when the job FINISHED; sorted by vertex then key. */
  readonly finalState: readonly KeyedStateEntry[] | null;
  readonly checkpoints: readonly CheckpointStats[];
  readonly restores: ReadonlyArray<{ readonly timeMs: number; readonly checkpointId: number | null; readonly attempt: number }>;
  /** Transactions still open on the broker at the end (tid, epoch). */
  readonly openTransactions: ReadonlyArray<{ readonly tid: string; readonly epoch: number }>;
  readonly trace: readonly TraceEvent[];
  /** BUGGIFY points reached and fired. */
  readonly faultPoints: ReadonlyArray<{ readonly name: string; readonly active: boolean; readonly calls: number; readonly fired: number }>;
};
