/**
 * Generated job and cluster configurations, inside Flink's valid ranges (see FLINK-SEMANTICS.md)
 * and chosen so a job can recover: every value passes validateJobConfig / validateClusterConfig.
 *
 * Knobs that are not the subject of a test draw from a short list whose first entry is the default,
 * so a shrunk counterexample shows defaults wherever the value did not matter.
 */
import fc from "fast-check";
import type {
  CheckpointConfigData,
  CheckpointingMode,
  ClusterConfigData,
  JobConfigData,
  RestartStrategyData,
} from "../engine/config.ts";
import { defaultClusterConfig, defaultJobConfig } from "../engine/config.ts";
import type { Plan } from "../engine/plan/plan.ts";
import { defaultDiskOptions } from "../sim/disk.ts";
import { maxDrawMs } from "../sim/random.ts";
import { maxParallelism } from "./plan.ts";

/** The longest checkpoint timeout a generated configuration draws (and the floor with few tolerated failures). */
export const MAX_GENERATED_TIMEOUT_MS = 5000;

export type CheckpointConfigArbOptions = {
  /** Fix the checkpointing mode (default: either). */
  readonly mode?: CheckpointingMode;
  /**
   * Allow checkpoint timeouts below 200 ms (default false). With them a job can be unable to ever
   * complete a checkpoint (every one expires, each expiry fails the job over): right for scenarios
   * about timeouts, wrong for properties that expect the job to finish once the faults stop.
   */
  readonly tinyTimeouts?: boolean;
};

export function checkpointConfigArb(options: CheckpointConfigArbOptions = {}): fc.Arbitrary<CheckpointConfigData> {
  const mode: fc.Arbitrary<CheckpointingMode> =
    options.mode !== undefined ? fc.constant(options.mode) : fc.constantFrom("EXACTLY_ONCE", "AT_LEAST_ONCE");
  return fc.record({
    intervalMs: fc.oneof(
      { weight: 9, arbitrary: fc.integer({ min: 10, max: 500 }) },
      { weight: 1, arbitrary: fc.integer({ min: 501, max: 2000 }) },
    ),
    mode,
    timeoutMs:
      options.tinyTimeouts === true
        ? fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 200, max: MAX_GENERATED_TIMEOUT_MS }) }, { weight: 1, arbitrary: fc.integer({ min: 10, max: 199 }) })
        : fc.integer({ min: 200, max: MAX_GENERATED_TIMEOUT_MS }),
    // No pause half the time (Flink's default): a pause of 150-300 ms leaves most generated inputs
    // (a few hundred ms of event time) with no checkpoint taken while records still flow.
    minPauseMs: fc.oneof({ weight: 1, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 300 }) }),
    maxConcurrent: fc.integer({ min: 1, max: 3 }),
    tolerableFailures: fc.oneof(
      { weight: 3, arbitrary: fc.integer({ min: 0, max: 3 }) },
      { weight: 1, arbitrary: fc.constant(1000) },
    ),
    retained: fc.integer({ min: 1, max: 3 }),
    // Unaligned checkpoints are valid only with EXACTLY_ONCE and max concurrent 1 (Flink's rule).
    unaligned: fc.boolean(),
  }).map((c) => ({
    ...c,
    unaligned: c.unaligned && c.mode === "EXACTLY_ONCE" && c.maxConcurrent === 1,
    // Livable: with few tolerated failures a checkpoint must be able to complete behind the whole
    // backlog of a generated job (<= ~2 s: 200 records, x9 by two explodes, 1 ms each), or every
    // expiry fails the job over, it restarts from scratch, and it never finishes (as Flink would).
    // With 1000 tolerated failures a scenario still raises the timeout to what its plan and cluster
    // need (see livableTimeoutMs).
    timeoutMs: options.tinyTimeouts !== true && c.tolerableFailures < 1000 ? Math.max(c.timeoutMs, MAX_GENERATED_TIMEOUT_MS) : c.timeoutMs,
  }));
}

export type RestartStrategyArbOptions = {
  /** Only strategies that let the job recover from the generated faults (default true): excludes "none". */
  readonly recoverable?: boolean;
};

/** Fixed-delay attempts meaning "unlimited" (Flink's default with checkpointing on). */
export const UNLIMITED_ATTEMPTS = Number.MAX_SAFE_INTEGER;

