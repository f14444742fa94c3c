/**
 * `checkExactlyOnce(buildPipeline, options)`: a property test of a user's own pipeline, for use
 * inside a vitest (or any) test.
 *
 *   test("orders pipeline is exactly-once under faults", () => {
 *     checkExactlyOnce(buildOrdersPipeline, { numRuns: 200, records: orderRecord });
 *   });
 *
 * `buildPipeline(env)` builds the pipeline with the Flink-style API on the environment it is
 * given (closures and user process functions allowed). For every run the helper generates, with
 * the fast-check arbitraries of src/gen: the input of every source topic (records
 * `{ key: "k0".."k7", value }` with skewed keys and bounded disorder, turned into the user's
 * record shape by `options.records`), an EXACTLY_ONCE job configuration (every CheckpointConfig
 * option and restart strategy within Flink's ranges), a cluster, a fault plan and a seed. The
 * input is paced over 1 to 8 checkpoint intervals (a per-record cost) and faults at absolute times
 * are placed within the job's fault-free run time, so checkpoints and faults hit the job while
 * records flow. Each case runs on the simulator and is judged by the oracle (exactly-once, state,
 * checkpoint invariants, no open transactions, liveness) through the scenario property runner
 * (property.ts): the first failure is shrunk, saved as a scenario file with an HTML report, and
 * reported in one message a person can act on:
 *
 *   streamsim: exactly-once violated (run 16 of 100, shrunk 82 times)
 *     sink "order-counts" (...): record {"account":"acct-0","orders":2} committed 0 times, expected 1 (lost); ...
 *     property        orders pipeline is exactly-once under faults, seed 42 (rerun it with STREAMSIM_SEED=42)
 *     counterexample  reports/2026-11-24T10-31-07-orders-pipeline-.../counterexample-16.json  (3 records, 1 fault)
 *     replay          STREAMSIM_SEED=42 npx vitest run test/orders.test.ts -t "orders pipeline ..."
 *     timeline        reports/2026-11-24T10-31-07-orders-pipeline-.../index.html#run-16
 *
 * Replay: a plan of builtin functions replays from its file (`npx streamsim replay <file>`); a
 * plan with closures or user process functions replays from the test that builds it (the replay
 * line is the command that reruns it with the seed).
 *
 * The functions of one build serve every run and the oracle: like Flink's, closures should keep
 * no state of their own (state belongs in a process function's ValueState). Process function
 * instances are copied per deployment (see src/engine/api/functions.ts), as Flink deserializes a
 * fresh copy, so a count kept in a plain field starts over after every restore, and shows.
 */
import fc from "fast-check";
import type { ClusterConfigData, JobConfigData } from "../engine/config.ts";
import { validateCheckpointConfig } from "../engine/config.ts";
import { runScenario } from "../engine/cluster/job.ts";
import { ApiError } from "../engine/api/errors.ts";
import { functionRefs, StreamExecutionEnvironment } from "../engine/api/environment.ts";
import type { StreamExecutionEnvironmentOptions } from "../engine/api/environment.ts";
import type { Inputs, Plan } from "../engine/plan/plan.ts";
import { builtins } from "../engine/plan/registry.ts";
import type { FaultKind, FaultPlan } from "../faults/plan.ts";
import {
  buildCluster,
  buildInputs,
  defaultFaultHorizonMs,
  FAULTS_BY_INTENSITY,
  jobConfigArb,
  maxParallelism,
  rawClusterArb,
  rawFaultsArb,
  rawInputsArb,
  resolveFaults,
  type FaultIntensity,
  type RawCluster,
  type RawFault,
  type RawInputs,
} from "../gen/index.ts";
import type { Scenario } from "../scenario.ts";
import type { JsonValue } from "../sim/trace.ts";
import { canonicalJson } from "../sim/trace.ts";
import { findCounterexample, propertySeed, type ScenarioCounterexample } from "./property.ts";

/** A generated record, before `records` shapes it: key "k0" (most frequent) .. "k7", a small integer value. */
export type GeneratedRecord = { readonly key: string; readonly value: number };

/** Turns a generated record (and its event timestamp) into the pipeline's record. */
export type RecordShape = (record: GeneratedRecord, ts: number) => JsonValue;

