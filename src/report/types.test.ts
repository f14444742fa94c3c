import { describe, expect, test } from "vitest";
import type { TraceData, TraceEvent } from "../sim/trace.ts";
import type { CheckpointStats, RunRecord } from "./types.ts";
import { summarizeCheckpoints } from "./view.ts";
import {
  checkpointOutcome,
  checkpointStatusLabel,
  computeTotals,
  formatAt,
  formatBytes,
  formatMs,
  maxAlignment,
  naturalCompare,
  runAnchor,
  sortLanes,
  timelineFromTrace,
} from "./types.ts";

function traceOf(events: Array<[number, string, string, TraceData?]>): TraceEvent[] {
  return events.map(([time, node, kind, data], seq) => ({ seq, time, node, kind, level: "summary", data: data ?? {} }));
}

const cp = (over: Partial<CheckpointStats>): CheckpointStats => ({
  id: 1,
  status: "COMPLETED",
  triggerTimeMs: 1000,
  durationMs: 100,
  stateBytes: 2048,
  alignmentMs: {},
  acknowledged: 4,
  total: 4,
  failureReason: null,
  attempt: 0,
  ...over,
});

describe("timelineFromTrace", () => {
  test("a checkpoint becomes a span from trigger to completion, coloured completed", () => {
    const t = timelineFromTrace(
      traceOf([
        [1000, "jm", "checkpoint-triggered", { id: 1, attempt: 0 }],
        [1180, "jm", "checkpoint-completed", { id: 1, attempt: 0, durationMs: 180, stateBytes: 12 * 1024 }],
      ]),
    );
    expect(t).toEqual([{ timeMs: 1000, endMs: 1180, lane: "jm", kind: "checkpoint", id: 1, outcome: "completed", label: "checkpoint 1 completed in 180 ms, 12 KiB" }]);
  });

  test("aborted checkpoints take their outcome from the reason", () => {
    const t = timelineFromTrace(
      traceOf([
        [0, "jm", "checkpoint-triggered", { id: 1 }],
        [10, "jm", "checkpoint-triggered", { id: 2 }],
        [20, "jm", "checkpoint-triggered", { id: 3 }],
        [30, "jm", "checkpoint-triggered", { id: 4 }],
        [60_000, "jm", "checkpoint-aborted", { id: 1, reason: "expired", counted: true }],
        [60_001, "jm", "checkpoint-aborted", { id: 2, reason: "declined: task window#2 failed", counted: true }],
        [60_002, "jm", "checkpoint-aborted", { id: 3, reason: "job failover", counted: false }],
      ]),
    );
    const outcomes = Object.fromEntries(t.map((e) => [e.id, e.outcome]));
    expect(outcomes).toEqual({ 1: "expired", 2: "declined", 3: "job-failover", 4: "in-progress" });
    expect(t.find((e) => e.id === 4)?.endMs).toBe(60_002);
    expect(t.find((e) => e.id === 2)?.label).toBe("checkpoint 2 aborted after 60 s: declined: task window#2 failed");
  });

  test("alignments are spans on the subtask's lane, abandoned on failover", () => {
    const t = timelineFromTrace(
      traceOf([
        [100, "tm-0", "alignment-started", { task: "window#0", id: 1 }],
        [140, "tm-0", "alignment-completed", { task: "window#0", id: 1, durationMs: 40 }],
        [200, "tm-1", "alignment-started", { task: "window#1", id: 2 }],
        [300, "jm", "failover", { attempt: 1, reason: "tm-1 lost", restartDelayMs: 100 }],
      ]),
    );
    expect(t.filter((e) => e.kind === "alignment")).toEqual([
      { timeMs: 100, endMs: 140, lane: "window#0", kind: "alignment", id: 1, outcome: "aligned", label: "window#0 aligned checkpoint 1 in 40 ms" },
      { timeMs: 200, endMs: 300, lane: "window#1", kind: "alignment", id: 2, outcome: "abandoned", label: "window#1 aligning checkpoint 2, abandoned (failover)" },
    ]);
    expect(t.find((e) => e.kind === "failover")).toMatchObject({ lane: "jm", timeMs: 300, label: "failover to attempt 1: tm-1 lost (restart in 100 ms)" });
  });

  test("faults are spans from fault to fault-end on their node; instantaneous ones are markers", () => {
    const t = timelineFromTrace(
      traceOf([
        [1200, "tm-1", "fault", { fault: "crash", node: "tm-1", restartAfterMs: 300 }],
        [1200, "tm-1", "crash"],
        [1300, "cluster", "fault", { fault: "failTask", vertex: "map", subtask: 1 }],
        [1400, "cluster", "fault", { fault: "partition", a: ["jm"], b: ["tm-0", "tm-1"], durationMs: 5000 }],
        [1500, "tm-1", "restart"],
        [1500, "tm-1", "fault-end", { fault: "crash" }],
        [2000, "jm", "job-status", { status: "FINISHED", attempt: 0 }],
      ]),
    );
    expect(t.filter((e) => e.kind === "fault")).toEqual([
      { timeMs: 1200, endMs: 1500, lane: "tm-1", kind: "fault", outcome: "crash", label: "crash tm-1, restart after 300 ms (300 ms)" },
      { timeMs: 1300, lane: "cluster", kind: "fault", outcome: "failTask", label: "failTask map#1" },
      { timeMs: 1400, endMs: 2000, lane: "cluster", kind: "fault", outcome: "open", label: "partition jm | tm-0,tm-1 (never ended)" },
    ]);
    expect(t.filter((e) => e.kind === "crash" || e.kind === "restart").map((e) => [e.kind, e.lane, e.timeMs])).toEqual([
      ["crash", "tm-1", 1200],
      ["restart", "tm-1", 1500],
    ]);
  });

  test("job status becomes consecutive spans on the job lane; restores and commits are markers", () => {
    const t = timelineFromTrace(
      traceOf([
        [0, "jm", "job-status", { status: "RUNNING", attempt: 0 }],
        [500, "jm", "job-status", { status: "RESTARTING", attempt: 0, reason: "tm-1 lost" }],
        [600, "jm", "restore", { checkpointId: 3, attempt: 1 }],
        [600, "jm", "job-status", { status: "RUNNING", attempt: 1 }],
        [700, "broker", "txn-committed", { tid: "out-0", epoch: 1, records: 4, digest: "d", checkpointId: 4 }],
        [800, "jm", "restore", { checkpointId: null, attempt: 2 }],
        [900, "tm-0", "task-failed", { task: "map#0", attempt: 2, reason: "EIO" }],
      ]),
    );
    expect(t.filter((e) => e.kind === "job-status").map((e) => [e.timeMs, e.endMs, e.outcome, e.label])).toEqual([
      [0, 500, "running", "RUNNING"],
      [500, 600, "restarting", "RESTARTING: tm-1 lost"],
      [600, 900, "running", "RUNNING (attempt 1)"],
    ]);
    expect(t.filter((e) => e.kind === "restore").map((e) => e.label)).toEqual([
      "attempt 1 restores checkpoint 3",
      "attempt 2 starts from scratch (no checkpoint to restore)",
    ]);
    expect(t.find((e) => e.kind === "txn-committed")).toMatchObject({ lane: "broker", id: 4, label: "commit out-0 epoch 1: 4 records (checkpoint 4)" });
    expect(t.find((e) => e.kind === "task-failed")).toMatchObject({ lane: "map#0", label: "map#0 failed: EIO" });
  });

  test("events come out in time order and detail-level events are ignored", () => {
    const trace = traceOf([
      [0, "jm", "checkpoint-triggered", { id: 1 }],
      [5, "tm-0", "crash"],
      [9, "jm", "checkpoint-completed", { id: 1 }],
    ]);
    trace.push({ seq: 99, time: 50, node: "tm-0", kind: "crash", level: "full", data: {} });
    const t = timelineFromTrace(trace);
    expect(t.map((e) => e.timeMs)).toEqual([0, 5]);
  });
});

