/**
 * A scenario is everything one run needs: `streamsim run scenario.json` reproduces it anywhere.
 */
import type { ClusterConfigData, JobConfigData } from "./engine/config.ts";
import type { Inputs, Plan } from "./engine/plan/plan.ts";
import type { FaultPlan } from "./faults/plan.ts";

/** The checks a run is judged by (see src/oracle). */
export type CheckName =
  | "exactlyOnce"
  | "noLoss"
  | "state"
  | "checkpointInvariants"
  | "noOpenTransactions"
  | "liveness"
  | "determinism";

export type Verdict = "pass" | "fail";

export type Expectation = {
  /** What the scenario is expected to show: "pass" (all checks hold) or "fail" (some check is violated). */
  readonly verdict: Verdict;
  /** Which checks apply; default: chosen from the sinks and the checkpointing mode. */
  readonly checks?: readonly CheckName[];
  /** For "fail": the check expected to fail. */
  readonly failingCheck?: CheckName;
  /** Expected final job status, if the scenario is about it (e.g. FAILED when failures exceed the tolerable number). */
  readonly jobStatus?: "FINISHED" | "FAILED";
  /** Recorded trace hash; a replay must match it. */
  readonly traceHash?: string;
};

export type Scenario = {
  readonly name: string;
  readonly description?: string;
  readonly seed: number;
  readonly plan: Plan;
  readonly inputs: Inputs;
  readonly config: JobConfigData;
  readonly cluster: ClusterConfigData;
  readonly faults: FaultPlan;
  readonly expect?: Expectation;
};
