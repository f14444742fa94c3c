import fc from "fast-check";
import { afterEach, describe, expect, test, vi } from "vitest";
import { defaultClusterConfig, defaultJobConfig } from "../engine/config.ts";
import { CheckpointFailureManager } from "../engine/checkpoint/decider.ts";
import { runAndJudge } from "../runner/check.ts";
import type { Scenario } from "../scenario.ts";
import type { Inputs, Plan } from "../engine/plan/plan.ts";
import type { KeyedStateEntry, RunResult, SinkOutput } from "../engine/result.ts";
import type { FaultPlan } from "../faults/plan.ts";
import type { JsonValue, TraceData, TraceEvent } from "../sim/trace.ts";
import {
  checkCheckpointInvariants,
  checkDeterminism,
  checkExactlyOnce,
  checkLiveness,
  checkNoLoss,
  checkNoOpenTransactions,
  checkState,
  judge,
} from "./checkers.ts";
import { byKey, config, Events, fixture, kv, rec } from "./test-fixtures.ts";

// ---- fixtures (shared code in test-fixtures.ts) -------------------------------------------------

/** src -> affine(x2) -> "out" (2PC); src -> sum by key -> "sums" (2PC) and "table" (upsert); src -> "raw" (plain). */
const plan: Plan = {
  nodes: [
    { id: "src", kind: "source", topic: "in", parallelism: 2, inputs: [] },
    { id: "double", kind: "map", fn: { fn: "affine", args: { a: 2 } }, parallelism: 2, inputs: [{ from: "src", partition: "forward" }] },
    { id: "out", kind: "sink", sink: "twoPhaseCommit", topic: "out", parallelism: 2, inputs: [{ from: "double", partition: "forward" }] },
    { id: "sum", kind: "reduce", agg: "sum", parallelism: 2, inputs: [{ from: "src", partition: "hash", key: byKey }] },
    { id: "sums", kind: "sink", sink: "twoPhaseCommit", topic: "sums", parallelism: 2, inputs: [{ from: "sum", partition: "forward" }] },
    { id: "table", kind: "sink", sink: "upsert", topic: "table", upsertKey: byKey, parallelism: 2, inputs: [{ from: "sum", partition: "forward" }] },
    { id: "raw", kind: "sink", sink: "plain", topic: "raw", parallelism: 1, inputs: [{ from: "src", partition: "rebalance" }] },
  ],
};
const inputs: Inputs = [
  {
    topic: "in",
    partitions: [
      [rec("k1", 1, 1), rec("k2", 2, 2), rec("k1", 3, 3)],
      [rec("k3", 7, 1), rec("k1", 5, 4)],
    ],
  },
];

const events = new Events();
const ev = events.ev;

/** A run with one crash, a restore from the latest checkpoint and transactions committed after completion. */
function goodTrace(): TraceEvent[] {
  events.seq = 0;
  return [
    ev(0, "jm", "job-status", { status: "RUNNING", attempt: 0 }),
    ev(100, "jm", "checkpoint-triggered", { id: 1, attempt: 0 }),
    ev(150, "jm", "checkpoint-completed", { id: 1, attempt: 0, durationMs: 50, stateBytes: 10 }),
    ev(151, "broker", "txn-committed", { tid: "out-0", epoch: 0, records: 2, digest: "d1", checkpointId: 1 }),
    ev(300, "jm", "checkpoint-triggered", { id: 2, attempt: 0 }),
    ev(360, "jm", "checkpoint-completed", { id: 2, attempt: 0, durationMs: 60, stateBytes: 10 }),
    ev(400, "tm-1", "fault", { fault: "crash" }),
    ev(900, "jm", "failover", { attempt: 1, reason: "tm-1 lost", restartDelayMs: 100 }),
    ev(1000, "jm", "restore", { checkpointId: 2, attempt: 1 }),
    ev(1000, "jm", "job-status", { status: "RUNNING", attempt: 1 }),
    ev(1100, "jm", "checkpoint-triggered", { id: 3, attempt: 1 }),
    ev(1150, "jm", "checkpoint-completed", { id: 3, attempt: 1, durationMs: 50, stateBytes: 10 }),
    ev(1151, "broker", "txn-committed", { tid: "out-1", epoch: 1, records: 3, digest: "d2", checkpointId: 3 }),
    ev(1151, "broker", "txn-committed", { tid: "out-1", epoch: 1, records: 3, digest: "d2", checkpointId: 3 }), // idempotent recommit
    ev(1200, "jm", "job-status", { status: "FINISHED", attempt: 1 }),
  ];
}

const { ref, correctSinks, run } = fixture(plan, inputs, goodTrace);

function withSink(vertex: string, edit: (committed: JsonValue[]) => JsonValue[]): SinkOutput[] {
  return correctSinks().map((s) => (s.vertex === vertex ? { ...s, committed: edit([...s.committed]) } : s));
}

