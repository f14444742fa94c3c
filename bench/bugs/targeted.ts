/**
 * Targeted arbitraries (not the headline numbers): the default suites' generators composed with
 * extra faults, to show what a generator gap hides. Each is named by --suite in detect.ts (SUITE=
 * for `npm run bench detection`).
 */
import fc from "fast-check";
import { scenarioArb } from "../../src/gen/index.ts";
import { zombieArb } from "../../properties/arbitraries.ts";
import type { Fault } from "../../src/faults/plan.ts";
import { SUITE_OPTIONS, type SuiteScenario } from "./suites.ts";

export type Targeted = {
  /** What the default generators never produce and this arbitrary adds. */
  readonly adds: string;
  readonly arb: () => fc.Arbitrary<SuiteScenario>;
};

/** Both default suites, each scenario with extra faults drawn by `extra` and appended to its plan. */
function withExtraFaults(extra: fc.Arbitrary<readonly Fault[]>): fc.Arbitrary<SuiteScenario> {
  const of = (suite: "exactly-once" | "at-least-once"): fc.Arbitrary<SuiteScenario> =>
    fc.tuple(scenarioArb(SUITE_OPTIONS[suite]), extra).map(([s, faults]) => ({
      suite,
      scenario: { ...s, faults: { ...s.faults, faults: [...s.faults.faults, ...faults] } },
    }));
  return fc.oneof(of("exactly-once"), of("at-least-once"));
}

export const TARGETED: Readonly<Record<string, Targeted>> = {
  "backpressure-restore": {
    adds:
      "backpressure at every barrier (one credit per channel, one record per buffer, the sink slowed down) and a task failure right after the nth " +
      "checkpoint completes, so the job restores the checkpoint whose barriers passed queued data",
    arb: () =>
      fc
        .tuple(
          scenarioArb(SUITE_OPTIONS["exactly-once"]),
          fc.record({ nth: fc.integer({ min: 1, max: 3 }), factor: fc.integer({ min: 20, max: 200 }) }),
        )
        .map(([s, { nth, factor }]) => {
          const sink = s.plan.nodes.find((n) => n.kind === "sink")?.id ?? "sink-0";
          const extra: Fault[] = [
            { at: 0, fault: "slowOperator", vertex: sink, factor, durationMs: 100_000 },
            { at: { after: "checkpoint-completed", nth, delayMs: 0 }, fault: "failTask", vertex: "source-0", subtask: 0 },
          ];
          return {
            suite: "exactly-once" as const,
            scenario: {
              ...s,
              config: { ...s.config, channelCredits: 1, bufferRecords: 1, costMsPerRecord: Math.max(0.05, s.config.costMsPerRecord) },
              faults: { ...s.faults, faults: [...s.faults.faults, ...extra] },
            },
          };
        }),
  },
  "no-restart-storage-faults": {
    adds:
      "jobs without a restart strategy whose only faults are storage write failures and slow disks: checkpoints fail now and then, and a job " +
      "that fails over without cause ends FAILED instead of hiding the failover (the checkers only check that the job fails once it must)",
    arb: () =>
      scenarioArb({ ...SUITE_OPTIONS["exactly-once"], faultKinds: ["diskFailures", "slowDisk"] }).map((s) => ({
        suite: "exactly-once" as const,
        scenario: { ...s, config: { ...s.config, restart: { kind: "none" as const } } },
      })),
  },
  "jm-crash-mid-checkpoint": {
    adds:
      "a JobManager crash a few milliseconds after the nth checkpoint was triggered, while some subtasks have written their state and the metadata is not written " +
      "(the default plans aim faults at completions, alignments and open transactions, never at triggers)",
    arb: () =>
      withExtraFaults(
        fc
          .record({ nth: fc.integer({ min: 1, max: 3 }), delayMs: fc.integer({ min: 0, max: 30 }), restartAfterMs: fc.integer({ min: 50, max: 300 }) })
          .map(({ nth, delayMs, restartAfterMs }): Fault[] => [{ at: { after: "checkpoint-triggered", nth, delayMs }, fault: "crash", node: "jm", restartAfterMs }]),
      ),
  },
  "slow-broker-crash": {
    adds:
      "a slow broker (writes acknowledged late) and a TaskManager crash the moment the nth checkpoint completes, while writes issued before its barrier " +
      "may still be in flight (the default plans draw both faults, but rarely together)",
    arb: () =>
      withExtraFaults(
        fc
          .record({ nth: fc.integer({ min: 1, max: 3 }), factor: fc.integer({ min: 10, max: 50 }), restartAfterMs: fc.integer({ min: 50, max: 300 }) })
          .map(({ nth, factor, restartAfterMs }): Fault[] => [
            { at: 0, fault: "slowBroker", factor, durationMs: 5000 },
            { at: { after: "checkpoint-completed", nth, delayMs: 0 }, fault: "crash", node: "tm-0", restartAfterMs },
          ]),
      ),
  },
  "zombie-tm": {
    adds:
      "a TaskManager that keeps running its tasks after the JobManager failed the job over to another TaskManager (one-way partition tm-0 -> jm " +
      "with the whole job on tm-0; properties/arbitraries.ts zombieArb); random fault plans never reach the broker's fencing (no `fenced` event in 200 exactly-once runs)",
    arb: () => zombieArb().map((scenario) => ({ suite: "zombie" as const, scenario })),
  },
  "storage-crash": {
    adds:
      "a crash of the checkpoint storage node right after the nth checkpoint completed, then a task failure that makes the job restore from it " +
      "(the default fault generator crashes only TaskManagers and the JobManager)",
    arb: () =>
      withExtraFaults(
        fc
          .record({ nth: fc.integer({ min: 1, max: 3 }), restartAfterMs: fc.integer({ min: 10, max: 200 }), failAfterMs: fc.integer({ min: 0, max: 300 }) })
          .map(({ nth, restartAfterMs, failAfterMs }): Fault[] => [
            { at: { after: "checkpoint-completed", nth, delayMs: 0 }, fault: "crash", node: "storage", restartAfterMs },
            { at: { after: "checkpoint-completed", nth, delayMs: restartAfterMs + failAfterMs }, fault: "failTask", vertex: "source-0", subtask: 0 },
          ]),
      ),
  },
};
