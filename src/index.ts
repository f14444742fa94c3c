/**
 * streamsim: deterministic simulation testing for checkpointing stream processors.
 *
 * - The Flink-style API (StreamExecutionEnvironment, DataStream, CheckpointConfig ...) builds a
 *   pipeline as data and runs it on the simulator (src/engine/api, docs/api.md).
 * - runScenario / runAndJudge run one scenario (plan, input, configuration, cluster, faults, seed)
 *   and judge it with the oracle.
 * - The fast-check arbitraries (src/gen) generate plans, inputs, configurations, fault plans and
 *   scenarios, to compose one's own properties.
 * - checkExactlyOnce (for users' own pipelines) lives in "streamsim/testing".
 */
export * from "./engine/api/index.ts";

// Running and judging scenarios.
export { runScenario, validateScenario, ScenarioError } from "./engine/cluster/job.ts";
export type { RunOptions } from "./engine/cluster/job.ts";
export { runAndJudge } from "./runner/check.ts";
export type { CheckedRun, CheckOptions } from "./runner/check.ts";
export { judge, interpret, defaultChecks, DEFAULT_LIVENESS_BOUND_MS } from "./oracle/index.ts";
export type { Judgement, CheckResult, JudgeOptions, Reference, SinkExpectation } from "./oracle/index.ts";

// Scenarios and the data at the seams.
export type { Scenario, Expectation, CheckName, Verdict } from "./scenario.ts";
export { parseScenario, serializeScenario } from "./scenario-schema.ts";
export type { ParseScenarioResult } from "./scenario-schema.ts";
export type {
  Plan,
  PlanNode,
  Edge,
  FnRef,
  Partitioning,
  SinkKind,
  WindowAssigner,
  InputRecord,
  Inputs,
  SourceNode,
  MapNode,
  FilterNode,
  FlatMapNode,
  ReduceNode,
  ProcessNode,
  WindowNode,
  SinkNode,
} from "./engine/plan/plan.ts";
export { Registry, RegistryError, builtins } from "./engine/plan/registry.ts";
export type { FnKind } from "./engine/plan/registry.ts";
export type {
  Value,
  MapFunction,
  FilterFunction,
  FlatMapFunction,
  KeySelector,
  ReduceFunction,
  AggregateFunction,
  ValueState,
  ListState,
  MapState,
  RuntimeContext,
  TimerService,
  ProcessContext,
  Collector,
  KeyedProcessFunction,
} from "./engine/plan/functions.ts";
export {
  defaultJobConfig,
  defaultClusterConfig,
  defaultCheckpointConfig,
  validateJobConfig,
  validateClusterConfig,
  validateCheckpointConfig,
  validateRestartStrategy,
} from "./engine/config.ts";
export type { JobConfigData, ClusterConfigData, CheckpointConfigData, RestartStrategyData } from "./engine/config.ts";
export type { RunResult, CheckpointStats, CheckpointStatus, JobStatus, SinkOutput, KeyedStateEntry } from "./engine/result.ts";
export { emptyFaultPlan, defaultChaos } from "./faults/plan.ts";
export type { FaultPlan, Fault, FaultKind, Moment, TriggerKind, ChaosOptions } from "./faults/plan.ts";
export type { JsonValue, TraceEvent } from "./sim/trace.ts";

// Generators.
export * from "./gen/index.ts";