// ---- exactly-once ---------------------------------------------------------------------------------

describe("checkExactlyOnce", () => {
  test("passes when every sink committed the reference's records, in any order", () => {
    const r = checkExactlyOnce(ref, run(), plan);
    expect(r.ok).toBe(true);
    expect(r.message).toMatch(/4 sinks match the reference exactly/);
  });

  test("fails on a dropped record and names it as lost, with the checkpoint and faults around it", () => {
    const r = checkExactlyOnce(ref, run({ sinks: withSink("out", (c) => c.filter((v) => JSON.stringify(v) !== JSON.stringify(kv("k3", 14)))) }), plan);
    expect(r.ok).toBe(false);
    expect(r.message).toContain(`sink "out": record {"key":"k3","value":14} committed 0 times, expected 1 (lost)`);
    expect(r.message).toContain("committed 4 (4 distinct), expected 5 (5 distinct)");
    expect(r.message).toContain("last completed checkpoint before the first restore (at 1000 ms) was 2 (completed at 360 ms)");
    expect(r.message).toContain("faults: crash tm-1 at 400 ms");
  });

  test("fails on a duplicated record and tells duplication from loss by counts", () => {
    const r = checkExactlyOnce(ref, run({ sinks: withSink("out", (c) => [...c, kv("k1", 2)]) }), plan);
    expect(r.ok).toBe(false);
    expect(r.message).toContain(`sink "out": record {"key":"k1","value":2} committed 2 times, expected 1 (duplicated)`);
    expect(r.message).toContain("0 records lost, 1 duplicated and 0 unexpected");
  });

  test("fails on a running sink whose key got an extra emission, and on one whose final value is wrong", () => {
    const dup = checkExactlyOnce(ref, run({ sinks: withSink("sums", (c) => [...c, kv("k1", 4)]) }), plan);
    expect(dup.ok).toBe(false);
    expect(dup.message).toContain(`sink "sums": key "k1" has 4 committed running values, expected 3 (duplicated)`);
    // Same count, but the final sum 9 replaced by 8: a lost update.
    const wrong = checkExactlyOnce(ref, run({ sinks: withSink("sums", (c) => c.map((v) => (JSON.stringify(v) === JSON.stringify(kv("k1", 9)) ? kv("k1", 8) : v))) }), plan);
    expect(wrong.ok).toBe(false);
    expect(wrong.message).toContain(`final value {"key":"k1","value":9} of key "k1" committed 0 times`);
  });

  test("accepts running values in another interleaving with the same counts and finals", () => {
    // k1's records 1@1, 3@3, 5@4 arriving as 5, 1, 3 give running sums 5, 6, 9.
    const r = checkExactlyOnce(ref, run({ sinks: withSink("sums", () => [kv("k1", 5), kv("k3", 7), kv("k1", 6), kv("k2", 2), kv("k1", 9)]) }), plan);
    expect(r.ok).toBe(true);
  });

  test("fails on an upsert table with a wrong value for a key", () => {
    const sinks = correctSinks().map((s) => (s.vertex === "table" ? { ...s, table: (s.table ?? []).map(([k, v]) => [k, k === "k2" ? kv("k2", 4) : v] as [string, JsonValue]) } : s));
    const r = checkExactlyOnce(ref, run({ sinks }), plan);
    expect(r.ok).toBe(false);
    expect(r.message).toContain(`sink "table": upsert key "k2" holds {"key":"k2","value":4}, expected {"key":"k2","value":2}`);
  });

  test("checks only safety when the job did not finish: a missing record is fine, a duplicate is not", () => {
    const partial = withSink("out", (c) => c.slice(1));
    expect(checkExactlyOnce(ref, run({ status: "FAILED", sinks: partial }), plan).ok).toBe(true);
    const dup = withSink("out", (c) => [...c.slice(1), c[2] as JsonValue, c[2] as JsonValue]);
    expect(checkExactlyOnce(ref, run({ status: "FAILED", sinks: dup }), plan).ok).toBe(false);
  });

  test("has teeth: any single dropped or duplicated record of a stateless sink fails, any permutation passes", () => {
    const expected = ref.sinks.find((s) => s.vertex === "out")?.records ?? [];
    fc.assert(
      fc.property(fc.nat(expected.length - 1), fc.constantFrom("drop", "dup", "shuffle"), fc.nat(), (i, how, salt) => {
        const rotated = [...expected.slice(salt % expected.length), ...expected.slice(0, salt % expected.length)];
        const committed = how === "drop" ? rotated.filter((_, j) => j !== i) : how === "dup" ? [...rotated, rotated[i] as JsonValue] : rotated;
        const r = checkExactlyOnce(ref, run({ sinks: withSink("out", () => committed) }), plan, { sinks: ["out"] });
        return r.ok === (how === "shuffle");
      }),
      { numRuns: 200 },
    );
  });
});

