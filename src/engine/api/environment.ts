/**
 * Flink's StreamExecutionEnvironment, on the simulator.
 *
 * An environment records a pipeline (a plan, as data), its input, the job configuration
 * (checkpointing, restart strategy), the simulated cluster, the fault plan and the seed. `getPlan`
 * and `toScenario` give them as data; `execute` runs the scenario on a fresh simulation and judges
 * the run with the oracle.
 *
 *   const env = StreamExecutionEnvironment.create({ seed: 7 });
 *   env.enableCheckpointing(100, CheckpointingMode.EXACTLY_ONCE);
 *   env.fromSource(KafkaSource.topic("in").partitions(parts), WatermarkStrategy.noWatermarks(), "in")
 *     .keyBy("key").sum("value").sinkTo(TwoPhaseCommitSink.topic("out"));
 *   const result = env.execute("sums");
 *
 * Differences from Flink: `execute` returns a failed job's result instead of throwing (check
 * `status`); time is simulated (ms); records are JSON values.
 */
import { runAndJudge } from "../../runner/check.ts";
import type { FaultPlan } from "../../faults/plan.ts";
import { emptyFaultPlan } from "../../faults/plan.ts";
import type { Scenario } from "../../scenario.ts";
import type { TraceLevel } from "../../sim/trace.ts";
import type { JsonValue } from "../../sim/trace.ts";
import {
  defaultClusterConfig,
  defaultJobConfig,
  validateClusterConfig,
  validateJobConfig,
  validateRestartStrategy,
  type ClusterConfigData,
  type JobConfigData,
  type RestartStrategyData,
} from "../config.ts";
import type { FnRef, InputRecord, Inputs, Plan } from "../plan/plan.ts";
import { builtins, Registry, type FnKind } from "../plan/registry.ts";
import { CheckpointConfig, type CheckpointingMode } from "./checkpoint-config.ts";
import { checkRecords, type KafkaSource } from "./connectors.ts";
import { DataStream, type StreamContext } from "./datastream.ts";
import { ApiError } from "./errors.ts";
import { FunctionRegistrar } from "./functions.ts";
import { checkParallelism, PlanBuilder } from "./plan-builder.ts";
import { JobExecutionResult } from "./result.ts";
import type { WatermarkStrategy } from "./watermarks.ts";

/** The engine's runtime knobs (per-record cost, network buffers, credits, fetch size). */
export type RuntimeOptions = Omit<JobConfigData, "checkpoint" | "restart">;

/** Flink's ExecutionConfig, for the knobs it owns here. */
export type ExecutionConfig = {
  /** Sources emit their watermarks every `ms` of simulated time (default 200; 0: after every source step). */
  setAutoWatermarkInterval(ms: number): ExecutionConfig;
  getAutoWatermarkInterval(): number;
  /** Partly filled network buffers are sent at most `ms` after the step that wrote them (0: after every step). */
  setBufferTimeout(ms: number): ExecutionConfig;
  getBufferTimeout(): number;
};

export type StreamExecutionEnvironmentOptions = {
  /** Seed of the simulation: the same seed and pipeline give the same run (default 0). */
  readonly seed?: number;
  /** The simulated cluster; unset fields take the defaults, and TaskManagers get slots for the job's parallelism. */
  readonly cluster?: Partial<ClusterConfigData>;
  /** Faults to inject during the run (default none). */
  readonly faults?: FaultPlan;
  /** Engine runtime knobs; unset fields take the defaults. */
  readonly runtime?: Partial<RuntimeOptions>;
  /** Default parallelism of operators (default 1). */
  readonly parallelism?: number;
  /** Registry of named functions the pipeline may refer to (default: the builtins); closures go to a child of it. */
  readonly registry?: Registry;
};

export type ExecuteOptions = {
  /** "summary" (default) or "full" (every record event, for debugging). */
  readonly traceLevel?: TraceLevel;
  /** Run twice and check the trace hashes agree. */
  readonly determinism?: boolean;
  /** The liveness check's bound after the faults end, in ms. */
  readonly livenessBoundMs?: number;
};

/** Options of `fromCollection`. */
export type CollectionSourceOptions = {
  /** The topic the records are loaded into (default "collection-<n>"). */
  readonly topic?: string;
  /** Watermarks (default none). */
  readonly watermark?: WatermarkStrategy;
  /** Source name (and id). */
  readonly name?: string;
};

const isSeed = (v: number): boolean => Number.isSafeInteger(v) && v >= 0;

export class StreamExecutionEnvironment {
  private seed: number;
  private parallelism: number;
  private restart: RestartStrategyData | undefined;
  private faults: FaultPlan;
  private readonly clusterOverrides: Partial<ClusterConfigData>;
  private runtime: RuntimeOptions;
  private readonly checkpointConfig = new CheckpointConfig();
  private readonly registry: Registry;
  private readonly ctx: StreamContext;
  private collections = 0;

