/**
 * Arbitraries the property suites share, composed from the generators in src/gen:
 * - `boundedRunTime`: generated scenarios with a tighter simulation bound, so a run that never
 *   finishes fails (liveness) after 60 simulated seconds instead of 600, and shrinking one stays fast;
 * - `hasMultiInputTask`: whether a plan has a task whose barriers need aligning;
 * - `zombieArb`: a TaskManager cut off from the JobManager only (one way, it still hears the
 *   JobManager and reaches the broker) while its tasks have work left, so the new attempt's sinks
 *   fence its transactions: the path that random fault plans reach too rarely (see coverage.test.ts);
 * - `alignmentRaceArb`: AT_LEAST_ONCE plans with a multi-input task, aimed so that records overtake
 *   a barrier (the race that aligned EXACTLY_ONCE checkpoints exclude), for the must-fail property;
 * - `tamperedVerdict`: the oracle's verdict on a run with a duplicated or lost output, to show a
 *   property has teeth.
 */
import fc from "fast-check";
import type { Plan } from "../src/engine/plan/plan.ts";
import type { RunResult, SinkOutput } from "../src/engine/result.ts";
import { judge } from "../src/oracle/index.ts";
import type { JsonValue } from "../src/sim/trace.ts";
import { oracleVerdict } from "../src/testing/property.ts";
import type { PropertyCheck } from "../src/testing/property.ts";
import { scenarioArb } from "../src/gen/index.ts";
import type { ScenarioArbOptions } from "../src/gen/index.ts";
import type { Scenario } from "../src/scenario.ts";

/**
 * Longest simulated run of a generated scenario. Generated timeouts are at most 5 s, fault plans
 * end within a few seconds and restart delays are at most 1 s, so a job that has not finished after
 * 60 s will not.
 */
export const MAX_RUN_TIME_MS = 60_000;

/** The scenarios of `arb` with cluster.maxTimeMs at most MAX_RUN_TIME_MS. */
export function boundedRunTime(arb: fc.Arbitrary<Scenario>, maxTimeMs = MAX_RUN_TIME_MS): fc.Arbitrary<Scenario> {
  return arb.map((s) => ({ ...s, cluster: { ...s.cluster, maxTimeMs: Math.min(s.cluster.maxTimeMs, maxTimeMs) } }));
}

/** scenarioArb with the run-time bound. */
export function boundedScenarioArb(options: ScenarioArbOptions = {}): fc.Arbitrary<Scenario> {
  return boundedRunTime(scenarioArb(options));
}

/** Input channels of each subtask of a node: one per forward edge, one per upstream subtask otherwise. */
export function inputChannels(plan: Plan, nodeId: string): number {
  const node = plan.nodes.find((n) => n.id === nodeId);
  if (node === undefined) return 0;
  let channels = 0;
  for (const e of node.inputs) {
    const from = plan.nodes.find((n) => n.id === e.from);
    channels += e.partition === "forward" ? 1 : (from?.parallelism ?? 1);
  }
  return channels;
}

/** Whether some task reads more than one channel: its barriers must be aligned for exactly-once. */
export function hasMultiInputTask(plan: Plan): boolean {
  return plan.nodes.some((n) => inputChannels(plan, n.id) > 1);
}

export type ZombieArbOptions = {
  /** Sink kinds (default twoPhaseCommit and upsert). */
  readonly sinkKinds?: ScenarioArbOptions["sinkKinds"];
};

/**
 * A zombie TaskManager: plans of parallelism 1 (slot sharing puts the whole pipeline on tm-0),
 * two TaskManagers, a per-record cost of 2 ms (the job outlives the heartbeat timeout), a short
 * restart delay (the new attempt starts while tm-0 still runs), checkpoint timeouts of at least
 * 10 s (so the slow job's checkpoints can complete), and tm-0 cut off from the JobManager, one
 * way, early in the run. EXACTLY_ONCE; every check must still hold.
 */
export function zombieArb(options: ZombieArbOptions = {}): fc.Arbitrary<Scenario> {
  return boundedRunTime(
    fc
      .tuple(
        scenarioArb({ faults: "none", mode: "EXACTLY_ONCE", sinkKinds: options.sinkKinds ?? ["twoPhaseCommit", "upsert"], plan: { maxParallelism: 1 } }),
        fc.integer({ min: 0, max: 100 }),
        fc.integer({ min: 300, max: 1000 }),
        fc.integer({ min: 0, max: 50 }),
      )
      .map(
        ([s, atMs, durationMs, restartDelayMs]): Scenario => ({
          ...s,
          cluster: { ...s.cluster, taskManagers: 2 },
          config: {
            ...s.config,
            checkpoint: { ...s.config.checkpoint, timeoutMs: Math.max(s.config.checkpoint.timeoutMs, 10_000) },
            costMsPerRecord: 2,
            restart: { kind: "fixedDelay", attempts: 1_000_000, delayMs: restartDelayMs },
          },
          faults: { faults: [{ at: atMs, fault: "partition", a: ["tm-0"], b: ["jm"], oneWay: true, durationMs }] },
        }),
      ),
  );
}