export type CheckExactlyOnceOptions = {
  /** Generated cases to run (default 100). */
  readonly numRuns?: number;
  /** fast-check seed (default: STREAMSIM_SEED, else the property runner's fixed default, 42). */
  readonly seed?: number;
  /** Fault intensity: none 0, light 2, normal 5, heavy 10 faults per run (default "normal"). */
  readonly faults?: FaultIntensity;
  /** Fault kinds to draw from (default all). */
  readonly faultKinds?: readonly FaultKind[];
  /** Most input records per run, over all topics (default 200). */
  readonly maxRecords?: number;
  /** Most partitions per topic (default 4). */
  readonly maxPartitions?: number;
  /** The records' shape: one function for every topic, or one per topic (default: `{ key, value }` as generated). */
  readonly records?: RecordShape | { readonly [topic: string]: RecordShape };
  /**
   * "generate" (default): checkpointing and restart settings are generated (EXACTLY_ONCE);
   * "pipeline": the ones `buildPipeline` sets are used (it must enable checkpointing, EXACTLY_ONCE).
   */
  readonly config?: "generate" | "pipeline";
  /** Options of the environment `buildPipeline` gets (seed and faults are generated per run). */
  readonly environment?: Omit<StreamExecutionEnvironmentOptions, "seed" | "faults">;
  /**
   * Absolute fault times fall in [0, faultHorizonMs]; "job" (default): within the job's fault-free
   * run time (at most the generators' default for the checkpoint interval), so faults hit the job
   * while it runs. Faults on trace triggers (the nth checkpoint ...) are placed by the trace anyway.
   */
  readonly faultHorizonMs?: number | "job";
  /**
   * Pace the input (default true): the job's per-record cost is set so reading the input spans 1 to
   * 8 checkpoint intervals, and checkpoints and faults land mid-input. false: the generated cost.
   * Operators with their own setCostMsPerRecord keep it.
   */
  readonly pace?: boolean;
  /** Where report directories go (default "reports"); false: write no files. */
  readonly reportDir?: string | false;
  /** Most runs spent shrinking a failure (default: the property runner's budget). */
  readonly maxShrinkRuns?: number;
  /** The liveness bound after the faults end, in ms (default the oracle's). */
  readonly livenessBoundMs?: number;
  /** Also run every case twice and compare trace hashes (default false). */
  readonly determinism?: boolean;
  /** The property's name in messages and report directories (default: the running vitest test's name). */
  readonly name?: string;
};

/** The error a failing check throws, with the shrunk counterexample. */
export class ExactlyOnceViolation extends Error {
  override readonly name = "ExactlyOnceViolation";
  constructor(readonly counterexample: ScenarioCounterexample) {
    super(counterexample.message);
  }
}

export type CheckExactlyOnceResult = {
  /** Cases run. */
  readonly numRuns: number;
  readonly seed: number;
};

const DEFAULT_NUM_RUNS = 100;
const DEFAULT_MAX_RECORDS = 200;
/** Most checkpoint intervals the input is paced over. */
const MAX_PACE = 8;
/** Least fault horizon, in ms, whatever the job's length. */
const MIN_FAULT_HORIZON_MS = 20;
/** Most fault-free run times remembered while shrinking. */
const MAX_CACHED_RUNS = 10_000;

function validateOptions(o: CheckExactlyOnceOptions): string | undefined {
  const intIn = (v: number | undefined, name: string, min: number, max: number): string | undefined =>
    v === undefined || (Number.isInteger(v) && v >= min && v <= max) ? undefined : `checkExactlyOnce options.${name} must be an integer in [${min}, ${max}], got ${v}`;
  return (
    intIn(o.numRuns, "numRuns", 1, 1_000_000) ??
    intIn(o.seed, "seed", -0x8000_0000, 0x7fff_ffff) ??
    intIn(o.maxRecords, "maxRecords", 0, 100_000) ??
    intIn(o.maxPartitions, "maxPartitions", 1, 16) ??
    intIn(o.maxShrinkRuns, "maxShrinkRuns", 0, 1_000_000) ??
    (o.faults === undefined || o.faults in FAULTS_BY_INTENSITY
      ? undefined
      : `checkExactlyOnce options.faults must be one of none, light, normal, heavy, got ${JSON.stringify(o.faults)}`) ??
    (o.faultHorizonMs === undefined || o.faultHorizonMs === "job" || (Number.isFinite(o.faultHorizonMs) && o.faultHorizonMs >= 0)
      ? undefined
      : `checkExactlyOnce options.faultHorizonMs must be "job" or a number of ms >= 0, got ${JSON.stringify(o.faultHorizonMs)}`) ??
    (o.config === undefined || o.config === "generate" || o.config === "pipeline"
      ? undefined
      : `checkExactlyOnce options.config must be "generate" or "pipeline", got ${JSON.stringify(o.config)}`)
  );
}

/** A fresh environment with the pipeline built on it. */
function build(buildPipeline: (env: StreamExecutionEnvironment) => void, options: CheckExactlyOnceOptions): StreamExecutionEnvironment {
  const env = StreamExecutionEnvironment.create({ ...options.environment });
  const returned: unknown = buildPipeline(env);
  if (returned !== undefined && typeof (returned as { then?: unknown }).then === "function")
    throw new ApiError("checkExactlyOnce: buildPipeline must build the pipeline synchronously (it returned a promise)");
  return env;
}