  private constructor(options: StreamExecutionEnvironmentOptions) {
    const seed = options.seed ?? 0;
    if (!isSeed(seed)) throw new ApiError(`StreamExecutionEnvironment.create: seed must be an integer >= 0, got ${seed}`);
    this.seed = seed;
    this.parallelism = checkParallelism(options.parallelism ?? 1, "StreamExecutionEnvironment.create");
    this.faults = options.faults ?? emptyFaultPlan;
    this.clusterOverrides = { ...options.cluster };
    const clusterProblem = validateClusterConfig({ ...defaultClusterConfig, ...this.clusterOverrides }, "cluster");
    if (clusterProblem !== undefined) throw new ApiError(`StreamExecutionEnvironment.create: ${clusterProblem}`);
    this.runtime = { ...runtimeDefaults(), ...options.runtime };
    const runtimeProblem = validateJobConfig({ ...defaultJobConfig, ...this.runtime }, "runtime");
    if (runtimeProblem !== undefined) throw new ApiError(`StreamExecutionEnvironment.create: ${runtimeProblem}`);
    this.registry = new Registry(options.registry ?? builtins);
    this.ctx = { builder: new PlanBuilder(), fns: new FunctionRegistrar(this.registry) };
  }

  /** An environment on a simulation with the given seed, cluster, faults and runtime knobs. */
  static create(options: StreamExecutionEnvironmentOptions = {}): StreamExecutionEnvironment {
    return new StreamExecutionEnvironment(options);
  }

  /** An environment on a default simulation (seed 0, two TaskManagers, no faults), as Flink's local environment. */
  static getExecutionEnvironment(): StreamExecutionEnvironment {
    return new StreamExecutionEnvironment({});
  }

  // ---- configuration ------------------------------------------------------------------------

  /** Default parallelism of the job's operators (each can set its own). */
  setParallelism(parallelism: number): this {
    this.parallelism = checkParallelism(parallelism, "setParallelism");
    return this;
  }
  getParallelism(): number {
    return this.parallelism;
  }

  /** Periodic checkpoints every `intervalMs` (at least 10 ms), in `mode` (default EXACTLY_ONCE). */
  enableCheckpointing(intervalMs: number, mode?: CheckpointingMode): this {
    this.checkpointConfig.setCheckpointInterval(intervalMs);
    if (mode !== undefined) this.checkpointConfig.setCheckpointingMode(mode);
    return this;
  }
  getCheckpointConfig(): CheckpointConfig {
    return this.checkpointConfig;
  }

  /** Flink's `env.getConfig()`: the auto-watermark interval and the buffer timeout. */
  getConfig(): ExecutionConfig {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the config's methods change this environment's runtime knobs
    const env = this;
    const set = (field: "autoWatermarkIntervalMs" | "bufferTimeoutMs", method: string, ms: number): void => {
      const next = { ...env.runtime, [field]: ms };
      const problem = validateJobConfig({ ...defaultJobConfig, ...next }, "runtime");
      if (problem !== undefined) throw new ApiError(`${method}: ${problem}`);
      env.runtime = next;
    };
    return {
      setAutoWatermarkInterval(ms) {
        set("autoWatermarkIntervalMs", "setAutoWatermarkInterval", ms);
        return this;
      },
      getAutoWatermarkInterval: () => env.runtime.autoWatermarkIntervalMs,
      setBufferTimeout(ms) {
        set("bufferTimeoutMs", "setBufferTimeout", ms);
        return this;
      },
      getBufferTimeout: () => env.runtime.bufferTimeoutMs,
    };
  }

  /** `RestartStrategies.fixedDelayRestart(...)` and the others; unset: Flink's default (fixed delay, unlimited, with checkpointing on). */
  setRestartStrategy(strategy: RestartStrategyData): this {
    const problem = validateRestartStrategy(strategy, "setRestartStrategy");
    if (problem !== undefined) throw new ApiError(problem);
    this.restart = strategy;
    return this;
  }
  getRestartStrategy(): RestartStrategyData | undefined {
    return this.restart;
  }

  /** Faults to inject during the run (replaces the ones given before). */
  setFaultPlan(faults: FaultPlan): this {
    if (typeof faults !== "object" || faults === null || !Array.isArray(faults.faults))
      throw new ApiError("setFaultPlan: expected a fault plan { faults: [...], chaos? }");
    this.faults = faults;
    return this;
  }
  getFaultPlan(): FaultPlan {
    return this.faults;
  }

  setSeed(seed: number): this {
    if (!isSeed(seed)) throw new ApiError(`setSeed: seed must be an integer >= 0, got ${seed}`);
    this.seed = seed;
    return this;
  }
  getSeed(): number {
    return this.seed;
  }

  /** The registry the job's functions resolve in: the parent's named functions and this job's closures. */
  getRegistry(): Registry {
    return this.registry;
  }

  // ---- sources ------------------------------------------------------------------------------