// ---- no loss -------------------------------------------------------------------------------------

describe("checkNoLoss", () => {
  test("passes with duplicates, which at-least-once allows", () => {
    const sinks = withSink("raw", (c) => [...c, ...c]);
    expect(checkNoLoss(ref, run({ sinks }), plan).ok).toBe(true);
  });

  test("fails on a dropped record of a stateless sink and names it", () => {
    const r = checkNoLoss(ref, run({ sinks: withSink("raw", (c) => c.filter((v) => JSON.stringify(v) !== JSON.stringify(kv("k2", 2)))) }), plan);
    expect(r.ok).toBe(false);
    expect(r.message).toContain(`sink "raw": record {"key":"k2","value":2} committed 0 times, expected at least once (lost); 1 of 5 distinct expected records missing`);
  });

  test("on running sinks checks keys only, since duplicates change running sums", () => {
    const doubled = withSink("sums", () => [kv("k1", 1), kv("k1", 2), kv("k2", 4), kv("k3", 14)]);
    expect(checkNoLoss(ref, run({ sinks: doubled }), plan).ok).toBe(true);
    const r = checkNoLoss(ref, run({ sinks: withSink("sums", (c) => c.filter((v) => JSON.stringify(v) !== JSON.stringify(kv("k3", 7)))) }), plan);
    expect(r.ok).toBe(false);
    expect(r.message).toContain(`sink "sums": key "k3" has no committed record, expected at least one (lost)`);
  });
});

// ---- state ---------------------------------------------------------------------------------------

describe("checkState", () => {
  test("passes when the final state equals the reference's, in any order and with empty states listed", () => {
    const finalState: KeyedStateEntry[] = [...ref.state].reverse().concat([{ vertex: "sum", key: "k9", state: { extra: [] } }]);
    expect(checkState(ref, run({ finalState })).ok).toBe(true);
  });

  test("fails on a wrong final aggregate and names the operator and key", () => {
    const finalState = ref.state.map((e) => (e.key === "k1" ? { ...e, state: { reduce: kv("k1", 10) } } : e));
    const r = checkState(ref, run({ finalState }));
    expect(r.ok).toBe(false);
    expect(r.message).toContain(`operator "sum" key "k1": state {"reduce":{"key":"k1","value":10}}, expected {"reduce":{"key":"k1","value":9}}`);
  });

  test("fails on a lost key", () => {
    const r = checkState(ref, run({ finalState: ref.state.filter((e) => e.key !== "k2") }));
    expect(r.ok).toBe(false);
    expect(r.message).toContain(`operator "sum" key "k2": no state`);
  });

  test("is not applicable without a final state", () => {
    expect(checkState(ref, run({ status: "FAILED", finalState: null })).ok).toBe(true);
  });
});

// ---- checkpoint invariants -----------------------------------------------------------------------

