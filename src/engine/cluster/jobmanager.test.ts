/**
 * Scenarios of the JobManager's coordinator, recovery and failover paths, built with the API and
 * aimed with fault triggers: one pipeline (a source of distinct records, a 1 ms "work" map and the
 * two-phase-commit sink, parallelism 1 unless said), so the committed output must be exactly the
 * input. Each test names the path it drives and asserts the JobManager's observable decisions
 * (trace events, checkpoint statistics, restores, status), not only the oracle's verdict.
 */
import { describe, expect, test } from "vitest";
import type { Fault } from "../../faults/plan.ts";
import { canonicalJson, type JsonValue, type TraceEvent } from "../../sim/trace.ts";
import type { InputRecord } from "../plan/plan.ts";
import {
  CheckpointingMode,
  KafkaSource,
  RestartStrategies,
  StreamExecutionEnvironment,
  TwoPhaseCommitSink,
  WatermarkStrategy,
  type JobExecutionResult,
} from "../api/index.ts";
import type { Scenario } from "../../scenario.ts";
import resurrected from "../../../scenarios/regressions/aborted-checkpoint-resurrected-after-failed-discard.json" with { type: "json" };
import { runScenario } from "./job.ts";

/** Partition p, record i: { id: "p<p>-<i>", value: i }. */
function input(partitions: number, perPartition: number): InputRecord[][] {
  return Array.from({ length: partitions }, (_, p) => Array.from({ length: perPartition }, (_, i) => ({ value: { id: `p${p}-${i}`, value: i }, ts: i })));
}

const sorted = (values: readonly JsonValue[]): string[] => values.map((v) => canonicalJson(v)).sort();

type Options = {
  readonly faults?: readonly Fault[];
  readonly parallelism?: number;
  readonly perPartition?: number;
  readonly cluster?: {
    readonly slotsPerTaskManager?: number;
    readonly maxTimeMs?: number;
    readonly networkLatencyMsMin?: number;
    readonly networkLatencyMsMax?: number;
  };
  /** Checkpoint and restart settings (default: every 20 ms, EXACTLY_ONCE, fixed delay 100 x 10 ms). */
  readonly configure?: (env: StreamExecutionEnvironment) => void;
};

/** Heartbeats every 20 ms, timeout 60 ms; small buffers so a checkpoint takes ~50 ms. */
function run(o: Options = {}): { r: JobExecutionResult; records: InputRecord[][] } {
  const records = input(2, o.perPartition ?? 100);
  const env = StreamExecutionEnvironment.create({
    seed: 1,
    parallelism: o.parallelism ?? 1,
    cluster: { heartbeatIntervalMs: 20, heartbeatTimeoutMs: 60, ...o.cluster },
    runtime: { bufferRecords: 4, channelCredits: 2, sourceFetchRecords: 8 },
    faults: { faults: o.faults ?? [] },
  });
  env.enableCheckpointing(20, CheckpointingMode.EXACTLY_ONCE);
  env.setRestartStrategy(RestartStrategies.fixedDelayRestart(100, 10));
  o.configure?.(env);
  env
    .fromSource(KafkaSource.topic("in").partitions(records), WatermarkStrategy.noWatermarks(), "in")
    .map((v) => v)
    .uid("work")
    .setCostMsPerRecord(1)
    .sinkTo(TwoPhaseCommitSink.topic("out"));
  return { r: env.execute("jobmanager"), records };
}

const events = (r: JobExecutionResult, kind: string): TraceEvent[] => r.run.trace.filter((e) => e.kind === kind);
const data = (r: JobExecutionResult, kind: string): unknown[] => events(r, kind).map((e) => e.data);
const exactlyTheInput = (r: JobExecutionResult, records: InputRecord[][]): void => {
  expect(sorted(r.committed("out"))).toEqual(sorted(records.flat().map((x) => x.value)));
};

