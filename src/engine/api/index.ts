/**
 * The Flink-style API: build a pipeline with Flink's names, then get it as data (a plan and a
 * scenario) or run it on the simulator. See docs/api.md.
 */
export { StreamExecutionEnvironment, closureNames, functionRefs } from "./environment.ts";
export type { StreamExecutionEnvironmentOptions, ExecuteOptions, CollectionSourceOptions, RuntimeOptions, ExecutionConfig } from "./environment.ts";
export { CheckpointConfig, CheckpointingMode } from "./checkpoint-config.ts";
export { RestartStrategies } from "./restart-strategies.ts";
export type { RestartStrategyConfiguration } from "./restart-strategies.ts";
export { WatermarkStrategy } from "./watermarks.ts";
export { TumblingEventTimeWindows, SlidingEventTimeWindows } from "./windows.ts";
export { KafkaSource, TwoPhaseCommitSink, UpsertSink, PlainSink } from "./connectors.ts";
export type { Sink } from "./connectors.ts";
export { DataStream, SingleOutputStreamOperator, KeyedStream, WindowedStream, DataStreamSink } from "./datastream.ts";
export { JobExecutionResult, formatCheckpointTable } from "./result.ts";
export { ApiError } from "./errors.ts";
export { copyInstance } from "./functions.ts";
export type {
  FnSpec,
  MapFunctionSpec,
  FilterFunctionSpec,
  FlatMapFunctionSpec,
  ReduceFunctionSpec,
  AggregateFunctionSpec,
  KeySelectorSpec,
  KeyedProcessFunctionSpec,
  KeyedProcessFunctionClass,
} from "./functions.ts";