describe("checkCheckpointInvariants", () => {
  const edit = (f: (t: TraceEvent[]) => TraceEvent[]): RunResult => run({ trace: f(goodTrace()) });
  const replace = (t: TraceEvent[], kind: string, nth: number, data: TraceData, time?: number): TraceEvent[] => {
    let n = 0;
    return t.map((e) => (e.kind === kind && n++ === nth ? { ...e, data: { ...e.data, ...data }, time: time ?? e.time } : e));
  };

  test("hold on a run with a crash, a restore of the latest checkpoint and commits after completion", () => {
    const r = checkCheckpointInvariants(run(), config());
    expect(r.message).toBe("checkpoint invariants hold over 3 triggered checkpoints (3 completed) and 2 committed transactions");
    expect(r.ok).toBe(true);
  });

  test("fail on a restore of a checkpoint that is not the latest completed", () => {
    const r = checkCheckpointInvariants(edit((t) => replace(t, "restore", 0, { checkpointId: 1 })), config());
    expect(r.ok).toBe(false);
    expect(r.message).toContain("restore at 1000 ms (attempt 1) used checkpoint 1, but the latest completed checkpoint was 2 (completed at 360 ms)");
  });

  test("fail on a checkpoint id reused after a restore", () => {
    const t = edit((t) => replace(replace(t, "checkpoint-triggered", 2, { id: 2 }), "checkpoint-completed", 2, { id: 4 }));
    const r = checkCheckpointInvariants(t, config());
    expect(r.ok).toBe(false);
    expect(r.message).toContain("checkpoint 2 triggered at 1100 ms (attempt 1) reuses or lowers the id: checkpoint 2 was triggered at 300 ms (attempt 0)");
  });

  test("fail on a transaction committed before its checkpoint completed", () => {
    const r = checkCheckpointInvariants(edit((t) => replace(t, "txn-committed", 0, { checkpointId: 2 })), config());
    expect(r.ok).toBe(false);
    expect(r.message).toContain("transaction out-0 (epoch 0) committed at 151 ms for checkpoint 2, but the latest completed checkpoint then was 1");
  });

  test("fail when more checkpoints pend than maxConcurrent allows", () => {
    // Checkpoint 2 triggered at 120 ms, while checkpoint 1 (triggered at 100 ms) pends until 150 ms.
    const t = edit((t) => [t[0], t[1], { ...(t[4] as TraceEvent), time: 120 }, t[2], t[3], ...t.slice(5)] as TraceEvent[]);
    const r = checkCheckpointInvariants(t, config({ maxConcurrent: 1 }));
    expect(r.ok).toBe(false);
    expect(r.message).toContain("checkpoint 2 triggered at 120 ms while 1 checkpoint (1) pended in attempt 0; maxConcurrent is 1");
    expect(checkCheckpointInvariants(t, config({ maxConcurrent: 2 })).ok).toBe(true);
  });

  test("fail when a trigger comes sooner than minPauseMs after the previous completion", () => {
    const r = checkCheckpointInvariants(run(), config({ minPauseMs: 200 }));
    expect(r.ok).toBe(false);
    expect(r.message).toContain("checkpoint 2 triggered at 300 ms, only 150 ms after checkpoint 1 completed at 150 ms; minPauseMs is 200");
    expect(checkCheckpointInvariants(run(), config({ minPauseMs: 150 })).ok).toBe(true);
  });

  test("fail when an expired checkpoint completes late, and allow completion exactly at the timeout", () => {
    const late = checkCheckpointInvariants(run(), config({ timeoutMs: 55 }));
    expect(late.ok).toBe(false);
    expect(late.message).toContain("checkpoint 2 completed at 360 ms, after its timeout at 355 ms (triggered at 300 ms, timeoutMs 55); it should have expired");
    expect(checkCheckpointInvariants(run(), config({ timeoutMs: 60 })).ok).toBe(true);
  });

  test("fail when a checkpoint pends past its timeout without being aborted, and pass when it expires within 1 ms", () => {
    events.seq = 0;
    const base = [ev(0, "jm", "job-status", { status: "RUNNING", attempt: 0 }), ev(100, "jm", "checkpoint-triggered", { id: 1, attempt: 0 })];
    const never = checkCheckpointInvariants(run({ trace: base, endTimeMs: 5000 }), config({ timeoutMs: 1000 }));
    expect(never.ok).toBe(false);
    expect(never.message).toContain("checkpoint 1 triggered at 100 ms was still pending at its timeout (1100 ms) and was never aborted");
    const expired = [...base, ev(1100.5, "jm", "checkpoint-aborted", { id: 1, attempt: 0, reason: "expired", counted: true }), ev(1100.5, "jm", "job-status", { status: "FAILED", attempt: 0 })];
    expect(checkCheckpointInvariants(run({ trace: expired, endTimeMs: 5000 }), config({ timeoutMs: 1000 })).ok).toBe(true);
    const tooLate = expired.map((e) => (e.kind === "checkpoint-aborted" ? { ...e, time: 1102 } : e));
    expect(checkCheckpointInvariants(run({ trace: tooLate, endTimeMs: 5000 }), config({ timeoutMs: 1000 })).message).toContain("aborted only at 1102 ms");
  });

  test("a JobManager crash ends its pending checkpoints, unless one had already outlived its timeout before the crash", () => {
    events.seq = 0;
    const base = [ev(0, "jm", "job-status", { status: "RUNNING", attempt: 0 }), ev(100, "jm", "checkpoint-triggered", { id: 1, attempt: 0 })];
    // Crashed at 500 with the deadline at 1100: the dead coordinator cannot expire it, and need not.
    const crashed = [...base, ev(500, "jm", "crash", {}), ev(3000, "jm", "job-status", { status: "RESTARTING", attempt: 1 })];
    expect(checkCheckpointInvariants(run({ trace: crashed, endTimeMs: 5000 }), config({ timeoutMs: 1000 })).ok).toBe(true);
    // Crashed at 1500: the checkpoint should have expired at 1100, before the crash.
    const lateCrash = [...base, ev(1500, "jm", "crash", {})];
    const r = checkCheckpointInvariants(run({ trace: lateCrash, endTimeMs: 5000 }), config({ timeoutMs: 1000 }));
    expect(r.ok).toBe(false);
    expect(r.message).toContain("never aborted as expired before the JobManager crash at 1500 ms");
    // A TaskManager crash does not end the coordinator's checkpoints.
    const tmCrash = [...base, ev(500, "tm-0", "crash", {})];
    expect(checkCheckpointInvariants(run({ trace: tmCrash, endTimeMs: 5000 }), config({ timeoutMs: 1000 })).ok).toBe(false);
  });

  test("a checkpoint recovered from storage by a new JobManager counts as completed, but only if it was triggered", () => {
    events.seq = 0;
    const base = [
      ev(0, "jm", "job-status", { status: "RUNNING", attempt: 0 }),
      ev(100, "jm", "checkpoint-triggered", { id: 1, attempt: 0 }),
      ev(150, "jm", "crash", {}),
    ];
    const recovered = [...base, ev(400, "jm", "jm-recovered", { session: 1, checkpoints: [1], nextId: 101 }), ev(500, "jm", "restore", { checkpointId: 1, attempt: 1 })];
    expect(checkCheckpointInvariants(run({ trace: recovered, endTimeMs: 5000 }), config({ timeoutMs: 1000 })).ok).toBe(true);
    // Without the recovery event, restoring checkpoint 1 is restoring a checkpoint that never completed.
    const unexplained = [...base, ev(500, "jm", "restore", { checkpointId: 1, attempt: 1 })];
    expect(checkCheckpointInvariants(run({ trace: unexplained, endTimeMs: 5000 }), config({ timeoutMs: 1000 })).message).toContain("used checkpoint 1, but the latest completed checkpoint was none");
    const invented = [...base, ev(400, "jm", "jm-recovered", { session: 1, checkpoints: [7], nextId: 101 })];
    expect(checkCheckpointInvariants(run({ trace: invented, endTimeMs: 5000 }), config({ timeoutMs: 1000 })).message).toContain("checkpoint 7 was recovered from storage at 400 ms but was never triggered");
  });

  test("fail when committed output is taken back or committed twice with different content", () => {
    const taken = edit((t) => [...t, ev(1190, "broker", "txn-aborted", { tid: "out-0", epoch: 0, records: 2 })]);
    const r = checkCheckpointInvariants(taken, config());
    expect(r.ok).toBe(false);
    expect(r.message).toContain("transaction out-0 (epoch 0) was aborted at 1190 ms after it had been committed at 151 ms");
    const twice = checkCheckpointInvariants(edit((t) => replace(t, "txn-committed", 2, { digest: "other" })), config());
    expect(twice.ok).toBe(false);
    expect(twice.message).toContain("transaction out-1 (epoch 1) committed again at 1151 ms with different content");
  });

  test("fail when counted failures exceed tolerableFailures and the job keeps checkpointing", () => {
    events.seq = 0;
    const trace = [
      ev(0, "jm", "job-status", { status: "RUNNING", attempt: 0 }),
      ev(100, "jm", "checkpoint-triggered", { id: 1, attempt: 0 }),
      ev(120, "jm", "checkpoint-aborted", { id: 1, attempt: 0, reason: "declined: task not ready", counted: true }),
      ev(300, "jm", "checkpoint-triggered", { id: 2, attempt: 0 }),
      ev(350, "jm", "checkpoint-completed", { id: 2, attempt: 0 }),
      ev(400, "jm", "job-status", { status: "FINISHED", attempt: 0 }),
    ];
    const r = checkCheckpointInvariants(run({ trace, endTimeMs: 400 }), config({ tolerableFailures: 0 }));
    expect(r.ok).toBe(false);
    expect(r.message).toContain("checkpoint 2 triggered at 300 ms although 1 counted checkpoint failures exceeded tolerableFailures 0 at 120 ms");
    expect(checkCheckpointInvariants(run({ trace, endTimeMs: 400 }), config({ tolerableFailures: 1 })).ok).toBe(true);
    const failed = [...trace.slice(0, 3), ev(120, "jm", "job-status", { status: "FAILED", attempt: 0 })];
    expect(checkCheckpointInvariants(run({ trace: failed, status: "FAILED", endTimeMs: 120 }), config({ tolerableFailures: 0 })).ok).toBe(true);
  });
  describe("the tolerable-failure count, both ways (the checker's own count, as Flink's CheckpointFailureManager keeps it)", () => {
    const threshold = (tolerable: number, id: number) => `exceeded checkpoint tolerable failure threshold (${tolerable}): checkpoint ${id} expired`;
    /** Checkpoint 1 fails (counted), 2 completes, 3 fails (counted); then what `after` adds. */
    const failSucceedFail = (count3: number, after: TraceEvent[] = []): TraceEvent[] => {
      events.seq = 0;
      return [
        ev(0, "jm", "job-status", { status: "RUNNING", attempt: 0 }),
        ev(100, "jm", "checkpoint-triggered", { id: 1, attempt: 0 }),
        ev(200, "jm", "checkpoint-aborted", { id: 1, attempt: 0, reason: "expired", counted: true }),
        ev(200, "jm", "checkpoint-failures", { count: 1, tolerable: 1 }),
        ev(300, "jm", "checkpoint-triggered", { id: 2, attempt: 0 }),
        ev(350, "jm", "checkpoint-completed", { id: 2, attempt: 0 }),
        ev(500, "jm", "checkpoint-triggered", { id: 3, attempt: 0 }),
        ev(600, "jm", "checkpoint-aborted", { id: 3, attempt: 0, reason: "expired", counted: true }),
        ev(600, "jm", "checkpoint-failures", { count: count3, tolerable: 1 }),
        ...after,
      ];
    };
    const judgeTrace = (trace: TraceEvent[], tolerableFailures: number, status: RunResult["status"] = "FINISHED") =>
      checkCheckpointInvariants(run({ trace, status, endTimeMs: trace[trace.length - 1]?.time ?? 0 }), config({ tolerableFailures, timeoutMs: 100 }));

    test("a correct engine passes: a completion resets the count, so one failure after it is tolerated", () => {
      const r = judgeTrace(failSucceedFail(1, [ev(900, "jm", "job-status", { status: "FINISHED", attempt: 0 })]), 1);
      expect(r.message).toContain("checkpoint invariants hold");
    });

    test("injected bug, the counter not reset by a success (tolerable-counter-not-reset): the count and the early failover both fail the check", () => {
      // What the engine with the bug does: it counts 2 at checkpoint 3 and fails the job over (tolerableFailures 1).
      const trace = failSucceedFail(2, [
        ev(600, "jm", "failover", { attempt: 1, reason: threshold(1, 3), restartDelayMs: 0 }),
        ev(700, "jm", "restore", { checkpointId: 2, attempt: 1 }),
        ev(900, "jm", "job-status", { status: "FINISHED", attempt: 1 }),
      ]);
      const r = judgeTrace(trace, 1);
      expect(r.ok).toBe(false);
      expect(r.message).toContain("the JobManager counted 2 checkpoint failures at 600 ms, but 1 counted failure happened since checkpoint 2 completed (3)");
      const rules = (r.details as { problems: { rule: string }[] }).problems.map((p) => p.rule);
      expect(rules).toContain("tolerable failures");
      // Only the failover, with a correct count: still flagged, now by the two-sided rule.
      const early = judgeTrace(failSucceedFail(1, [ev(600, "jm", "failover", { attempt: 1, reason: threshold(1, 3), restartDelayMs: 0 })]), 1);
      expect(early.ok).toBe(false);
      expect(early.message).toContain(
        "the job failed over at 600 ms for the tolerable-failure threshold, but only 1 counted checkpoint failure since the last completion (3) did not exceed tolerableFailures 1",
      );
      // The same when there is no restart strategy and the job ends FAILED.
      const failed = judgeTrace(failSucceedFail(1, [ev(600, "jm", "job-status", { status: "FAILED", attempt: 0, reason: `${threshold(1, 3)}; no restarts` })]), 1, "FAILED");
      expect(failed.ok).toBe(false);
      expect(failed.message).toContain("the job FAILED at 600 ms for the tolerable-failure threshold");
    });

    test("the count survives a failover for another cause (as in Flink), and is cleared when the threshold fails the job", () => {
      events.seq = 0;
      const trace = [
        ev(0, "jm", "job-status", { status: "RUNNING", attempt: 0 }),
        ev(100, "jm", "checkpoint-triggered", { id: 1, attempt: 0 }),
        ev(200, "jm", "checkpoint-aborted", { id: 1, attempt: 0, reason: "declined", counted: true }),
        ev(200, "jm", "checkpoint-failures", { count: 1, tolerable: 1 }),
        ev(250, "jm", "failover", { attempt: 1, reason: "task failed", restartDelayMs: 0 }),
        ev(260, "jm", "restore", { checkpointId: null, attempt: 1 }),
        ev(300, "jm", "checkpoint-triggered", { id: 2, attempt: 1 }),
        ev(400, "jm", "checkpoint-aborted", { id: 2, attempt: 1, reason: "expired", counted: true }),
        ev(400, "jm", "checkpoint-failures", { count: 2, tolerable: 1 }),
        ev(400, "jm", "failover", { attempt: 2, reason: threshold(1, 2), restartDelayMs: 0 }),
        ev(410, "jm", "restore", { checkpointId: null, attempt: 2 }),
        ev(500, "jm", "checkpoint-triggered", { id: 3, attempt: 2 }),
        ev(600, "jm", "checkpoint-aborted", { id: 3, attempt: 2, reason: "expired", counted: true }),
        ev(600, "jm", "checkpoint-failures", { count: 1, tolerable: 1 }),
        ev(700, "jm", "checkpoint-triggered", { id: 4, attempt: 2 }),
        ev(750, "jm", "checkpoint-completed", { id: 4, attempt: 2 }),
        ev(900, "jm", "job-status", { status: "FINISHED", attempt: 2 }),
      ];
      expect(judgeTrace(trace, 1).message).toContain("checkpoint invariants hold");
      // An engine that reset its count at the first failover would count 1 at checkpoint 2 and not fail.
      const resetAtFailover = trace
        .slice(0, 8)
        .concat([ev(400, "jm", "checkpoint-failures", { count: 1, tolerable: 1 }), ev(900, "jm", "job-status", { status: "FINISHED", attempt: 1 })]);
      const r = judgeTrace(resetAtFailover, 1);
      expect(r.ok).toBe(false);
      expect(r.message).toContain("the JobManager counted 1 checkpoint failure at 400 ms, but 2 counted failures happened since the start (1, 2)");
      // An engine that kept its count after the threshold failed the job would count 3 at checkpoint 3.
      const keptAfterThreshold = trace.map((e) => (e.kind === "checkpoint-failures" && e.time === 600 ? { ...e, data: { count: 3, tolerable: 1 } } : e));
      expect(judgeTrace(keptAfterThreshold, 1).ok).toBe(false);
    });

    test("a new JobManager starts counting from zero", () => {
      const trace = failSucceedFail(1).slice(0, 4);
      events.seq = trace.length;
      trace.push(
        ev(250, "jm", "crash", {}),
        ev(400, "jm", "jm-recovered", { session: 1, checkpoints: [], nextId: 2 }),
        ev(500, "jm", "checkpoint-triggered", { id: 2, attempt: 1 }),
        ev(600, "jm", "checkpoint-aborted", { id: 2, attempt: 1, reason: "expired", counted: true }),
        ev(600, "jm", "checkpoint-failures", { count: 1, tolerable: 1 }),
        ev(900, "jm", "job-status", { status: "FINISHED", attempt: 1 }),
      );
      expect(judgeTrace(trace, 1).message).toContain("checkpoint invariants hold");
    });

    describe("on the real engine", () => {
      afterEach(() => {
        vi.restoreAllMocks();
      });
      /** Storage writes fail twice, with a completed checkpoint between: one failure each time, tolerableFailures 1, no restart. */
      const scenario: Scenario = {
        name: "tolerable-failures-between-completions",
        seed: 6,
        plan: {
          nodes: [
            { id: "events", kind: "source", topic: "events", parallelism: 2, costMsPerRecord: 10, inputs: [] },
            { id: "sum", kind: "reduce", agg: "sum", field: "value", parallelism: 2, inputs: [{ from: "events", partition: "hash", key: byKey }] },
            { id: "out", kind: "sink", sink: "twoPhaseCommit", topic: "sums", parallelism: 2, inputs: [{ from: "sum", partition: "forward" }] },
          ],
        },
        inputs: [
          {
            topic: "events",
            partitions: [0, 1].map(() => Array.from({ length: 200 }, (_, i) => ({ value: { key: `k${i % 5}`, value: (i % 3) + 1 }, ts: i * 10 }))),
          },
        ],
        config: {
          ...defaultJobConfig,
          checkpoint: { ...defaultJobConfig.checkpoint, intervalMs: 300, timeoutMs: 60_000, minPauseMs: 100, tolerableFailures: 1 },
          restart: { kind: "none" },
        },
        cluster: defaultClusterConfig,
        faults: {
          faults: [
            { fault: "diskFailures", at: 500, node: "storage", writeFailureProbability: 1, durationMs: 300 },
            { fault: "diskFailures", at: 1400, node: "storage", writeFailureProbability: 1, durationMs: 560 },
          ],
        },
      };

      test("the unmodified engine passes: one failure, a completion, one failure, and the job finishes", () => {
        const r = runAndJudge(scenario);
        expect(r.result.trace.filter((e) => e.kind === "checkpoint-failures").map((e) => e.data["count"])).toEqual([1, 1]);
        expect(r.judgement.verdict).toBe("pass");
      });

      test("with the success no longer resetting the engine's count (the catalog's tolerable-counter-not-reset), the checker fails the run", () => {
        const onSuccess = CheckpointFailureManager.prototype.onSuccess;
        vi.spyOn(CheckpointFailureManager.prototype, "onSuccess").mockImplementation(function (this: CheckpointFailureManager, id: number) {
          const count = this.failureCount;
          onSuccess.call(this, id);
          (this as unknown as { count: number }).count = count;
        });
        const r = runAndJudge(scenario);
        expect(r.result.status).toBe("FAILED");
        const invariants = r.judgement.results.find((c) => c.check === "checkpointInvariants");
        expect(invariants?.ok).toBe(false);
        expect(invariants?.message).toMatch(/^the JobManager counted 2 checkpoint failures at [\d.]+ ms, but 1 counted failure happened since checkpoint 2 completed \(3\)/);
        const rules = (invariants?.details as { problems: { rule: string }[] }).problems.map((p) => p.rule);
        expect(rules).toEqual(["failure counting", "tolerable failures"]);
      });
    });

    test("the engine's counted flag must follow Flink's rule from the abort reason", () => {
      const subsumedCounted = failSucceedFail(1).map((e) => (e.kind === "checkpoint-aborted" && e.data["id"] === 3 ? { ...e, data: { ...e.data, reason: "subsumed" } } : e));
      const r = judgeTrace(subsumedCounted, 5);
      expect(r.ok).toBe(false);
      expect(r.message).toContain("checkpoint 3 was aborted at 600 ms (subsumed) and counted as a failure, which Flink does not count");
      const declinedNotCounted = failSucceedFail(1).map((e) => (e.kind === "checkpoint-aborted" && e.data["id"] === 3 ? { ...e, data: { ...e.data, reason: "declined", counted: false } } : e));
      const d = judgeTrace(declinedNotCounted, 5);
      expect(d.ok).toBe(false);
      expect(d.message).toContain("checkpoint 3 aborted at 600 ms (declined) was not counted as a failure, but Flink counts it");
    });
  });
});