export function restartStrategyArb(options: RestartStrategyArbOptions = {}): fc.Arbitrary<RestartStrategyData> {
  const recoverable = options.recoverable ?? true;
  const delayMs = fc.integer({ min: 0, max: 200 });
  const fixedDelay = fc
    .record({
      // Recoverable means a bounded fault plan cannot exhaust it (a partition from the broker fails
      // every attempt within ~50 ms, so a few dozen attempts can run out under heavy faults).
      attempts: recoverable
        ? fc.oneof({ weight: 2, arbitrary: fc.constant(UNLIMITED_ATTEMPTS) }, { weight: 1, arbitrary: fc.integer({ min: 1000, max: 10_000 }) })
        : fc.oneof({ weight: 2, arbitrary: fc.constant(UNLIMITED_ATTEMPTS) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 100 }) }),
      delayMs,
    })
    .map((r): RestartStrategyData => ({ kind: "fixedDelay", ...r }));
  const failureRate = fc
    .record({
      maxFailuresPerInterval: recoverable ? fc.integer({ min: 1000, max: 10_000 }) : fc.integer({ min: 1, max: 100 }),
      intervalMs: fc.integer({ min: 100, max: 2000 }),
      delayMs,
    })
    .map((r): RestartStrategyData => ({ kind: "failureRate", ...r }));
  const exponentialDelay = fc
    .record({
      initialBackoffMs: fc.integer({ min: 1, max: 50 }),
      extraBackoffMs: fc.integer({ min: 0, max: 150 }),
      multiplier: fc.constantFrom(2, 1, 1.5, 3),
      resetThresholdMs: fc.integer({ min: 100, max: 5000 }),
      jitterFactor: fc.constantFrom(0, 0.1, 0.25, 0.5),
    })
    .map(
      ({ initialBackoffMs, extraBackoffMs, ...r }): RestartStrategyData => ({
        kind: "exponentialDelay",
        initialBackoffMs,
        maxBackoffMs: initialBackoffMs + extraBackoffMs,
        ...r,
      }),
    );
  const kinds = [
    { weight: 3, arbitrary: fixedDelay },
    { weight: 2, arbitrary: failureRate },
    { weight: 2, arbitrary: exponentialDelay },
  ];
  return recoverable
    ? fc.oneof(...kinds)
    : fc.oneof(...kinds, { weight: 1, arbitrary: fc.constant<RestartStrategyData>({ kind: "none" }) });
}

export type JobConfigArbOptions = CheckpointConfigArbOptions & RestartStrategyArbOptions;

export function jobConfigArb(options: JobConfigArbOptions = {}): fc.Arbitrary<JobConfigData> {
  const d = defaultJobConfig;
  return fc
    .record({
      checkpoint: checkpointConfigArb(options),
      // undefined: Flink's default rule (fixed delay, unlimited attempts, since checkpointing is on).
      restart: fc.option(restartStrategyArb(options), { nil: undefined, freq: 8 }),
      costMsPerRecord: fc.constantFrom(d.costMsPerRecord, 0, 0.05, 0.2, 1),
      bufferRecords: fc.constantFrom(d.bufferRecords, 1, 4, 8, 64),
      // Output after every step (0) most often: records right behind each barrier, what alignment bugs
      // need; otherwise Flink's output flusher with a timeout (shrinks toward 0).
      bufferTimeoutMs: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.constantFrom(d.bufferTimeoutMs, 5, 20) }),
      // One credit per channel often: a backlog queued ahead of every barrier (what an overtaking barrier would skip).
      channelCredits: fc.constantFrom(d.channelCredits, 1, 2, 8, 1),
      sourceFetchRecords: fc.constantFrom(d.sourceFetchRecords, 1, 8, 16, 256),
      // Watermarks after every source step (0) most often, or from a periodic timer up to Flink's default 200 ms.
      autoWatermarkIntervalMs: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.constantFrom(1, 5, 20, d.autoWatermarkIntervalMs) }),
    })
    // Input arrives over event time, so a generated job runs as long as its input spans and the
    // fault plan's times fall while it runs (with every record readable at once, jobs end within
    // milliseconds and most timed faults land after the end).
    .map(({ restart, ...rest }) => {
      const paced = { ...rest, sourcePacing: "eventTime" as const };
      return restart === undefined ? paced : { ...paced, restart };
    });
}

// ---- cluster -----------------------------------------------------------------------------------

export type ClusterConfigArbOptions = {
  /** Slots every TaskManager has at least (default 4); use the plan's max parallelism, see `clusterFor`. */
  readonly minSlots?: number;
  /** Most TaskManagers (1..8, default 3). */
  readonly maxTaskManagers?: number;
};

export type RawCluster = {
  readonly taskManagers: number;
  readonly extraSlots: number;
  readonly heartbeatIntervalMs: number;
  /** Heartbeat timeout as a multiple of the interval. */
  readonly heartbeatTimeoutFactor: number;
  readonly networkLatencyMsMin: number;
  readonly networkLatencyMsSpread: number;
  readonly storageLatencyMsMin: number;
  readonly storageLatencyMsSpread: number;
};