describe("helpers", () => {
  test("natural order puts run-2 before run-10", () => {
    expect(["run-10", "run-2", "run-1", "b", "a-3", "a-20"].sort(naturalCompare)).toEqual(["a-3", "a-20", "b", "run-1", "run-2", "run-10"]);
  });

  test("a run's anchor is URL-safe and starts with run-", () => {
    expect(runAnchor("run-37")).toBe("run-37");
    expect(runAnchor("seed-config-backpressure")).toBe("run-seed-config-backpressure");
    expect(runAnchor('<script>"x"</script>')).toBe("run-_script__x___script_");
  });

  test("checkpoint outcomes and status labels follow the failure reason", () => {
    expect(checkpointOutcome(cp({}))).toBe("completed");
    expect(checkpointOutcome(cp({ status: "IN_PROGRESS", durationMs: null }))).toBe("in-progress");
    expect(checkpointStatusLabel(cp({ status: "FAILED", failureReason: "expired" }))).toBe("EXPIRED");
    expect(checkpointStatusLabel(cp({ status: "FAILED", failureReason: "declined: x" }))).toBe("DECLINED");
    expect(checkpointOutcome(cp({ status: "FAILED", failureReason: "io: EIO on write" }))).toBe("io");
    expect(checkpointStatusLabel(cp({ status: "FAILED", failureReason: "io: EIO on write" }))).toBe("FAILED");
    expect(maxAlignment(cp({ alignmentMs: { "w#0": 3, "w#1": 40, "w#2": 40 } }))).toEqual({ ms: 40, subtask: "w#1" });
    expect(maxAlignment(cp({}))).toBeNull();
  });

  test("durations, moments and sizes read well", () => {
    expect([formatMs(0.5), formatMs(180), formatMs(1680), formatMs(59_200), formatMs(null)]).toEqual(["0.5 ms", "180 ms", "1680 ms", "59.2 s", "-"]);
    expect(formatAt(61_680)).toBe("61680 ms");
    expect([formatBytes(812), formatBytes(12 * 1024), formatBytes(3.4 * 1024 * 1024), formatBytes(null)]).toEqual(["812 B", "12 KiB", "3.4 MiB", "-"]);
  });

  test("lanes are ordered job, jm, TaskManagers, subtasks, broker, storage, cluster", () => {
    expect(sortLanes(["cluster", "window#10", "broker", "tm-10", "window#2", "jm", "tm-2", "storage", "job", "jm"])).toEqual([
      "job",
      "jm",
      "tm-2",
      "tm-10",
      "window#2",
      "window#10",
      "broker",
      "storage",
      "cluster",
    ]);
  });

  test("totals count unexpected results separately from failures", () => {
    const run = (verdict: "pass" | "fail", asExpected: boolean) => ({ verdict, asExpected }) as RunRecord;
    expect(computeTotals([run("pass", true), run("fail", true), run("fail", false), run("pass", false)])).toEqual({ runs: 4, passed: 2, failed: 2, unexpected: 2 });
  });

  test("checkpoint statistics summarise durations over completed checkpoints and count the rest by outcome", () => {
    const runs = [
      { checkpoints: [cp({ durationMs: 100 }), cp({ durationMs: 300, alignmentMs: { a: 7 } }), cp({ status: "FAILED", failureReason: "expired", durationMs: 60_000 })] },
      { checkpoints: [cp({ durationMs: 200, stateBytes: 9000 }), cp({ status: "FAILED", failureReason: "declined: x" }), cp({ status: "FAILED", failureReason: "expired" })] },
    ] as unknown as RunRecord[];
    expect(summarizeCheckpoints(runs)).toEqual({
      total: 6,
      completed: 3,
      failedByOutcome: [
        ["declined", 1],
        ["expired", 2],
      ],
      durationMsMedian: 200,
      durationMsP95: 300,
      durationMsMax: 300,
      alignmentMsMax: 7,
      stateBytesMax: 9000,
    });
  });
});
