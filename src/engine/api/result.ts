/**
 * What `execute()` returns: Flink's JobExecutionResult, plus what a simulation can tell: the
 * committed output of every sink, the checkpoint statistics, the trace hash, and the oracle's
 * judgement of the run.
 */
import type { CheckedRun } from "../../runner/check.ts";
import type { Judgement } from "../../oracle/checkers.ts";
import type { Scenario } from "../../scenario.ts";
import type { JsonValue } from "../../sim/trace.ts";
import type { CheckpointStats, JobStatus, RunResult, SinkOutput } from "../result.ts";
import { ApiError } from "./errors.ts";

export class JobExecutionResult {
  readonly jobName: string;
  /** FINISHED, FAILED, or where the run stopped (a simulation bound). */
  readonly status: JobStatus;
  readonly failureReason: string | null;
  /** Every sink's committed output (read-committed), in plan order. */
  readonly sinks: readonly SinkOutput[];
  readonly checkpoints: readonly CheckpointStats[];
  readonly restores: RunResult["restores"];
  /** The run's fingerprint: the same scenario gives the same hash. */
  readonly traceHash: string;
  /** The oracle's verdict on the run (exactly-once, no loss, checkpoint invariants, liveness ...). */
  readonly judgement: Judgement;
  /** The scenario that ran (replayable with `streamsim run` when the plan uses no closures). */
  readonly scenario: Scenario;
  /** The full run result, trace included. */
  readonly run: RunResult;

  /** @internal */
  constructor(checked: CheckedRun) {
    this.jobName = checked.scenario.name;
    this.run = checked.result;
    this.status = checked.result.status;
    this.failureReason = checked.result.failureReason;
    this.sinks = checked.result.sinks;
    this.checkpoints = checked.result.checkpoints;
    this.restores = checked.result.restores;
    this.traceHash = checked.result.traceHash;
    this.judgement = checked.judgement;
    this.scenario = checked.scenario;
  }

  /** Simulated time from start to the end of the job, in ms (Flink's getNetRuntime). */
  getNetRuntime(): number {
    return this.run.endTimeMs;
  }

  /** The committed records of a sink, by sink id or topic (upsert sinks: the table's values, by key). */
  committed(sinkIdOrTopic: string): readonly JsonValue[] {
    const s = this.sinks.find((x) => x.vertex === sinkIdOrTopic) ?? this.sinks.find((x) => x.topic === sinkIdOrTopic);
    if (s === undefined)
      throw new ApiError(`committed: no sink "${sinkIdOrTopic}"; sinks: ${this.sinks.map((x) => `${x.vertex} (topic ${x.topic})`).join(", ")}`);
    return s.committed;
  }

  /** The checkpoint statistics as a table, as Flink's UI lists them. */
  checkpointTable(): string {
    return formatCheckpointTable(this.checkpoints);
  }

  /** A few lines: status, runtime, checkpoints, restores, verdict, trace hash. */
  summary(): string {
    const done = this.checkpoints.filter((c) => c.status === "COMPLETED").length;
    const lines = [
      `job "${this.jobName}": ${this.status} after ${fmtMs(this.getNetRuntime())}${this.failureReason === null ? "" : ` (${this.failureReason})`}`,
      `checkpoints: ${done} of ${this.checkpoints.length} completed; restores: ${this.restores.length}`,
      ...this.sinks.map((s) => `sink ${s.vertex} (${s.kind}, topic ${s.topic}): ${s.committed.length} records committed`),
      `verdict: ${this.judgement.summary}`,
      `trace hash: ${this.traceHash}`,
    ];
    return lines.join("\n");
  }
}

function fmtMs(ms: number): string {
  return `${Number.isInteger(ms) ? ms : Number(ms.toFixed(1))} ms`;
}

function fmtBytes(b: number | null): string {
  if (b === null) return "-";
  return b < 1024 ? `${b} B` : `${(b / 1024).toFixed(1)} KiB`;
}

/** Checkpoint statistics as a fixed-width table: id, status, trigger, duration, state, max alignment, failure. */
export function formatCheckpointTable(stats: readonly CheckpointStats[]): string {
  const head = ["checkpoint", "status", "attempt", "triggered", "duration", "state", "max alignment", "failure"];
  const rows = stats.map((c) => {
    const aligned = Object.entries(c.alignmentMs).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    let max: [string, number] | undefined;
    for (const [task, ms] of aligned) if (max === undefined || ms > max[1]) max = [task, ms];
    return [
      String(c.id),
      c.status,
      String(c.attempt),
      fmtMs(c.triggerTimeMs),
      c.durationMs === null ? "-" : fmtMs(c.durationMs),
      fmtBytes(c.stateBytes),
      max === undefined || max[1] === 0 ? "-" : `${fmtMs(max[1])} (${max[0]})`,
      c.failureReason ?? "",
    ];
  });
  if (rows.length === 0) return "no checkpoints";
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] as number)))
      .join("  ")
      .trimEnd();
  return [line(head), ...rows.map(line)].join("\n");
}