export function rawClusterArb(maxTaskManagers = 3): fc.Arbitrary<RawCluster> {
  if (!(Number.isInteger(maxTaskManagers) && maxTaskManagers >= 1 && maxTaskManagers <= 8))
    throw new RangeError(`clusterConfigArb options.maxTaskManagers must be an integer in [1, 8], got ${maxTaskManagers}`);
  const c = defaultClusterConfig;
  return fc.record({
    taskManagers: fc.integer({ min: 1, max: maxTaskManagers }),
    extraSlots: fc.integer({ min: 0, max: 2 }),
    heartbeatIntervalMs: fc.integer({ min: 50, max: 100 }),
    heartbeatTimeoutFactor: fc.integer({ min: 3, max: 5 }),
    networkLatencyMsMin: fc.constantFrom(c.networkLatencyMsMin, 0, 1),
    // A wide spread skews barrier arrival across a task's input channels: long alignments, with
    // records arriving on the early channels meanwhile (what an alignment must hold back). Drawn
    // 2 times in 5 (was 1 in 5: alignment-skipped then took 164 runs). A 50 ms spread made some
    // jobs under heavy faults never finish (liveness failures on the unmodified engine).
    networkLatencyMsSpread: fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(c.networkLatencyMsMax - c.networkLatencyMsMin, 0, 0.5, 5) },
      { weight: 2, arbitrary: fc.constant(20) },
    ),
    storageLatencyMsMin: fc.constantFrom(c.storageLatencyMsMin, 0, 2),
    storageLatencyMsSpread: fc.constantFrom(c.storageLatencyMsMax - c.storageLatencyMsMin, 0, 1, 10),
  });
}

export function buildCluster(r: RawCluster, minSlots: number): ClusterConfigData {
  return {
    ...defaultClusterConfig,
    taskManagers: r.taskManagers,
    slotsPerTaskManager: Math.max(1, minSlots) + r.extraSlots,
    heartbeatIntervalMs: r.heartbeatIntervalMs,
    heartbeatTimeoutMs: r.heartbeatIntervalMs * r.heartbeatTimeoutFactor,
    networkLatencyMsMin: r.networkLatencyMsMin,
    networkLatencyMsMax: r.networkLatencyMsMin + r.networkLatencyMsSpread,
    storageLatencyMsMin: r.storageLatencyMsMin,
    storageLatencyMsMax: r.storageLatencyMsMin + r.storageLatencyMsSpread,
    // A generated run takes about 10^4 events: a runaway one fails its liveness bound within
    // seconds instead of filling the memory with its trace.
    maxEvents: GENERATED_MAX_EVENTS,
  };
}

/** The event bound of a generated run (200 times the largest seen). */
export const GENERATED_MAX_EVENTS = 2_000_000;

/**
 * 1..3 TaskManagers, each with slots for the whole job (slots >= the plan's max parallelism, so a
 * job survives on one TaskManager), heartbeat interval 50..100 ms and timeout 3..5 intervals.
 */
export function clusterConfigArb(options: ClusterConfigArbOptions = {}): fc.Arbitrary<ClusterConfigData> {
  const minSlots = options.minSlots ?? 4;
  if (!(Number.isInteger(minSlots) && minSlots >= 1))
    throw new RangeError(`clusterConfigArb options.minSlots must be an integer >= 1, got ${minSlots}`);
  return rawClusterArb(options.maxTaskManagers ?? 3).map((r) => buildCluster(r, minSlots));
}

/** The default cluster with slots for `plan`: every TaskManager can run the whole job. */
export function clusterFor(plan: Plan): ClusterConfigData {
  return { ...defaultClusterConfig, slotsPerTaskManager: Math.max(defaultClusterConfig.slotsPerTaskManager, maxParallelism(plan)) };
}

/** Edges on the longest path from a source to a sink of `plan` (valid plans list inputs before consumers). */
export function planDepth(plan: Plan): number {
  const depth = new Map<string, number>();
  let most = 0;
  for (const n of plan.nodes) {
    let d = 0;
    for (const e of n.inputs) d = Math.max(d, (depth.get(e.from) ?? 0) + 1);
    depth.set(n.id, d);
    most = Math.max(most, d);
  }
  return most;
}

/**
 * The shortest checkpoint timeout a generated scenario gets: four times a generous estimate of
 * how long a checkpoint of the idle job takes on its cluster (the barrier's way through the
 * longest path, each hop two network latencies and the buffer timeout; a state file, the id lease
 * and the metadata, each a few disk operations and a request). A shorter timeout lets every
 * checkpoint expire even with no fault at all, so the job never takes its final checkpoint and
 * never finishes, as in Flink: right for a scenario about timeouts, a generator bug for a property
 * that expects the job to finish once the faults end (found by `streamsim sweep --seed 9`, run
 * 4267: 10 operators, network latency up to 21 ms, storage up to 12 ms, timeout 200 ms).
 */
export function livableTimeoutMs(plan: Plan, cluster: ClusterConfigData, job: JobConfigData): number {
  const net = cluster.networkLatencyMsMax;
  // The storage disk's fsyncs keep the disk's default latency (src/engine/cluster/job.ts).
  const diskOp = Math.max(cluster.storageLatencyMsMax, maxDrawMs(defaultDiskOptions.fsyncLatency));
  const hop = 2 * net + job.bufferTimeoutMs + 1;
  const write = 8 * diskOp + 2 * net;
  const estimate = (planDepth(plan) + 1) * hop + 3 * write;
  return Math.min(MAX_GENERATED_TIMEOUT_MS, 4 * Math.ceil(estimate));
}
