/**
 * Job and cluster configuration as data, with Flink's defaults and Flink's validation rules
 * (see shared FLINK-SEMANTICS.md). Every validator returns a sentence naming the field and the
 * fix, or undefined.
 */
export type CheckpointingMode = "EXACTLY_ONCE" | "AT_LEAST_ONCE";

export type CheckpointConfigData = {
  /** Periodic checkpoint interval; -1 disables checkpointing. At least 10 ms when enabled. */
  readonly intervalMs: number;
  readonly mode: CheckpointingMode;
  /** A pending checkpoint older than this expires. At least 10 ms. Flink's default: 10 minutes. */
  readonly timeoutMs: number;
  /** Minimum pause from the last completion to the next trigger. */
  readonly minPauseMs: number;
  readonly maxConcurrent: number;
  /** Checkpoint failures tolerated before the job fails (Flink: undefined reads as 0). */
  readonly tolerableFailures: number;
  /** Completed checkpoints kept in storage (Flink's state.checkpoints.num-retained, default 1). */
  readonly retained: number;
  readonly unaligned: boolean;
};

export const defaultCheckpointConfig: CheckpointConfigData = {
  intervalMs: -1,
  mode: "EXACTLY_ONCE",
  timeoutMs: 600_000,
  minPauseMs: 0,
  maxConcurrent: 1,
  tolerableFailures: 0,
  retained: 1,
  unaligned: false,
};

export const MIN_CHECKPOINT_INTERVAL_MS = 10;
export const MIN_CHECKPOINT_TIMEOUT_MS = 10;

export function validateCheckpointConfig(c: CheckpointConfigData, field = "config.checkpoint"): string | undefined {
  const isInt = (v: number): boolean => Number.isInteger(v);
  if (c.intervalMs !== -1 && !(c.intervalMs >= MIN_CHECKPOINT_INTERVAL_MS))
    return `${field}.intervalMs must be at least ${MIN_CHECKPOINT_INTERVAL_MS} ms (or -1 to disable checkpointing), got ${c.intervalMs}`;
  if (c.mode !== "EXACTLY_ONCE" && c.mode !== "AT_LEAST_ONCE")
    return `${field}.mode must be "EXACTLY_ONCE" or "AT_LEAST_ONCE", got ${JSON.stringify(c.mode)}`;
  if (!(c.timeoutMs >= MIN_CHECKPOINT_TIMEOUT_MS))
    return `${field}.timeoutMs must be at least ${MIN_CHECKPOINT_TIMEOUT_MS}, got ${c.timeoutMs}`;
  if (!(c.minPauseMs >= 0)) return `${field}.minPauseMs must be >= 0, got ${c.minPauseMs}`;
  if (!isInt(c.maxConcurrent) || c.maxConcurrent < 1)
    return `${field}.maxConcurrent must be an integer >= 1, got ${c.maxConcurrent}`;
  if (!isInt(c.tolerableFailures) || c.tolerableFailures < 0)
    return `${field}.tolerableFailures must be an integer >= 0, got ${c.tolerableFailures}`;
  if (!isInt(c.retained) || c.retained < 1) return `${field}.retained must be an integer >= 1, got ${c.retained}`;
  if (c.unaligned && c.mode !== "EXACTLY_ONCE")
    return `${field}.unaligned needs mode EXACTLY_ONCE (unaligned checkpoints are exactly-once only)`;
  if (c.unaligned && c.maxConcurrent !== 1) return `${field}.unaligned needs maxConcurrent 1, got ${c.maxConcurrent}`;
  return undefined;
}

export type RestartStrategyData =
  | { readonly kind: "none" }
  | { readonly kind: "fixedDelay"; readonly attempts: number; readonly delayMs: number }
  | {
      readonly kind: "failureRate";
      readonly maxFailuresPerInterval: number;
      readonly intervalMs: number;
      readonly delayMs: number;
    }
  | {
      readonly kind: "exponentialDelay";
      readonly initialBackoffMs: number;
      readonly maxBackoffMs: number;
      readonly multiplier: number;
      readonly resetThresholdMs: number;
      readonly jitterFactor: number;
    };

/** Flink's default: fixed delay with unlimited attempts when checkpointing is on, else no restart. */
export function effectiveRestartStrategy(r: RestartStrategyData | undefined, c: CheckpointConfigData): RestartStrategyData {
  if (r !== undefined) return r;
  return c.intervalMs > 0 ? { kind: "fixedDelay", attempts: Number.MAX_SAFE_INTEGER, delayMs: 1000 } : { kind: "none" };
}