  /** A stream read from a source, with watermarks from `watermarks`, named `sourceName` (also its id). */
  fromSource(source: KafkaSource, watermarks: WatermarkStrategy, sourceName: string): DataStream {
    if (typeof sourceName !== "string" || sourceName.trim().length === 0)
      throw new ApiError(`fromSource: sourceName must be a non-empty string, got ${JSON.stringify(sourceName)}`);
    const d = this.ctx.builder.addSource(source.topicName, source.data, sourceName, watermarks.outOfOrdernessMs);
    return new DataStream(this.ctx, [{ from: d, partition: "default" }]);
  }

  /**
   * A stream of the given records: one list per partition (InputRecord[][]) or one partition
   * (InputRecord[]); each record is `{ value, ts }` with ts its event time in ms.
   */
  fromCollection(records: ReadonlyArray<readonly InputRecord[]> | readonly InputRecord[], options: CollectionSourceOptions = {}): DataStream {
    this.collections++;
    const partitions = (records.length > 0 && Array.isArray(records[0]) ? records : [records]) as ReadonlyArray<readonly InputRecord[]>;
    const topic = options.topic ?? `collection-${this.collections}`;
    checkRecords(partitions, "fromCollection");
    const d = this.ctx.builder.addSource(topic, partitions, options.name, options.watermark?.outOfOrdernessMs ?? null);
    return new DataStream(this.ctx, [{ from: d, partition: "default" }]);
  }

  /** A stream of the values, in one partition, with timestamps 0, 1, 2 ... (no watermarks). */
  fromElements(...values: JsonValue[]): DataStream {
    return this.fromCollection(values.map((value, ts) => ({ value, ts })));
  }

  // ---- the job as data ----------------------------------------------------------------------

  /** The job's plan (only the operators that lead to a sink). Throws an ApiError for an invalid pipeline. */
  getPlan(): Plan {
    return this.ctx.builder.build(this.parallelism, this.registry).plan;
  }

  /** The job's input: every source topic with its records. */
  getInputs(): Inputs {
    return this.ctx.builder.build(this.parallelism, this.registry).inputs;
  }

  /** The job configuration as data. */
  getJobConfig(): JobConfigData {
    return { ...this.runtime, checkpoint: this.checkpointConfig.toData(), ...(this.restart === undefined ? {} : { restart: this.restart }) };
  }

  /** The cluster for a plan: the overrides, with enough slots per TaskManager for its parallelism unless set. */
  getClusterConfig(plan: Plan = this.getPlan()): ClusterConfigData {
    const need = Math.max(1, ...plan.nodes.map((n) => n.parallelism));
    return { ...defaultClusterConfig, slotsPerTaskManager: Math.max(defaultClusterConfig.slotsPerTaskManager, need), ...this.clusterOverrides };
  }

  /** True when the plan names closures (it replays from the test that builds it, not from a file alone). */
  usesClosures(): boolean {
    return closureNames(this.getPlan()).length > 0;
  }

  /** Everything one run needs, as data. */
  toScenario(name = "job"): Scenario {
    const { plan, inputs } = this.ctx.builder.build(this.parallelism, this.registry);
    return {
      name,
      seed: this.seed,
      plan,
      inputs,
      config: this.getJobConfig(),
      cluster: this.getClusterConfig(plan),
      faults: this.faults,
    };
  }

  /** Runs the job on a fresh simulation and judges the run. A failed job is a result with status FAILED, not an exception. */
  execute(jobName = "job", options: ExecuteOptions = {}): JobExecutionResult {
    const scenario = this.toScenario(jobName);
    const checked = runAndJudge(scenario, {
      registry: this.registry,
      ...(options.traceLevel === undefined ? {} : { traceLevel: options.traceLevel }),
      ...(options.determinism === undefined ? {} : { determinism: options.determinism }),
      ...(options.livenessBoundMs === undefined ? {} : { livenessBoundMs: options.livenessBoundMs }),
    });
    return new JobExecutionResult(checked);
  }
}

function runtimeDefaults(): RuntimeOptions {
  const { checkpoint: _c, restart: _r, ...rest } = defaultJobConfig;
  return rest;
}

/** Every function reference of a plan, with the registry kind it resolves in. */
export function functionRefs(plan: Plan): Array<{ readonly kind: FnKind; readonly ref: FnRef }> {
  const out: Array<{ kind: FnKind; ref: FnRef }> = [];
  for (const n of plan.nodes) {
    for (const e of n.inputs) if (e.key !== undefined) out.push({ kind: "key", ref: e.key });
    if (n.kind === "map" || n.kind === "filter" || n.kind === "flatMap" || n.kind === "process") out.push({ kind: n.kind, ref: n.fn });
    if (n.kind === "reduce" && n.fn !== undefined) out.push({ kind: "reduce", ref: n.fn });
    if (n.kind === "window") out.push({ kind: "aggregate", ref: n.aggregate });
    if (n.kind === "sink" && n.upsertKey !== undefined) out.push({ kind: "key", ref: n.upsertKey });
  }
  return out;
}

/** The closure names a plan refers to (functions the API registered, `closure:N`), sorted. */
export function closureNames(plan: Plan): string[] {
  return [...new Set(functionRefs(plan).filter((r) => r.ref.fn.startsWith("closure:")).map((r) => r.ref.fn))].sort();
}
