/**
 * Flink's CheckpointConfig: the checkpointing options of a job, validated as Flink validates them
 * (each setter throws an ApiError naming the option), with Flink's defaults.
 */
import {
  defaultCheckpointConfig,
  MIN_CHECKPOINT_INTERVAL_MS,
  MIN_CHECKPOINT_TIMEOUT_MS,
  validateCheckpointConfig,
  type CheckpointConfigData,
  type CheckpointingMode as CheckpointingModeName,
} from "../config.ts";
import { ApiError } from "./errors.ts";

/** Flink's CheckpointingMode. */
export const CheckpointingMode = {
  EXACTLY_ONCE: "EXACTLY_ONCE",
  AT_LEAST_ONCE: "AT_LEAST_ONCE",
} as const satisfies Record<CheckpointingModeName, CheckpointingModeName>;
export type CheckpointingMode = CheckpointingModeName;

const isInt = (v: number): boolean => Number.isInteger(v);

export class CheckpointConfig {
  private data: CheckpointConfigData = defaultCheckpointConfig;

  /** The options as plan data (what a scenario stores). */
  toData(): CheckpointConfigData {
    return this.data;
  }

  private set(patch: Partial<CheckpointConfigData>, call: string): this {
    const next = { ...this.data, ...patch };
    const problem = validateCheckpointConfig(next, "checkpoint");
    if (problem !== undefined) throw new ApiError(`${call}: ${problem}`);
    this.data = next;
    return this;
  }

  /** Periodic checkpoints every `intervalMs` (at least 10 ms). */
  setCheckpointInterval(intervalMs: number): this {
    if (!(Number.isFinite(intervalMs) && intervalMs >= MIN_CHECKPOINT_INTERVAL_MS))
      throw new ApiError(`setCheckpointInterval: checkpoint interval must be at least ${MIN_CHECKPOINT_INTERVAL_MS} ms, got ${intervalMs}`);
    return this.set({ intervalMs }, "setCheckpointInterval");
  }
  getCheckpointInterval(): number {
    return this.data.intervalMs;
  }
  isCheckpointingEnabled(): boolean {
    return this.data.intervalMs > 0;
  }
  /** Turn periodic checkpoints off (Flink: interval -1). */
  disableCheckpointing(): this {
    return this.set({ intervalMs: -1 }, "disableCheckpointing");
  }

  setCheckpointingMode(mode: CheckpointingMode): this {
    if (mode !== "EXACTLY_ONCE" && mode !== "AT_LEAST_ONCE")
      throw new ApiError(`setCheckpointingMode: checkpointing mode must be CheckpointingMode.EXACTLY_ONCE or AT_LEAST_ONCE, got ${JSON.stringify(mode)}`);
    if (mode === "AT_LEAST_ONCE" && this.data.unaligned)
      throw new ApiError("setCheckpointingMode: unaligned checkpoints need EXACTLY_ONCE; call enableUnalignedCheckpoints(false) first");
    return this.set({ mode }, "setCheckpointingMode");
  }
  getCheckpointingMode(): CheckpointingMode {
    return this.data.mode;
  }

  /** A pending checkpoint older than this is aborted as expired (at least 10 ms; default 10 minutes). */
  setCheckpointTimeout(timeoutMs: number): this {
    if (!(Number.isFinite(timeoutMs) && timeoutMs >= MIN_CHECKPOINT_TIMEOUT_MS))
      throw new ApiError(`setCheckpointTimeout: checkpoint timeout must be at least ${MIN_CHECKPOINT_TIMEOUT_MS} ms, got ${timeoutMs}`);
    return this.set({ timeoutMs }, "setCheckpointTimeout");
  }
  getCheckpointTimeout(): number {
    return this.data.timeoutMs;
  }

  /** Least time from the completion of one checkpoint to the trigger of the next (>= 0). */
  setMinPauseBetweenCheckpoints(minPauseMs: number): this {
    if (!(Number.isFinite(minPauseMs) && minPauseMs >= 0))
      throw new ApiError(`setMinPauseBetweenCheckpoints: min pause between checkpoints must be zero or positive, got ${minPauseMs}`);
    return this.set({ minPauseMs }, "setMinPauseBetweenCheckpoints");
  }
  getMinPauseBetweenCheckpoints(): number {
    return this.data.minPauseMs;
  }

  /** Most checkpoints pending at once (an integer >= 1). */
  setMaxConcurrentCheckpoints(maxConcurrent: number): this {
    if (!(isInt(maxConcurrent) && maxConcurrent >= 1))
      throw new ApiError(`setMaxConcurrentCheckpoints: max concurrent checkpoints must be an integer of at least 1, got ${maxConcurrent}`);
    if (this.data.unaligned && maxConcurrent !== 1)
      throw new ApiError(`setMaxConcurrentCheckpoints: unaligned checkpoints need max concurrent checkpoints 1, got ${maxConcurrent}`);
    return this.set({ maxConcurrent }, "setMaxConcurrentCheckpoints");
  }
  getMaxConcurrentCheckpoints(): number {
    return this.data.maxConcurrent;
  }

  /** Checkpoint failures (expired, declined, I/O) tolerated before the job fails (an integer >= 0; default 0). */
  setTolerableCheckpointFailureNumber(tolerableFailures: number): this {
    if (!(isInt(tolerableFailures) && tolerableFailures >= 0))
      throw new ApiError(`setTolerableCheckpointFailureNumber: tolerable checkpoint failure number must be an integer of at least 0, got ${tolerableFailures}`);
    return this.set({ tolerableFailures }, "setTolerableCheckpointFailureNumber");
  }
  getTolerableCheckpointFailureNumber(): number {
    return this.data.tolerableFailures;
  }

  /** Completed checkpoints kept in storage (Flink's state.checkpoints.num-retained; an integer >= 1, default 1). */
  setNumRetainedCheckpoints(retained: number): this {
    if (!(isInt(retained) && retained >= 1))
      throw new ApiError(`setNumRetainedCheckpoints: number of retained checkpoints must be an integer of at least 1, got ${retained}`);
    return this.set({ retained }, "setNumRetainedCheckpoints");
  }
  getNumRetainedCheckpoints(): number {
    return this.data.retained;
  }

  /**
   * Unaligned checkpoints: barriers overtake queued data, which becomes part of the checkpoint
   * (only with EXACTLY_ONCE and max concurrent 1). They complete fast under backpressure.
   */
  enableUnalignedCheckpoints(enabled = true): this {
    if (enabled && this.data.mode !== "EXACTLY_ONCE")
      throw new ApiError("enableUnalignedCheckpoints: unaligned checkpoints need checkpointing mode EXACTLY_ONCE");
    if (enabled && this.data.maxConcurrent !== 1)
      throw new ApiError(`enableUnalignedCheckpoints: unaligned checkpoints need max concurrent checkpoints 1, got ${this.data.maxConcurrent}`);
    return this.set({ unaligned: enabled }, "enableUnalignedCheckpoints");
  }
  isUnalignedCheckpointsEnabled(): boolean {
    return this.data.unaligned;
  }
}