export function validateRestartStrategy(r: RestartStrategyData, field = "config.restart"): string | undefined {
  const nonNeg = (v: number, n: string): string | undefined =>
    v >= 0 && Number.isFinite(v) ? undefined : `${field}.${n} must be a finite number >= 0, got ${v}`;
  switch (r.kind) {
    case "none":
      return undefined;
    case "fixedDelay":
      return !Number.isInteger(r.attempts) || r.attempts < 0
        ? `${field}.attempts must be an integer >= 0, got ${r.attempts}`
        : nonNeg(r.delayMs, "delayMs");
    case "failureRate":
      return !Number.isInteger(r.maxFailuresPerInterval) || r.maxFailuresPerInterval < 1
        ? `${field}.maxFailuresPerInterval must be an integer >= 1, got ${r.maxFailuresPerInterval}`
        : !(r.intervalMs > 0)
          ? `${field}.intervalMs must be > 0, got ${r.intervalMs}`
          : nonNeg(r.delayMs, "delayMs");
    case "exponentialDelay":
      if (!(r.initialBackoffMs > 0)) return `${field}.initialBackoffMs must be > 0, got ${r.initialBackoffMs}`;
      if (!(r.maxBackoffMs >= r.initialBackoffMs))
        return `${field}.maxBackoffMs must be >= initialBackoffMs (${r.initialBackoffMs}), got ${r.maxBackoffMs}`;
      if (!(r.multiplier >= 1)) return `${field}.multiplier must be >= 1, got ${r.multiplier}`;
      if (!(r.resetThresholdMs > 0)) return `${field}.resetThresholdMs must be > 0, got ${r.resetThresholdMs}`;
      if (!(r.jitterFactor >= 0 && r.jitterFactor <= 1)) return `${field}.jitterFactor must be in [0, 1], got ${r.jitterFactor}`;
      return undefined;
    default:
      return `${field}.kind must be one of none, fixedDelay, failureRate, exponentialDelay, got ${JSON.stringify((r as { kind: unknown }).kind)}`;
  }
}

/** Runtime knobs of the job (Flink's execution config, in simulated units). */
export type JobConfigData = {
  readonly checkpoint: CheckpointConfigData;
  /** Undefined means Flink's default rule (see effectiveRestartStrategy). */
  readonly restart?: RestartStrategyData;
  /** Default simulated processing cost per record and operator, in ms. */
  readonly costMsPerRecord: number;
  /** Records per network buffer. */
  readonly bufferRecords: number;
  /** A partly filled buffer is flushed after this long (Flink's buffer timeout). */
  readonly bufferTimeoutMs: number;
  /** Buffers a receiver grants each channel (credit-based flow control). */
  readonly channelCredits: number;
  /** Records a source fetches from the broker per request. */
  readonly sourceFetchRecords: number;
  /**
   * How often a source emits its bounded-out-of-orderness watermark, in simulated ms (Flink's
   * ExecutionConfig.setAutoWatermarkInterval, default 200): an advanced watermark goes out at the
   * next tick of a periodic timer started when the source opens. 0 emits it after every step of the
   * source instead, as a punctuated generator would (unlike Flink, where 0 disables periodic emission).
   */
  readonly autoWatermarkIntervalMs: number;
  /**
   * When input becomes readable: "none", all of it at once (a backlog); "eventTime", each record
   * once simulated time reaches its timestamp (the running maximum within its partition), so a job
   * runs as long as its input spans and faults land while it runs. Optional: "none" when absent.
   */
  readonly sourcePacing?: "none" | "eventTime";
};

export const defaultJobConfig: JobConfigData = {
  checkpoint: defaultCheckpointConfig,
  costMsPerRecord: 0.01,
  bufferRecords: 32,
  bufferTimeoutMs: 1,
  channelCredits: 4,
  sourceFetchRecords: 64,
  autoWatermarkIntervalMs: 200,
};

