/**
 * Engine scenarios, built with the Flink-style API and aimed with trace triggers. Each test states
 * what Flink guarantees in one sentence and asserts the exact committed output, computed by hand
 * from the input (not by the oracle).
 *
 * Two pipelines:
 * - "sums": keys k0..k2 with value 1, `keyBy("key").sum("value")`: key k's committed records are
 *   exactly { key: k, value: 1 }, { key: k, value: 2 } ... { key: k, value: n_k } (n_k the number of
 *   input records with key k), whatever the interleaving, so a lost or replayed record shows;
 * - "copies": every input record is distinct (`id`), and a map passes it through with a marker.
 */
import { describe, expect, test } from "vitest";
import type { JsonValue, TraceEvent } from "../sim/trace.ts";
import { canonicalJson } from "../sim/trace.ts";
import type { Fault } from "../faults/plan.ts";
import type { InputRecord } from "./plan/plan.ts";
import {
  ApiError,
  CheckpointingMode,
  KafkaSource,
  PlainSink,
  RestartStrategies,
  StreamExecutionEnvironment,
  TwoPhaseCommitSink,
  WatermarkStrategy,
  type JobExecutionResult,
} from "./api/index.ts";

const KEYS = 3;

/** Partition p, record i: key k((i + p) % 3), value 1, timestamp 10 i. */
function sumsInput(partitions: number, perPartition: number): InputRecord[][] {
  return Array.from({ length: partitions }, (_, p) =>
    Array.from({ length: perPartition }, (_, i) => ({ value: { key: `k${(i + p) % KEYS}`, value: 1 }, ts: 10 * i })),
  );
}