describe("checkpoint ids and the JobManager's failover", () => {
  test("ids are leased from storage 100 at a time, so after a JobManager crash the next id is 101, and the checkpoint pending at the crash is failed as jobmanager-lost", () => {
    const { r, records } = run({ faults: [{ at: { after: "checkpoint-completed", nth: 2, delayMs: 1 }, fault: "crash", node: "jm", restartAfterMs: 10 }] });
    expect(r.status).toBe("FINISHED");
    expect(data(r, "jm-recovered")).toEqual([
      { session: 0, checkpoints: [], nextId: 1 },
      { session: 1, checkpoints: [2], nextId: 101 },
    ]);
    const ids = events(r, "checkpoint-triggered").map((e) => e.data["id"]);
    expect(ids.slice(0, 4)).toEqual([1, 2, 3, 101]);
    const lost = r.checkpoints.find((c) => c.id === 3);
    expect(lost?.status).toBe("FAILED");
    expect(lost?.failureReason).toBe("jobmanager-lost: the JobManager crashed while it was pending");
    expect(r.checkpoints.filter((c) => c.status === "IN_PROGRESS")).toEqual([]);
    expect(r.restores).toEqual([{ timeMs: expect.any(Number), checkpointId: 2, attempt: 1 }]);
    expect(data(r, "restore")).toEqual([{ checkpointId: 2, attempt: 1 }]);
    // The new leader runs a new attempt: RESTARTING, then RUNNING with attempt 1.
    expect(data(r, "job-status").map((d) => (d as { status: string; attempt: number }).status)).toEqual(["RUNNING", "RESTARTING", "RUNNING", "FINISHED"]);
    exactlyTheInput(r, records);
  });

  test("a failed id lease aborts the trigger as an uncounted io failure, and the next trigger leases again", () => {
    const { r, records } = run({
      configure: (env) => env.getCheckpointConfig().setTolerableCheckpointFailureNumber(0),
      faults: [{ at: { after: "job-running" }, fault: "diskFailures", node: "storage", writeFailureProbability: 1, durationMs: 40 }],
    });
    expect(r.status).toBe("FINISHED");
    expect(data(r, "checkpoint-aborted").slice(0, 2)).toEqual([
      { id: 1, attempt: 0, reason: "io", counted: false },
      { id: 2, attempt: 0, reason: "io", counted: false },
    ]);
    expect(events(r, "failover")).toEqual([]);
    expect(events(r, "checkpoint-triggered")[0]?.data["id"]).toBe(3);
    expect(r.checkpoints.find((c) => c.id === 3)?.status).toBe("COMPLETED");
    exactlyTheInput(r, records);
  });
});