export function validateJobConfig(j: JobConfigData, field = "config"): string | undefined {
  const cp = validateCheckpointConfig(j.checkpoint, `${field}.checkpoint`);
  if (cp) return cp;
  if (j.restart) {
    const r = validateRestartStrategy(j.restart, `${field}.restart`);
    if (r) return r;
  }
  if (!(j.costMsPerRecord >= 0)) return `${field}.costMsPerRecord must be >= 0, got ${j.costMsPerRecord}`;
  if (!Number.isInteger(j.bufferRecords) || j.bufferRecords < 1)
    return `${field}.bufferRecords must be an integer >= 1, got ${j.bufferRecords}`;
  if (!(j.bufferTimeoutMs >= 0)) return `${field}.bufferTimeoutMs must be >= 0, got ${j.bufferTimeoutMs}`;
  if (!Number.isInteger(j.channelCredits) || j.channelCredits < 1)
    return `${field}.channelCredits must be an integer >= 1, got ${j.channelCredits}`;
  if (!Number.isInteger(j.sourceFetchRecords) || j.sourceFetchRecords < 1)
    return `${field}.sourceFetchRecords must be an integer >= 1, got ${j.sourceFetchRecords}`;
  if (!(j.autoWatermarkIntervalMs >= 0 && Number.isFinite(j.autoWatermarkIntervalMs)))
    return `${field}.autoWatermarkIntervalMs must be a finite number >= 0 (0: after every source step), got ${j.autoWatermarkIntervalMs}`;
  if (j.sourcePacing !== undefined && j.sourcePacing !== "none" && j.sourcePacing !== "eventTime")
    return `${field}.sourcePacing must be "none" or "eventTime", got ${JSON.stringify(j.sourcePacing)}`;
  return undefined;
}

export type ClusterConfigData = {
  readonly taskManagers: number;
  readonly slotsPerTaskManager: number;
  readonly heartbeatIntervalMs: number;
  readonly heartbeatTimeoutMs: number;
  /** Network latency between nodes: uniform in [min, max] ms. */
  readonly networkLatencyMsMin: number;
  readonly networkLatencyMsMax: number;
  /** Checkpoint-storage disk latency per operation: uniform in [min, max] ms. */
  readonly storageLatencyMsMin: number;
  readonly storageLatencyMsMax: number;
  /** Hard bounds of a run. */
  readonly maxTimeMs: number;
  readonly maxEvents: number;
};

export const defaultClusterConfig: ClusterConfigData = {
  taskManagers: 2,
  slotsPerTaskManager: 4,
  heartbeatIntervalMs: 100,
  heartbeatTimeoutMs: 500,
  networkLatencyMsMin: 0.5,
  networkLatencyMsMax: 2,
  storageLatencyMsMin: 0.5,
  storageLatencyMsMax: 3,
  maxTimeMs: 600_000,
  maxEvents: 20_000_000,
};

export function validateClusterConfig(c: ClusterConfigData, field = "cluster"): string | undefined {
  const posInt = (v: number, n: string): string | undefined =>
    Number.isInteger(v) && v >= 1 ? undefined : `${field}.${n} must be an integer >= 1, got ${v}`;
  return (
    posInt(c.taskManagers, "taskManagers") ??
    posInt(c.slotsPerTaskManager, "slotsPerTaskManager") ??
    (c.heartbeatIntervalMs > 0 ? undefined : `${field}.heartbeatIntervalMs must be > 0, got ${c.heartbeatIntervalMs}`) ??
    (c.heartbeatTimeoutMs > c.heartbeatIntervalMs
      ? undefined
      : `${field}.heartbeatTimeoutMs must be greater than heartbeatIntervalMs (${c.heartbeatIntervalMs}), got ${c.heartbeatTimeoutMs}`) ??
    (c.networkLatencyMsMin >= 0 ? undefined : `${field}.networkLatencyMsMin must be >= 0, got ${c.networkLatencyMsMin}`) ??
    (c.networkLatencyMsMax >= c.networkLatencyMsMin
      ? undefined
      : `${field}.networkLatencyMsMax must be >= networkLatencyMsMin (${c.networkLatencyMsMin}), got ${c.networkLatencyMsMax}`) ??
    (c.storageLatencyMsMin >= 0 ? undefined : `${field}.storageLatencyMsMin must be >= 0, got ${c.storageLatencyMsMin}`) ??
    (c.storageLatencyMsMax >= c.storageLatencyMsMin
      ? undefined
      : `${field}.storageLatencyMsMax must be >= storageLatencyMsMin (${c.storageLatencyMsMin}), got ${c.storageLatencyMsMax}`) ??
    (c.maxTimeMs > 0 ? undefined : `${field}.maxTimeMs must be > 0, got ${c.maxTimeMs}`) ??
    posInt(c.maxEvents, "maxEvents")
  );
}