/** By hand: key k's running sums 1..n_k. */
function expectedSums(input: InputRecord[][]): JsonValue[] {
  const counts = new Map<string, number>();
  for (const part of input) for (const r of part) {
    const k = (r.value as { key: string }).key;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  const out: JsonValue[] = [];
  for (const [key, n] of counts) for (let v = 1; v <= n; v++) out.push({ key, value: v });
  return sorted(out);
}

/** Partition p, record i: { id: "p<p>-<i>", value: i }. */
function copiesInput(partitions: number, perPartition: number): InputRecord[][] {
  return Array.from({ length: partitions }, (_, p) => Array.from({ length: perPartition }, (_, i) => ({ value: { id: `p${p}-${i}`, value: i }, ts: i })));
}

function expectedCopies(input: InputRecord[][]): JsonValue[] {
  return sorted(input.flat().map((r) => ({ ...(r.value as { id: string; value: number }), seen: true })));
}

function sorted(values: readonly JsonValue[]): JsonValue[] {
  return [...values].sort((a, b) => {
    const x = canonicalJson(a);
    const y = canonicalJson(b);
    return x < y ? -1 : x > y ? 1 : 0;
  });
}

type JobOptions = {
  readonly pipeline: "sums" | "copies";
  readonly input: InputRecord[][];
  readonly parallelism?: number;
  readonly sink?: "twoPhaseCommit" | "plain";
  readonly faults?: readonly Fault[];
  /** Checkpoint settings and the restart strategy (default: every 20 ms, EXACTLY_ONCE, restart after 10 ms). */
  readonly configure?: (env: StreamExecutionEnvironment) => void;
  /** Per-record cost of the "work" map, in ms (default 1). */
  readonly costMs?: number;
  /** The engine's default buffers and fetch size (64 records a fetch), so much data is in flight at any time. */
  readonly bigBuffers?: boolean;
  /** Cluster overrides. */
  readonly cluster?: { readonly maxTimeMs?: number };
};

/** Fast failure detection (heartbeat timeout 60 ms), a map named "work" (1 ms a record), checkpoints every 20 ms. */
function runJob(o: JobOptions): JobExecutionResult {
  const env = StreamExecutionEnvironment.create({
    seed: 1,
    parallelism: o.parallelism ?? 2,
    cluster: { heartbeatIntervalMs: 20, heartbeatTimeoutMs: 60, ...o.cluster },
    // Small buffers and fetches: little data queues ahead of a barrier, so checkpoints take a few
    // ms and the job's pace is set by the per-record cost of "work".
    runtime: o.bigBuffers === true ? {} : { bufferRecords: 4, channelCredits: 2, sourceFetchRecords: 8 },
    faults: { faults: o.faults ?? [] },
  });
  env.enableCheckpointing(20, CheckpointingMode.EXACTLY_ONCE);
  env.setRestartStrategy(RestartStrategies.fixedDelayRestart(100, 10));
  o.configure?.(env);
  const source = env.fromSource(KafkaSource.topic("in").partitions(o.input), WatermarkStrategy.noWatermarks(), "in");
  const sink = o.sink === "plain" ? PlainSink.topic("out") : TwoPhaseCommitSink.topic("out");
  if (o.pipeline === "sums") source.map((v) => v).uid("work").setCostMsPerRecord(o.costMs ?? 1).keyBy("key").sum("value").sinkTo(sink);
  else source.map((v) => ({ ...(v as { id: string; value: number }), seen: true })).uid("work").setCostMsPerRecord(o.costMs ?? 1).sinkTo(sink);
  return env.execute(`scenario-${o.pipeline}`);
}

const events = (r: JobExecutionResult, kind: string): TraceEvent[] => r.run.trace.filter((e) => e.kind === kind);
const num = (e: TraceEvent | undefined, field: string): number => {
  const v = e?.data[field];
  if (typeof v !== "number") throw new Error(`trace event ${e?.kind ?? "(none)"} has no number ${field}`);
  return v;
};

describe("recovery from checkpoints", () => {
  test("a TaskManager crash after checkpoint 3 restores from 3 and commits every record once", () => {
    const input = sumsInput(2, 200);
    const r = runJob({
      pipeline: "sums",
      input,
      faults: [{ at: { after: "checkpoint-completed", nth: 3, delayMs: 1 }, fault: "crash", node: "tm-0", restartAfterMs: 30 }],
    });
    expect(r.status).toBe("FINISHED");
    expect(r.restores.map((x) => x.checkpointId)).toEqual([3]);
    expect(events(r, "crash").map((e) => e.node)).toEqual(["tm-0"]);
    expect(sorted(r.committed("out"))).toEqual(expectedSums(input));
  });

  test("a JobManager crash recovers the completed checkpoints from the store and resumes from the latest", () => {
    const input = sumsInput(2, 200);
    const r = runJob({
      pipeline: "sums",
      input,
      faults: [{ at: { after: "checkpoint-completed", nth: 2, delayMs: 1 }, fault: "crash", node: "jm", restartAfterMs: 30 }],
    });
    expect(r.status).toBe("FINISHED");
    const recovered = events(r, "jm-recovered");
    expect(recovered.map((e) => e.data["session"])).toEqual([0, 1]);
    expect(recovered[1]?.data["checkpoints"]).toEqual([2]);
    expect(r.restores.map((x) => x.checkpointId)).toEqual([2]);
    // Checkpoint ids keep increasing across the JobManager failover.
    const ids = events(r, "checkpoint-triggered").map((e) => num(e, "id"));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(ids.length);
    expect(sorted(r.committed("out"))).toEqual(expectedSums(input));
  });

  test("a zombie TaskManager cut off from the JobManager is fenced and cannot commit after failover", () => {
    const input = copiesInput(2, 300);
    // tm-0 keeps hearing the JobManager but its answers are lost: the JobManager fails over while
    // tm-0's tasks run on, and the new attempt's sink fences their transactions.
    const r = runJob({
      pipeline: "copies",
      input,
      parallelism: 1,
      bigBuffers: true,
      faults: [{ at: { after: "checkpoint-completed", nth: 2, delayMs: 5 }, fault: "partition", a: ["tm-0"], b: ["jm"], oneWay: true, durationMs: 400 }],
    });
    expect(r.status).toBe("FINISHED");
    expect(events(r, "tm-lost").map((e) => e.data["tm"])).toEqual(["tm-0"]);
    const fenced = events(r, "fenced");
    expect(fenced.length).toBeGreaterThan(0);
    const failover = events(r, "failover")[0];
    for (const f of fenced) {
      expect(f.time).toBeGreaterThan(failover?.time ?? Infinity);
      expect(f.data["epoch"]).toBeLessThan(num(f, "currentEpoch"));
    }
    // Nothing the zombie wrote after the failover became visible.
    const fencedTids = new Set(fenced.map((f) => `${String(f.data["tid"])}@${String(f.data["epoch"])}`));
    for (const c of events(r, "txn-committed")) if (c.time > (failover?.time ?? Infinity)) expect(fencedTids.has(`${String(c.data["tid"])}@${String(c.data["epoch"])}`)).toBe(false);
    expect(sorted(r.committed("out"))).toEqual(expectedCopies(input));
  });
});

describe("a TaskManager that loses the JobManager", () => {
  test("a TaskManager that stops hearing the JobManager drops its tasks, and the JobManager fails over when it comes back", () => {
    const input = copiesInput(2, 200);
    // jm -> tm-0 is cut for 300 ms (tm-0 -> jm still works): tm-0 times the JobManager out and
    // releases its tasks, while the JobManager keeps hearing from tm-0. Checkpoints may expire
    // (100 are tolerated), so only the JobManager noticing the lost tasks can restart the job.
    const r = runJob({
      pipeline: "copies",
      input,
      parallelism: 1,
      cluster: { maxTimeMs: 30_000 },
      configure: (env) => env.getCheckpointConfig().setCheckpointTimeout(500).setTolerableCheckpointFailureNumber(100),
      faults: [{ at: { after: "checkpoint-completed", nth: 2, delayMs: 5 }, fault: "partition", a: ["jm"], b: ["tm-0"], oneWay: true, durationMs: 300 }],
    });
    expect(r.status).toBe("FINISHED");
    expect(r.restores.length).toBeGreaterThan(0);
    expect(sorted(r.committed("out"))).toEqual(expectedCopies(input));
  });
});

describe("checkpoint completion notifications", () => {
  test("a lost completion notification is covered by the next checkpoint's notification", () => {
    const input = copiesInput(2, 100);
    const r = runJob({
      pipeline: "copies",
      input,
      parallelism: 1,
      // Notifications are lost from the trigger of checkpoint 2 for 80 ms: checkpoint 2's (and maybe the next) are.
      faults: [{ at: { after: "checkpoint-triggered", nth: 2 }, fault: "dropRpc", rpc: "notifyCheckpointComplete", durationMs: 80 }],
    });
    expect(r.status).toBe("FINISHED");
    expect(r.restores).toEqual([]);
    const start = events(r, "fault")[0]?.seq ?? Infinity;
    const end = events(r, "fault-end")[0]?.time ?? -Infinity;
    const notified = events(r, "checkpoint-notify");
    const lost = notified.filter((e) => e.seq > start && e.time < end).map((e) => num(e, "id"));
    expect(lost[0]).toBe(2);
    const next = notified.find((e) => e.time >= end);
    expect(num(next, "id")).toBeGreaterThan(Math.max(...lost));
    // Each lost checkpoint's transaction was committed once, after the next notification (which covers it).
    for (const id of lost) {
      const commits = events(r, "txn-committed").filter((e) => e.data["checkpointId"] === id);
      expect(commits.length).toBe(1);
      expect(commits[0]?.time).toBeGreaterThan(next?.time ?? Infinity);
    }
    expect(sorted(r.committed("out"))).toEqual(expectedCopies(input));
  });

  test("a lost completion notification followed by a crash is covered by the restore, which commits the pending transaction", () => {
    const input = copiesInput(2, 100);
    const r = runJob({
      pipeline: "copies",
      input,
      parallelism: 1,
      faults: [
        { at: { after: "checkpoint-triggered", nth: 2 }, fault: "dropRpc", rpc: "notifyCheckpointComplete", durationMs: 500 },
        { at: { after: "checkpoint-completed", nth: 2, delayMs: 5 }, fault: "crash", node: "tm-0", restartAfterMs: 20 },
      ],
    });
    expect(r.status).toBe("FINISHED");
    expect(r.restores.map((x) => x.checkpointId)).toEqual([2]);
    const restore = events(r, "restore")[0];
    const commit2 = events(r, "txn-committed").filter((e) => e.data["checkpointId"] === 2);
    expect(commit2.length).toBe(1);
    expect(commit2[0]?.time).toBeGreaterThan(restore?.time ?? Infinity);
    expect(sorted(r.committed("out"))).toEqual(expectedCopies(input));
  });
});

describe("checkpoint timeouts and the tolerable failure number", () => {
  test("a checkpoint slower than its timeout is aborted as expired and the next one succeeds", () => {
    const input = sumsInput(2, 300);
    const r = runJob({
      pipeline: "sums",
      input,
      configure: (env) => env.getCheckpointConfig().setCheckpointTimeout(100).setTolerableCheckpointFailureNumber(3),
      // "work" takes 20 ms a record for 100 ms: the barrier of the checkpoint triggered then waits too long.
      faults: [{ at: 100, fault: "slowOperator", vertex: "work", factor: 20, durationMs: 100 }],
    });
    expect(r.status).toBe("FINISHED");
    expect(r.restores).toEqual([]);
    const expired = r.checkpoints.filter((c) => c.failureReason?.startsWith("expired") === true);
    expect(expired.length).toBeGreaterThan(0);
    for (const c of expired) expect(c.durationMs).toBeCloseTo(100, 6);
    const firstExpired = expired[0]?.id ?? Infinity;
    expect(r.checkpoints.some((c) => c.id > firstExpired && c.status === "COMPLETED")).toBe(true);
    expect(sorted(r.committed("out"))).toEqual(expectedSums(input));
  });

  test("more failed checkpoints than tolerated fail the job, and with no restart it ends FAILED with nothing committed", () => {
    const input = sumsInput(2, 100);
    const r = runJob({
      pipeline: "sums",
      input,
      configure: (env) => {
        env.getCheckpointConfig().setCheckpointTimeout(30).setTolerableCheckpointFailureNumber(1);
        env.setRestartStrategy(RestartStrategies.noRestart());
      },
      // Every record takes 50 ms from the start: no checkpoint can complete within 30 ms.
      faults: [{ at: 0, fault: "slowOperator", vertex: "work", factor: 50, durationMs: 1000 }],
    });
    expect(r.status).toBe("FAILED");
    expect(r.failureReason).toContain("exceeded checkpoint tolerable failure threshold (1)");
    expect(r.checkpoints.map((c) => [c.id, c.status, c.failureReason])).toEqual([
      [1, "FAILED", "expired: expired after 30 ms"],
      [2, "FAILED", "expired: expired after 30 ms"],
    ]);
    expect(events(r, "checkpoint-failures").map((e) => e.data["count"])).toEqual([1, 2]);
    expect(r.committed("out")).toEqual([]);
  });
});

describe("delivery guarantees", () => {
  const crashAfterCheckpoint2: Fault[] = [{ at: { after: "checkpoint-completed", nth: 2, delayMs: 15 }, fault: "crash", node: "tm-0", restartAfterMs: 20 }];

  test("AT_LEAST_ONCE with a plain sink duplicates the records written after checkpoint 2, and loses none", () => {
    const input = copiesInput(2, 100);
    const r = runJob({
      pipeline: "copies",
      input,
      parallelism: 1,
      sink: "plain",
      configure: (env) => env.getCheckpointConfig().setCheckpointingMode(CheckpointingMode.AT_LEAST_ONCE),
      faults: crashAfterCheckpoint2,
    });
    expect(r.status).toBe("FINISHED");
    expect(r.restores.map((x) => x.checkpointId)).toEqual([2]);
    const committed = r.committed("out");
    const distinct = sorted([...new Map(committed.map((v) => [canonicalJson(v), v])).values()]);
    expect(distinct).toEqual(expectedCopies(input));
    expect(committed.length).toBeGreaterThan(input.flat().length);
  });

  test("EXACTLY_ONCE with the two-phase-commit sink commits every record once under the same crash", () => {
    const input = copiesInput(2, 100);
    const r = runJob({ pipeline: "copies", input, parallelism: 1, faults: crashAfterCheckpoint2 });
    expect(r.status).toBe("FINISHED");
    expect(r.restores.map((x) => x.checkpointId)).toEqual([2]);
    expect(sorted(r.committed("out"))).toEqual(expectedCopies(input));
    expect(r.judgement.verdict).toBe("pass");
  });
});

describe("progress between checkpoints", () => {
  test("a job without checkpointing reads all of its input and finishes", () => {
    const input = copiesInput(2, 200);
    const r = runJob({ pipeline: "copies", input, costMs: 0.01, configure: (env) => env.getCheckpointConfig().disableCheckpointing() });
    expect(r.status).toBe("FINISHED");
    expect(r.checkpoints).toEqual([]);
    expect(sorted(r.committed("out"))).toEqual(expectedCopies(input));
  });

  test("sources keep reading between checkpoints: 400 records of 0.01 ms each finish within one 1000 ms checkpoint interval", () => {
    const input = copiesInput(2, 200);
    const r = runJob({ pipeline: "copies", input, costMs: 0.01, bigBuffers: true, configure: (env) => env.enableCheckpointing(1000) });
    expect(r.status).toBe("FINISHED");
    expect(r.getNetRuntime()).toBeLessThan(1000);
    expect(sorted(r.committed("out"))).toEqual(expectedCopies(input));
  });
});

describe("CheckpointConfig", () => {
  test("invalid options are rejected with a message naming the option, as Flink does", () => {
    const env = StreamExecutionEnvironment.create();
    const cfg = env.getCheckpointConfig();
    expect(() => env.enableCheckpointing(5)).toThrow(new ApiError("setCheckpointInterval: checkpoint interval must be at least 10 ms, got 5"));
    expect(() => cfg.setCheckpointTimeout(5)).toThrow(new ApiError("setCheckpointTimeout: checkpoint timeout must be at least 10 ms, got 5"));
    expect(() => cfg.setMinPauseBetweenCheckpoints(-1)).toThrow(
      new ApiError("setMinPauseBetweenCheckpoints: min pause between checkpoints must be zero or positive, got -1"),
    );
    expect(() => cfg.setMaxConcurrentCheckpoints(0)).toThrow(
      new ApiError("setMaxConcurrentCheckpoints: max concurrent checkpoints must be an integer of at least 1, got 0"),
    );
    expect(() => cfg.setTolerableCheckpointFailureNumber(-1)).toThrow(
      new ApiError("setTolerableCheckpointFailureNumber: tolerable checkpoint failure number must be an integer of at least 0, got -1"),
    );
    expect(() => cfg.setNumRetainedCheckpoints(0)).toThrow(
      new ApiError("setNumRetainedCheckpoints: number of retained checkpoints must be an integer of at least 1, got 0"),
    );
    expect(() => RestartStrategies.fixedDelayRestart(-1, 10)).toThrow(new ApiError("fixedDelayRestart.attempts must be an integer >= 0, got -1"));
    expect(() => RestartStrategies.failureRateRestart(0, 100, 10)).toThrow(
      new ApiError("failureRateRestart.maxFailuresPerInterval must be an integer >= 1, got 0"),
    );
    // Nothing changed: a rejected value is not kept.
    expect(cfg.getCheckpointTimeout()).toBe(600_000);
    expect(cfg.getMinPauseBetweenCheckpoints()).toBe(0);
    expect(cfg.getMaxConcurrentCheckpoints()).toBe(1);
    expect(cfg.isCheckpointingEnabled()).toBe(false);
  });

  test("the min pause counts from the last completion and max concurrent 1 keeps checkpoints apart, as the stats show", () => {
    const input = sumsInput(2, 600);
    const r = runJob({
      pipeline: "sums",
      input,
      configure: (env) => env.getCheckpointConfig().setMinPauseBetweenCheckpoints(40).setMaxConcurrentCheckpoints(1),
    });
    expect(r.status).toBe("FINISHED");
    const cps = r.checkpoints;
    expect(cps.filter((c) => c.status === "COMPLETED").length).toBeGreaterThan(3);
    for (let i = 1; i < cps.length; i++) {
      const prev = cps[i - 1];
      const cur = cps[i];
      if (prev === undefined || cur === undefined || prev.durationMs === null) continue;
      const prevEnd = prev.triggerTimeMs + prev.durationMs;
      expect(cur.triggerTimeMs).toBeGreaterThanOrEqual(prevEnd - 1e-6);
      if (prev.status === "COMPLETED") expect(cur.triggerTimeMs - prevEnd).toBeGreaterThanOrEqual(40 - 1e-6);
    }
    expect(sorted(r.committed("out"))).toEqual(expectedSums(input));
  });

  test("max concurrent 3 lets checkpoints overlap, never more than 3 at once", () => {
    const input = sumsInput(2, 150);
    const r = runJob({
      pipeline: "sums",
      input,
      configure: (env) => {
        env.enableCheckpointing(10);
        env.getCheckpointConfig().setMaxConcurrentCheckpoints(3);
      },
    });
    expect(r.status).toBe("FINISHED");
    let most = 0;
    for (const c of r.checkpoints) {
      const pending = r.checkpoints.filter(
        (o) => o.triggerTimeMs <= c.triggerTimeMs && (o.durationMs === null || o.triggerTimeMs + o.durationMs > c.triggerTimeMs),
      ).length;
      most = Math.max(most, pending);
    }
    expect(most).toBeGreaterThan(1);
    expect(most).toBeLessThanOrEqual(3);
    expect(sorted(r.committed("out"))).toEqual(expectedSums(input));
  });
});