describe("recovery of the completed checkpoints", () => {
  test("a JobManager restarting while the storage is partitioned away retries until the partition heals, at any step of the recovery, and restores the latest checkpoint", () => {
    const crash: Fault = { at: { after: "checkpoint-completed", nth: 2, delayMs: 1 }, fault: "crash", node: "jm", restartAfterMs: 10 };
    const base = run({ faults: [crash] }).r;
    const restart = events(base, "restart").find((e) => e.node === "jm")?.time ?? NaN;
    const recovered = events(base, "jm-recovered")[1]?.time ?? NaN;
    expect(recovered - restart).toBeGreaterThan(5);
    // Partitions starting at 8 points from the restart to the end of the recovery: each hits another storage call.
    for (let k = 0; k < 8; k++) {
      const at = restart + 0.1 + (k * (recovered - restart)) / 8;
      const { r, records } = run({ faults: [crash, { at, fault: "partition", a: ["jm"], b: ["storage"], durationMs: 100 }] });
      const again = events(r, "jm-recovered")[1];
      expect(again?.time).toBeGreaterThanOrEqual(at + 100);
      expect(again?.data).toEqual({ session: 1, checkpoints: [2], nextId: 101 });
      expect(r.restores.map((x) => x.checkpointId)).toEqual([2]);
      expect(r.status).toBe("FINISHED");
      exactlyTheInput(r, records);
    }
  });

  test("a discard that fails in a partition is retried until it succeeds, before the restart, so a later JobManager does not recover the aborted checkpoint", () => {
    // Checkpoint 3's metadata lands but its reply is lost in a partition (JobManager | storage), and
    // so is the first discard; the JobManager then crashes at the 4th trigger.
    const r = runScenario(resurrected as unknown as Scenario);
    const aborted = r.checkpoints.find((c) => c.id === 3);
    expect(aborted?.status).toBe("FAILED");
    const recovered = r.trace.filter((e) => e.kind === "jm-recovered").map((e) => e.data["checkpoints"]);
    expect(recovered).toHaveLength(2);
    expect(recovered[1]).not.toContain(3);
    expect(r.trace.filter((e) => e.kind === "fenced" && e.data["op"] === "commit")).toEqual([]);
    expect(r.status).toBe("FINISHED");
  });

  test("a checkpoint whose metadata lands after it expired is deleted, so a later JobManager recovers the checkpoint before it", () => {
    const { r, records } = run({
      configure: (env) => env.getCheckpointConfig().setCheckpointTimeout(60).setTolerableCheckpointFailureNumber(50),
      faults: [
        // The storage is slow while checkpoint 2 finalises: it expires with its metadata write in flight.
        { at: { after: "checkpoint-triggered", nth: 2, delayMs: 30 }, fault: "slowDisk", node: "storage", factor: 30, durationMs: 80 },
        // No checkpoint completes from 200 to 500; the JobManager crashes at 400, after 2's metadata landed.
        { at: 200, fault: "slowOperator", vertex: "work", factor: 100, durationMs: 300 },
        { at: 400, fault: "crash", node: "jm", restartAfterMs: 5 },
      ],
    });
    expect(r.checkpoints.find((c) => c.id === 2)?.failureReason).toBe("expired: expired after 60 ms");
    expect(r.checkpoints.filter((c) => c.id < 100 && c.status === "COMPLETED").map((c) => c.id)).toEqual([1]);
    expect(events(r, "jm-recovered")[1]?.data["checkpoints"]).toEqual([1]);
    expect(r.restores.map((x) => x.checkpointId)).toEqual([1]);
    expect(r.status).toBe("FINISHED");
    exactlyTheInput(r, records);
  });
});

