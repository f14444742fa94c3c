/**
 * The oracle: the reference interpreter, what a plan defines, and the checkers. Independent of
 * the engine's runtime, checkpointing, cluster, state and external code (DESIGN.md).
 */
export { interpret, InterpretError, recordKey, assignWindows, windowStart, MAX_TIMER_FIRINGS } from "./reference.ts";
export type { Reference, SinkExpectation, RunningKeyExpectation, UpsertRowExpectation, UndefinedState } from "./reference.ts";
export { analyze, classify, isBuiltin, keysByKeyField, isIdempotentReduce } from "./defined.ts";
export type { Flow, NodeFlow, NoLossLevel, SinkClass, SinkMode } from "./defined.ts";
export {
  checkCheckpointInvariants,
  checkDeterminism,
  checkExactlyOnce,
  checkLiveness,
  checkNoLoss,
  checkNoOpenTransactions,
  checkState,
  defaultChecks,
  describeContext,
  faultsEndMs,
  judge,
  showRecord,
  DEFAULT_LIVENESS_BOUND_MS,
  EXPIRY_TOLERANCE_MS,
  MAX_DETAILS,
} from "./checkers.ts";
export type { CheckResult, JudgeOptions, Judgement, SinkCheckOptions } from "./checkers.ts";