function shapeOf(records: CheckExactlyOnceOptions["records"], topic: string): RecordShape | undefined {
  if (records === undefined) return undefined;
  if (typeof records === "function") return records;
  return records[topic];
}

function shapeInputs(inputs: Inputs, records: CheckExactlyOnceOptions["records"]): Inputs {
  return inputs.map((t) => {
    const shape = shapeOf(records, t.topic);
    if (shape === undefined) return t;
    return { topic: t.topic, partitions: t.partitions.map((p) => p.map((r) => ({ value: shape(r.value as GeneratedRecord, r.ts), ts: r.ts }))) };
  });
}

/** One generated case, before its faults are placed in time (see `resolveCase`). */
type Case = {
  /** How many checkpoint intervals reading the input should span (see `pacedCost`). */
  readonly pace: number;
  readonly seed: number;
  readonly inputs: RawInputs;
  readonly config: JobConfigData;
  readonly cluster: RawCluster;
  readonly faults: readonly RawFault[];
};

/** Generated cases for a fixed plan (the parts of scenarioArb, drawn independently so each shrinks on its own). */
function caseArbFor(plan: Plan, pipelineConfig: JobConfigData | undefined, options: CheckExactlyOnceOptions): fc.Arbitrary<Case> {
  const topics = new Set(plan.nodes.flatMap((n) => (n.kind === "source" ? [n.topic] : []))).size;
  const maxFaults = FAULTS_BY_INTENSITY[options.faults ?? "normal"];
  const config: fc.Arbitrary<JobConfigData> = pipelineConfig !== undefined ? fc.constant(pipelineConfig) : jobConfigArb({ mode: "EXACTLY_ONCE" });
  return fc.record({
    pace: fc.integer({ min: 1, max: MAX_PACE }),
    seed: fc.integer({ min: 0, max: 0x7fff_ffff }),
    inputs: rawInputsArb(Math.max(1, topics), {
      maxRecords: options.maxRecords ?? DEFAULT_MAX_RECORDS,
      ...(options.maxPartitions === undefined ? {} : { maxPartitions: options.maxPartitions }),
    }),
    config,
    cluster: rawClusterArb(),
    faults: rawFaultsArb(maxFaults, options.faultKinds),
  });
}

/**
 * The per-record cost that makes reading the input take about `pace` checkpoint intervals, so
 * checkpoints complete (and faults land) while records are still flowing; a job whose input is
 * read before its first checkpoint only ever restores from scratch or from the final checkpoint,
 * which hides the bugs that matter. Capped so the records queued ahead of a barrier (credits
 * times buffer plus a fetch) take at most half the checkpoint timeout, so checkpoints do not
 * expire merely because the job is slow.
 */
function pacedCost(c: Case): number {
  const cfg = c.config;
  const queued = cfg.channelCredits * cfg.bufferRecords + cfg.sourceFetchRecords;
  const cap = cfg.checkpoint.timeoutMs / (2 * queued);
  const wanted = (c.pace * cfg.checkpoint.intervalMs) / Math.max(1, c.inputs.records.length);
  return Math.round(1000 * Math.min(cap, wanted)) / 1000;
}

/** The scenario of a case; absolute fault times fall within `horizonMs` (undefined: no faults). */
function resolveCase(c: Case, plan: Plan, options: CheckExactlyOnceOptions, clusterOverrides: Partial<ClusterConfigData>, horizonMs: number | undefined): Scenario {
  const cluster = { ...buildCluster(c.cluster, maxParallelism(plan)), ...clusterOverrides };
  const vertices = plan.nodes.map((n) => ({ id: n.id, parallelism: n.parallelism }));
  const faults: FaultPlan = horizonMs === undefined ? { faults: [] } : resolveFaults(c.faults, { taskManagers: cluster.taskManagers, vertices, horizonMs });
  return {
    name: "checkExactlyOnce",
    seed: c.seed,
    plan,
    inputs: shapeInputs(buildInputs(c.inputs, plan), options.records),
    config: options.pace === false ? c.config : { ...c.config, costMsPerRecord: pacedCost(c) },
    cluster,
    faults,
    expect: { verdict: "pass" },
  };
}

type VitestWorker = { filepath?: unknown; current?: { name?: unknown } };

/** The running vitest test, if any: its file (relative to the working directory) and name. */
function currentTest(): { file: string | undefined; name: string | undefined } {
  const worker = (globalThis as { __vitest_worker__?: VitestWorker }).__vitest_worker__;
  const path = typeof worker?.filepath === "string" ? worker.filepath : undefined;
  const cwd = process.cwd();
  const file = path === undefined ? undefined : path.startsWith(cwd + "/") ? path.slice(cwd.length + 1) : path;
  const name = typeof worker?.current?.name === "string" ? worker.current.name : undefined;
  return { file, name };
}