describe("the checkpoint coordinator", () => {
  test("a newer checkpoint completing first subsumes the older pending ones, in id order, without counting them", () => {
    const { r, records } = run({
      configure: (env) => {
        env.enableCheckpointing(10);
        env.getCheckpointConfig().setMaxConcurrentCheckpoints(3).setTolerableCheckpointFailureNumber(0);
      },
      // The acknowledgements of checkpoints 1 and 2 are lost: they pend until 3 completes.
      faults: [{ at: { after: "checkpoint-triggered", nth: 2 }, fault: "dropRpc", rpc: "acknowledgeCheckpoint", durationMs: 30 }],
    });
    expect(r.status).toBe("FINISHED");
    const completed3 = events(r, "checkpoint-completed")[0];
    expect(completed3?.data["id"]).toBe(3);
    const aborted = events(r, "checkpoint-aborted").filter((e) => e.time === completed3?.time);
    expect(aborted.map((e) => e.data)).toEqual([
      { id: 1, attempt: 0, reason: "subsumed", counted: false },
      { id: 2, attempt: 0, reason: "subsumed", counted: false },
    ]);
    expect(r.checkpoints.find((c) => c.id === 1)?.failureReason).toBe("subsumed: subsumed by checkpoint 3");
    expect(events(r, "checkpoint-failures")).toEqual([]);
    expect(events(r, "failover")).toEqual([]);
    // Checkpoint 3's notification commits the transactions of 1, 2 and 3.
    const notify = events(r, "checkpoint-notify")[0];
    expect(notify?.data).toEqual({ id: 3 });
    exactlyTheInput(r, records);
  });

  test("a declined checkpoint is counted: beyond the tolerable number the job fails over, naming the checkpoint and the reason", () => {
    const { r, records } = run({
      configure: (env) => env.getCheckpointConfig().setTolerableCheckpointFailureNumber(0),
      faults: [{ at: { after: "checkpoint-triggered", nth: 1, delayMs: 2 }, fault: "diskFailures", node: "storage", writeFailureProbability: 1, durationMs: 20 }],
    });
    expect(data(r, "checkpoint-aborted")[0]).toEqual({ id: 1, attempt: 0, reason: "declined", counted: true });
    expect(data(r, "checkpoint-failures")[0]).toEqual({ count: 1, tolerable: 0 });
    expect(r.checkpoints[0]?.failureReason).toMatch(/^declined: declined by (in|work|out)#0: state write failed: /);
    expect((data(r, "failover")[0] as { reason: string }).reason).toBe("exceeded checkpoint tolerable failure threshold (0): checkpoint 1 declined");
    expect(r.restores).toEqual([{ timeMs: expect.any(Number), checkpointId: null, attempt: 1 }]);
    expect(r.status).toBe("FINISHED");
    exactlyTheInput(r, records);
  });

  test("a failed metadata write aborts the checkpoint as finalize-failed, counted", () => {
    const { r, records } = run({
      configure: (env) => env.getCheckpointConfig().setTolerableCheckpointFailureNumber(0),
      faults: [{ at: { after: "checkpoint-triggered", nth: 1, delayMs: 45 }, fault: "diskFailures", node: "storage", writeFailureProbability: 1, durationMs: 20 }],
    });
    expect(data(r, "checkpoint-aborted")[0]).toEqual({ id: 1, attempt: 0, reason: "finalize-failed", counted: true });
    expect(r.checkpoints[0]?.failureReason).toMatch(/^finalize-failed: metadata write failed: E[A-Z]+$/);
    expect((data(r, "failover")[0] as { reason: string }).reason).toBe("exceeded checkpoint tolerable failure threshold (0): checkpoint 1 finalize-failed");
    expect(r.status).toBe("FINISHED");
    exactlyTheInput(r, records);
  });

  test("the statistics of a completed checkpoint: every task acknowledged, the state bytes summed, the duration from trigger to completion", () => {
    const { r } = run({ parallelism: 2 });
    expect(r.status).toBe("FINISHED");
    const triggered = new Map(events(r, "checkpoint-triggered").map((e) => [e.data["id"], e.time]));
    const done = events(r, "checkpoint-completed");
    expect(done.length).toBeGreaterThan(2);
    for (const e of done) {
      const st = r.checkpoints.find((c) => c.id === e.data["id"]);
      expect(st?.status).toBe("COMPLETED");
      expect(st?.acknowledged).toBe(6);
      expect(st?.total).toBe(6);
      expect(st?.durationMs).toBeCloseTo(e.time - (triggered.get(e.data["id"]) ?? NaN), 9);
      expect(e.data["durationMs"]).toBe(st?.durationMs);
      expect(st?.stateBytes).toBe(e.data["stateBytes"]);
      expect(st?.stateBytes).toBeGreaterThan(100);
    }
    // The final checkpoint pending when the job finishes is aborted as job-finished, uncounted.
    const last = r.checkpoints[r.checkpoints.length - 1];
    expect(last?.failureReason).toBe("job-finished: the job finished");
    expect(data(r, "checkpoint-aborted").at(-1)).toEqual({ id: last?.id, attempt: 0, reason: "job-finished", counted: false });
    expect(events(r, "job-finished").map((e) => e.data)).toEqual([{ attempt: 0 }]);
  });

  test("a periodic trigger too early after a completion waits exactly for the rest of the min pause", () => {
    const { r } = run({ configure: (env) => env.getCheckpointConfig().setMinPauseBetweenCheckpoints(30) });
    expect(r.status).toBe("FINISHED");
    const completions = events(r, "checkpoint-completed").map((e) => e.time);
    const triggers = events(r, "checkpoint-triggered").map((e) => e.time);
    let exact = 0;
    for (const t of triggers) {
      const before = completions.filter((c) => c <= t);
      const last = before[before.length - 1];
      if (last === undefined) continue;
      expect(t - last).toBeGreaterThanOrEqual(30 - 1e-9);
      if (Math.abs(t - last - 30) < 1e-9) exact++;
    }
    expect(exact).toBeGreaterThan(1);
  });
});

describe("TaskManagers and slots", () => {
  test("a TaskManager silent for longer than the heartbeat timeout is lost and the job fails over", () => {
    const { r, records } = run({ parallelism: 2, cluster: { slotsPerTaskManager: 1 }, faults: [{ at: { after: "checkpoint-completed", nth: 2 }, fault: "crash", node: "tm-1", restartAfterMs: 200 }] });
    expect(r.status).toBe("FINISHED");
    const lost = events(r, "tm-lost")[0];
    const crash = events(r, "crash")[0];
    expect(lost?.data).toEqual({ tm: "tm-1" });
    expect((lost?.time ?? 0) - (crash?.time ?? 0)).toBeGreaterThan(60);
    expect((data(r, "failover")[0] as { reason: string }).reason).toBe("TaskManager tm-1 lost (no heartbeat for 60 ms)");
    expect(r.restores.map((x) => x.checkpointId)).toEqual([2]);
    exactlyTheInput(r, records);
  });

  test("a TaskManager that restarts within the heartbeat timeout is recognised by its new instance and the job fails over", () => {
    const { r, records } = run({ parallelism: 2, cluster: { slotsPerTaskManager: 1 }, faults: [{ at: { after: "checkpoint-completed", nth: 2 }, fault: "crash", node: "tm-1", restartAfterMs: 5 }] });
    expect(r.status).toBe("FINISHED");
    expect(data(r, "tm-lost")[0]).toEqual({ tm: "tm-1", reason: "restarted" });
    expect((data(r, "failover")[0] as { reason: string }).reason).toBe("TaskManager tm-1 restarted");
    expect(r.restores.map((x) => x.checkpointId)).toEqual([2]);
    exactlyTheInput(r, records);
  });

  test("a task failure fails over once, and the restart waits until every TaskManager confirmed the cancellation: a cut-off one holds it until the partition heals", () => {
    const failTask: Fault = { at: { after: "checkpoint-completed", nth: 2 }, fault: "failTask", vertex: "work", subtask: 0 };
    const plain = run({ parallelism: 2, cluster: { slotsPerTaskManager: 1 }, faults: [failTask] }).r;
    expect(data(plain, "failover")).toEqual([{ attempt: 1, reason: "work#0 failed: injected failure", restartDelayMs: 10 }]);
    const quick = (events(plain, "restore")[0]?.time ?? 0) - (events(plain, "failover")[0]?.time ?? 0);
    expect(quick).toBeLessThan(20);
    for (const [a, b] of [
      ["tm-1", "jm"],
      ["jm", "tm-1"],
    ] as const) {
      const { r, records } = run({ parallelism: 2, cluster: { slotsPerTaskManager: 1 }, faults: [failTask, { ...failTask, fault: "partition", a: [a], b: [b], oneWay: true, durationMs: 40 }] });
      expect(events(r, "failover").length).toBe(1);
      expect(events(r, "tm-lost")).toEqual([]);
      const healed = events(r, "fault-end")[0]?.time ?? Infinity;
      expect(events(r, "restore")[0]?.time).toBeGreaterThan(healed);
      expect(r.restores.map((x) => x.checkpointId)).toEqual([2]);
      expect(r.status).toBe("FINISHED");
      exactlyTheInput(r, records);
    }
  });

  test("a \"start\" lost in a partition is repeated when a heartbeat reply says the attempt is not started: no checkpoint expires for good, no failover", () => {
    // Without the repeat, tm-1's tasks stayed deployed but idle and every checkpoint expired
    // (scenarios/regressions/liveness-jm-tm-partition-at-start.json).
    const cut: Fault = { at: { after: "job-running" }, fault: "partition", a: ["jm"], b: ["tm-1"], oneWay: true, durationMs: 40 };
    const { r, records } = run({
      parallelism: 2,
      cluster: { slotsPerTaskManager: 1 },
      faults: [cut],
      // The checkpoint triggered during the partition expires (its trigger to tm-1 was lost too).
      configure: (env) => env.getCheckpointConfig().setCheckpointTimeout(100).setTolerableCheckpointFailureNumber(10),
    });
    const running = events(r, "job-status").find((e) => e.data["status"] === "RUNNING")?.time ?? 0;
    const resent = events(r, "start-resent");
    expect(resent.map((e) => e.data)).toEqual([{ tm: "tm-1", attempt: 0 }]);
    expect(resent[0]?.time).toBeGreaterThan(running + 40);
    expect(events(r, "failover")).toEqual([]);
    expect(r.checkpoints.some((c) => c.status === "COMPLETED")).toBe(true);
    expect(r.status).toBe("FINISHED");
    exactlyTheInput(r, records);
  });

  test("a TaskManager whose registration was answered only after a heartbeat timeout takes neither the answer nor the deployment queued behind it", () => {
    // A clog holds tm-1's messages from the start: the JobManager deploys attempt 0 on it, gives
    // it up as lost, and runs attempt 1 on tm-0. On release, taking the stale answer let tm-1
    // deploy attempt 0, whose sinks fenced attempt 1's transactions
    // (scenarios/regressions/stale-registration-deploys-dead-attempt.json).
    const clog: Fault = { at: 0, fault: "clog", from: "tm-1", to: "jm", bidirectional: true, durationMs: 150 };
    const { r, records } = run({
      parallelism: 2,
      perPartition: 400,
      cluster: { slotsPerTaskManager: 2, networkLatencyMsMin: 0, networkLatencyMsMax: 0 },
      faults: [clog],
    });
    expect(data(r, "failover")).toEqual([{ attempt: 1, reason: "TaskManager tm-1 lost (no heartbeat for 60 ms)", restartDelayMs: 10 }]);
    expect(events(r, "fenced")).toEqual([]);
    expect(r.status).toBe("FINISHED");
    exactlyTheInput(r, records);
  });

  test("without enough slots for 10 heartbeat timeouts the job fails with NoResourceAvailable once the restarts are used up", () => {
    const { r } = run({
      parallelism: 2,
      cluster: { slotsPerTaskManager: 1 },
      configure: (env) => env.setRestartStrategy(RestartStrategies.fixedDelayRestart(1, 10)),
      faults: [{ at: { after: "checkpoint-completed", nth: 1 }, fault: "crash", node: "tm-1" }],
    });
    expect(r.status).toBe("FAILED");
    expect(r.failureReason).toBe("not enough task slots (NoResourceAvailable); fixed-delay restart attempts exhausted (1)");
    expect(data(r, "job-status").at(-1)).toEqual({ status: "FAILED", attempt: 1, reason: "not enough task slots (NoResourceAvailable); fixed-delay restart attempts exhausted (1)" });
    expect(data(r, "failover")).toEqual([{ attempt: 1, reason: "TaskManager tm-1 lost (no heartbeat for 60 ms)", restartDelayMs: 10 }]);
    const noRes = events(r, "no-resources");
    expect(noRes.map((e) => e.data)).toEqual([{ need: 2 }]);
    const failover = events(r, "failover")[0];
    expect((noRes[0]?.time ?? 0) - (failover?.time ?? 0)).toBeGreaterThan(600);
  });
});