// ---- transactions, liveness, determinism -----------------------------------------------------------

describe("checkNoOpenTransactions, checkLiveness and checkDeterminism", () => {
  const faults: FaultPlan = { faults: [{ at: 400, fault: "crash", node: "tm-1", restartAfterMs: 500 }] };

  test("an open transaction at the end of a finished job fails and is named", () => {
    expect(checkNoOpenTransactions(run()).ok).toBe(true);
    const r = checkNoOpenTransactions(run({ openTransactions: [{ tid: "sums-1", epoch: 3 }] }));
    expect(r.ok).toBe(false);
    expect(r.message).toContain("transaction sums-1 (epoch 3) is still open after the job FINISHED");
  });

  test("a run that did not finish, exceeded a bound or ended too late after the faults fails liveness", () => {
    expect(checkLiveness(run(), faults, 1000).ok).toBe(true);
    const stuck = checkLiveness(run({ status: "RESTARTING", endTimeMs: 600_000 }), faults, 1000);
    expect(stuck.ok).toBe(false);
    expect(stuck.message).toContain("the job ended RESTARTING at 600000 ms, expected FINISHED");
    const bound = checkLiveness(run({ status: "RUNNING", boundExceeded: "maxEvents" }), faults, 1000);
    expect(bound.message).toContain("the run exceeded its maxEvents bound");
    const slow = checkLiveness(run({ endTimeMs: 2500 }), faults, 1000);
    expect(slow.ok).toBe(false);
    expect(slow.message).toContain("more than 1000 ms after the last fault ended at 900 ms");
    expect(checkLiveness(run({ status: "FAILED" }), faults, 1000, "FAILED").ok).toBe(true);
  });

  test("different trace hashes fail determinism, and the message gives both hashes and the first difference", () => {
    expect(checkDeterminism(run(), run()).ok).toBe(true);
    const other = run({ traceHash: "fedcba9876543210", trace: goodTrace().map((e) => (e.kind === "restore" ? { ...e, time: 1001 } : e)) });
    const r = checkDeterminism(run(), other);
    expect(r.ok).toBe(false);
    expect(r.message).toContain("0123456789abcdef and fedcba9876543210");
    expect(r.message).toContain("first difference at summary event 8: 1000 ms jm restore");
  });
});

