/**
 * Generated scenarios: a plan, its inputs, a job and cluster configuration and a fault plan, with a
 * seed and the expectation that every check passes.
 *
 * Every part is drawn independently (inputs, cluster and faults name topics, TaskManagers and
 * vertices by small integers) and combined in one `map`, so fast-check shrinks each part on its own
 * instead of regenerating the dependent parts after every plan shrink.
 */
import fc from "fast-check";
import type { CheckpointingMode } from "../engine/config.ts";
import type { SinkKind } from "../engine/plan/plan.ts";
import type { FaultKind } from "../faults/plan.ts";
import type { Scenario } from "../scenario.ts";
import { buildCluster, jobConfigArb, livableTimeoutMs, rawClusterArb } from "./config.ts";
import { rawFaultsArb, resolveFaults } from "./faults.ts";
import { buildInputs, rawInputsArb } from "./inputs.ts";
import type { PlanArbOptions } from "./plan.ts";
import { buildPlan, maxParallelism, planDescriptorArb } from "./plan.ts";

/** How many raw faults a scenario may have: none 0, light 2, normal 5, heavy 10 (a structured one resolves to two concrete faults). */
export type FaultIntensity = "none" | "light" | "normal" | "heavy";
export const FAULTS_BY_INTENSITY: Readonly<Record<FaultIntensity, number>> = { none: 0, light: 2, normal: 5, heavy: 10 };

export type ScenarioArbOptions = {
  /** Sink kinds to draw from (default all). */
  readonly sinkKinds?: readonly SinkKind[];
  /** Fix the checkpointing mode (default: either). */
  readonly mode?: CheckpointingMode;
  /** Fault intensity (default "normal"). */
  readonly faults?: FaultIntensity;
  /** Fault kinds to draw from (default all). */
  readonly faultKinds?: readonly FaultKind[];
  /** Most records over all topics (default 200). */
  readonly maxRecords?: number;
  /**
   * Absolute fault times fall in [0, faultHorizonMs]. Default: 4 checkpoint intervals, within
   * 300..3000 ms, so faults land while checkpoints are being taken.
   */
  readonly faultHorizonMs?: number;
  /** Further plan options (sources, operators, parallelism, sinks). */
  readonly plan?: Omit<PlanArbOptions, "sinkKinds">;
};

export function validateScenarioArbOptions(o: ScenarioArbOptions): string | undefined {
  if (o.faults !== undefined && !(o.faults in FAULTS_BY_INTENSITY))
    return `scenarioArb options.faults must be one of none, light, normal, heavy, got ${JSON.stringify(o.faults)}`;
  if (o.faultHorizonMs !== undefined && !(Number.isFinite(o.faultHorizonMs) && o.faultHorizonMs >= 0))
    return `scenarioArb options.faultHorizonMs must be a finite number >= 0, got ${o.faultHorizonMs}`;
  return undefined;
}

export function defaultFaultHorizonMs(checkpointIntervalMs: number): number {
  return Math.min(3000, Math.max(300, 4 * checkpointIntervalMs));
}

export function scenarioArb(options: ScenarioArbOptions = {}): fc.Arbitrary<Scenario> {
  const problem = validateScenarioArbOptions(options);
  if (problem !== undefined) throw new RangeError(problem);
  const planOptions: PlanArbOptions = { ...options.plan, ...(options.sinkKinds ? { sinkKinds: options.sinkKinds } : {}) };
  const maxFaults = FAULTS_BY_INTENSITY[options.faults ?? "normal"];
  return fc
    .record({
      seed: fc.integer({ min: 0, max: 0x7fff_ffff }),
      plan: planDescriptorArb(planOptions),
      inputs: rawInputsArb(planOptions.maxSources ?? 3, options.maxRecords === undefined ? {} : { maxRecords: options.maxRecords }),
      config: jobConfigArb(options.mode === undefined ? {} : { mode: options.mode }),
      cluster: rawClusterArb(),
      faults: rawFaultsArb(maxFaults, options.faultKinds),
    })
    .map((r): Scenario => {
      const plan = buildPlan(r.plan);
      const cluster = buildCluster(r.cluster, maxParallelism(plan));
      // A checkpoint must be able to complete once the faults end (see livableTimeoutMs).
      const floorMs = livableTimeoutMs(plan, cluster, r.config);
      const config = r.config.checkpoint.timeoutMs >= floorMs ? r.config : { ...r.config, checkpoint: { ...r.config.checkpoint, timeoutMs: floorMs } };
      const horizonMs = options.faultHorizonMs ?? defaultFaultHorizonMs(config.checkpoint.intervalMs);
      const vertices = plan.nodes.map((n) => ({ id: n.id, parallelism: n.parallelism }));
      return {
        name: "generated",
        seed: r.seed,
        plan,
        inputs: buildInputs(r.inputs, plan),
        config,
        cluster,
        faults: resolveFaults(r.faults, { taskManagers: cluster.taskManagers, vertices, horizonMs }),
        expect: { verdict: "pass" },
      };
    });
}
