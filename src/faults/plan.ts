/**
 * Fault plans as data: a list of faults, each with a moment, plus background chaos.
 *
 * A moment is either an absolute simulated time (`at: 1200`) or a trigger on the trace
 * (`at: { after: "checkpoint-completed", nth: 2, delayMs: 0 }`): "the moment the 2nd checkpoint
 * completes", which is how the worst moments are aimed at (between a checkpoint's completion and
 * its notification, during an alignment, while a transaction is open).
 *
 * Nodes of a simulated cluster: "jm", "tm-0" ... "tm-(n-1)", "broker", "storage".
 * Faults come in pairs: a crash restarts after `restartAfterMs` (omitted: stays down), a partition
 * heals after `durationMs`, a clog releases, a slow disk recovers.
 */
export type TriggerKind =
  | "checkpoint-triggered"
  | "checkpoint-completed"
  | "alignment-started"
  | "txn-opened"
  | "restore"
  | "job-running";

export type Moment = number | { readonly after: TriggerKind; readonly nth?: number; readonly delayMs?: number };

export type Fault =
  /** Process crash: the node's timers, memory and unsynced disk writes are gone. */
  | { readonly at: Moment; readonly fault: "crash"; readonly node: string; readonly restartAfterMs?: number }
  /** A task throws (user code or I/O error): the subtask fails, the job fails over. */
  | { readonly at: Moment; readonly fault: "failTask"; readonly vertex: string; readonly subtask: number }
  | {
      readonly at: Moment;
      readonly fault: "partition";
      readonly a: readonly string[];
      readonly b: readonly string[];
      readonly oneWay?: boolean;
      readonly durationMs: number;
    }
  /** Hold every message on from->to (both directions if `bidirectional`), then release in order. */
  | {
      readonly at: Moment;
      readonly fault: "clog";
      readonly from: string;
      readonly to: string;
      readonly bidirectional?: boolean;
      readonly durationMs: number;
    }
  | { readonly at: Moment; readonly fault: "slowDisk"; readonly node?: string; readonly factor: number; readonly durationMs: number }
  | {
      readonly at: Moment;
      readonly fault: "diskFailures";
      readonly node?: string;
      readonly writeFailureProbability: number;
      readonly durationMs: number;
    }
  /** Multiply an operator's per-record cost (backpressure, checkpoint timeouts). */
  | { readonly at: Moment; readonly fault: "slowOperator"; readonly vertex: string; readonly factor: number; readonly durationMs: number }
  /** Lose the RPCs of one kind for a while. */
  | {
      readonly at: Moment;
      readonly fault: "dropRpc";
      readonly rpc: "notifyCheckpointComplete" | "acknowledgeCheckpoint" | "triggerCheckpoint" | "heartbeat";
      readonly durationMs: number;
    }
  | { readonly at: Moment; readonly fault: "slowBroker"; readonly factor: number; readonly durationMs: number };

export type FaultKind = Fault["fault"];

/** Every fault kind, in a fixed order (validation messages, generators, reports). */
export const FAULT_KINDS: readonly FaultKind[] = [
  "crash",
  "failTask",
  "partition",
  "clog",
  "slowDisk",
  "diskFailures",
  "slowOperator",
  "dropRpc",
  "slowBroker",
];

export type ChaosOptions = {
  /** Probability that any one RPC (datagram) between nodes is lost. */
  readonly rpcLossProbability: number;
  /** Probability that a checkpoint-storage write fails with EIO. */
  readonly storageWriteFailureProbability: number;
  /** Enable BUGGIFY fault points. */
  readonly buggify: boolean;
};

export type FaultPlan = { readonly faults: readonly Fault[]; readonly chaos?: Partial<ChaosOptions> };

export const emptyFaultPlan: FaultPlan = { faults: [] };

export const defaultChaos: ChaosOptions = { rpcLossProbability: 0, storageWriteFailureProbability: 0, buggify: false };

/** The latest absolute time at which a fault of the plan is still active (triggered faults count as unknown: undefined). */
export function faultPlanEndMs(plan: FaultPlan): number | undefined {
  let end = 0;
  for (const f of plan.faults) {
    if (typeof f.at !== "number") return undefined;
    const dur = "durationMs" in f ? f.durationMs : f.fault === "crash" ? (f.restartAfterMs ?? 0) : 0;
    end = Math.max(end, f.at + dur);
  }
  return end;
}