/** Plans whose sinks the oracle compares record by record (no windows or bucketed sums: a replayed record changes their values, not their count). */
export function hasOnlyRecordwiseSinks(plan: Plan): boolean {
  return !plan.nodes.some((n) => n.kind === "window" || (n.kind === "process" && n.fn.fn === "bucketSum"));
}

/**
 * AT_LEAST_ONCE, one two-phase-commit sink kind, plans with a multi-input task, sources that fetch
 * one record at a time and checkpoints every 10..30 ms (so barriers interleave with the data), a
 * slow operator (so channels fill unevenly and records overtake the barrier on the fast ones), and
 * a task failure right after the 1st..3rd checkpoint completed (so its snapshot is restored and
 * the overtaking records are read again). Expect `exactlyOnce` to be judged explicitly.
 */
export function alignmentRaceArb(maxRecords = 80): fc.Arbitrary<Scenario> {
  return boundedRunTime(
    fc
      .tuple(
        scenarioArb({ sinkKinds: ["twoPhaseCommit"], mode: "AT_LEAST_ONCE", maxRecords, faults: "none" }).filter(
          (s) => hasMultiInputTask(s.plan) && hasOnlyRecordwiseSinks(s.plan),
        ),
        fc.record({
          slowVertex: fc.nat(),
          factor: fc.integer({ min: 5, max: 200 }),
          slowAtMs: fc.integer({ min: 0, max: 300 }),
          slowForMs: fc.integer({ min: 100, max: 1000 }),
          failVertex: fc.nat(),
          nth: fc.integer({ min: 1, max: 3 }),
          delayMs: fc.integer({ min: 0, max: 30 }),
          intervalMs: fc.integer({ min: 10, max: 30 }),
        }),
      )
      .map(([s, r]): Scenario => {
        const operators = s.plan.nodes.filter((n) => n.kind !== "sink");
        const slow = operators[r.slowVertex % operators.length] ?? operators[0];
        const failing = s.plan.nodes[r.failVertex % s.plan.nodes.length] ?? s.plan.nodes[0];
        if (slow === undefined || failing === undefined) return s;
        return {
          ...s,
          config: { ...s.config, sourceFetchRecords: 1, checkpoint: { ...s.config.checkpoint, intervalMs: r.intervalMs, minPauseMs: 0 } },
          faults: {
            faults: [
              { at: r.slowAtMs, fault: "slowOperator", vertex: slow.id, factor: r.factor, durationMs: r.slowForMs },
              { at: { after: "checkpoint-completed", nth: r.nth, delayMs: r.delayMs }, fault: "failTask", vertex: failing.id, subtask: 0 },
            ],
          },
        };
      }),
  );
}

export function recordCount(s: Scenario): number {
  let n = 0;
  for (const t of s.inputs) for (const p of t.partitions) n += p.length;
  return n;
}

/**
 * A verdict on a tampered copy of each run, for showing that a property has teeth: "duplicate"
 * commits the first committed record of the first non-upsert sink twice, "drop" loses everything
 * the sinks committed (upsert tables included). Runs with nothing to tamper with are judged as they are.
 */
export function tamperedVerdict(how: "duplicate" | "drop"): PropertyCheck {
  return (run) => {
    const sinks = run.result.sinks.map((s): SinkOutput => {
      if (how === "drop") return { ...s, committed: [], ...(s.table !== undefined ? { table: [] } : {}) };
      return s;
    });
    if (how === "duplicate") {
      const i = sinks.findIndex((s) => s.kind !== "upsert" && s.committed.length > 0);
      const s = sinks[i];
      if (s !== undefined) sinks[i] = { ...s, committed: [s.committed[0] as JsonValue, ...s.committed] };
    }
    const result: RunResult = { ...run.result, sinks };
    const { scenario } = run;
    const judgement = judge({ plan: scenario.plan, inputs: scenario.inputs, config: scenario.config, faults: scenario.faults, result, ...(scenario.expect !== undefined ? { expect: scenario.expect } : {}) });
    return oracleVerdict({ ...run, result, judgement });
  };
}