// ---- judge ---------------------------------------------------------------------------------------

describe("judge", () => {
  const faults: FaultPlan = { faults: [{ at: 400, fault: "crash", node: "tm-1" }] };

  test("passes a correct exactly-once run with every applicable check", () => {
    const j = judge({ plan, inputs, result: run(), config: config(), faults });
    expect(j.verdict).toBe("pass");
    expect(j.results.map((r) => r.check)).toEqual(["exactlyOnce", "noLoss", "state", "checkpointInvariants", "noOpenTransactions", "liveness"]);
    expect(j.summary).toMatch(/^pass: /);
  });

  test("fails a run that lost a record and names the check and the record in its summary", () => {
    const j = judge({ plan, reference: ref, result: run({ sinks: withSink("out", (c) => c.slice(1)) }), config: config(), faults });
    expect(j.verdict).toBe("fail");
    expect(j.summary).toMatch(/^fail: exactlyOnce: sink "out": record .* \(lost\)/);
  });

  test("judges every sink by no-loss in AT_LEAST_ONCE mode, where duplicates pass", () => {
    const sinks = withSink("out", (c) => [...c, ...c]);
    const j = judge({ plan, reference: ref, result: run({ sinks }), config: config({ mode: "AT_LEAST_ONCE" }), faults });
    expect(j.results.map((r) => r.check)).toEqual(["noLoss", "checkpointInvariants", "noOpenTransactions", "liveness"]);
    expect(j.verdict).toBe("pass");
  });

  test("explicit checks cover plain sinks too, so a scenario can show that a plain sink duplicates", () => {
    const sinks = withSink("raw", (c) => [...c, c[0] as JsonValue]);
    const j = judge({ plan, reference: ref, result: run({ sinks }), config: config(), faults, expect: { verdict: "fail", checks: ["exactlyOnce"] } });
    expect(j.verdict).toBe("fail");
    expect(j.summary).toContain(`sink "raw"`);
    expect(j.summary).toContain("(duplicated)");
  });
});