/**
 * Checks that the pipeline `buildPipeline` builds is exactly-once under generated inputs,
 * configurations and faults. Throws an ExactlyOnceViolation describing the shrunk counterexample
 * when a case fails; returns what ran otherwise.
 */
export function checkExactlyOnce(buildPipeline: (env: StreamExecutionEnvironment) => void, options: CheckExactlyOnceOptions = {}): CheckExactlyOnceResult {
  const problem = validateOptions(options);
  if (problem !== undefined) throw new ApiError(problem);
  const env = build(buildPipeline, options);
  const plan = env.getPlan();
  if (canonicalJson(build(buildPipeline, options).getPlan() as unknown as JsonValue) !== canonicalJson(plan as unknown as JsonValue))
    throw new ApiError("checkExactlyOnce: buildPipeline built a different pipeline on a second call; it must build the same pipeline every time");
  let pipelineConfig: JobConfigData | undefined;
  if (options.config === "pipeline") {
    if (!env.getCheckpointConfig().isCheckpointingEnabled())
      throw new ApiError('checkExactlyOnce: with config "pipeline", buildPipeline must enable checkpointing (env.enableCheckpointing(intervalMs))');
    pipelineConfig = env.getJobConfig();
    if (pipelineConfig.checkpoint.mode !== "EXACTLY_ONCE") throw new ApiError('checkExactlyOnce: with config "pipeline", the checkpointing mode must be EXACTLY_ONCE');
    const bad = validateCheckpointConfig(pipelineConfig.checkpoint);
    if (bad !== undefined) throw new ApiError(`checkExactlyOnce: ${bad}`);
  }
  const registry = env.getRegistry();
  const clusterOverrides = { ...options.environment?.cluster };
  const horizonOption = options.faultHorizonMs ?? "job";
  const faultFreeEndMs = new Map<string, number>();
  const resolve = (c: Case): Scenario => {
    if (c.faults.length === 0) return resolveCase(c, plan, options, clusterOverrides, 0);
    if (horizonOption !== "job") return resolveCase(c, plan, options, clusterOverrides, horizonOption);
    // Shrinking tries many cases that differ only in their faults: fault-free run times are remembered.
    const key = canonicalJson({ pace: c.pace, seed: c.seed, inputs: c.inputs, config: c.config, cluster: c.cluster } as unknown as JsonValue);
    let endMs = faultFreeEndMs.get(key);
    if (endMs === undefined) {
      endMs = runScenario(resolveCase(c, plan, options, clusterOverrides, undefined), { registry }).endTimeMs;
      if (faultFreeEndMs.size >= MAX_CACHED_RUNS) faultFreeEndMs.clear();
      faultFreeEndMs.set(key, endMs);
    }
    const horizon = Math.max(MIN_FAULT_HORIZON_MS, Math.min(defaultFaultHorizonMs(c.config.checkpoint.intervalMs), Math.round(endMs)));
    return resolveCase(c, plan, options, clusterOverrides, horizon);
  };

  // Closures and functions of the user's own registry: the plan replays from the test, not from a file.
  const ownFunctions = functionRefs(plan).some(({ kind, ref }) => !builtins.has(kind, ref.fn));
  const test = currentTest();
  const name = options.name ?? test.name ?? "checkExactlyOnce";
  const rerun = (seed: number): string =>
    `STREAMSIM_SEED=${seed} npx vitest run ${test.file ?? "<your test file>"}${test.name === undefined ? "" : ` -t ${JSON.stringify(test.name)}`}` +
    "   (the plan uses the test's own functions: it replays from the test, not from the file alone)";
  const numRuns = options.numRuns ?? DEFAULT_NUM_RUNS;
  const found = findCounterexample(name, caseArbFor(plan, pipelineConfig, options).map(resolve), {
    numRuns,
    registry,
    ...(options.seed === undefined ? {} : { seed: options.seed }),
    ...(options.reportDir === undefined ? {} : { reportDir: options.reportDir }),
    ...(options.maxShrinkRuns === undefined ? {} : { maxShrinkRuns: options.maxShrinkRuns }),
    ...(options.livenessBoundMs === undefined ? {} : { livenessBoundMs: options.livenessBoundMs }),
    ...(options.determinism === undefined ? {} : { determinism: options.determinism }),
    ...(ownFunctions ? { replayCommand: (_file: string, seed: number) => rerun(seed) } : {}),
  });
  if (found !== undefined) throw new ExactlyOnceViolation(found);
  return { numRuns, seed: propertySeed(options.seed) };
}
