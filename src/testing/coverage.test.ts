import { describe, expect, test } from "vitest";
import type { CheckpointStats } from "../engine/result.ts";
import type { TraceData, TraceEvent } from "../sim/trace.ts";
import { addPaths, assertAllPathsHit, emptyPathCounts, formatPathCounts, missingPaths, PATH_NAMES, pathsHit } from "./coverage.ts";
import type { CoverageInput } from "./coverage.ts";

let seq = 0;
const ev = (time: number, node: string, kind: string, data: TraceData = {}): TraceEvent => ({ seq: seq++, time, node, kind, level: "summary", data });

function run(trace: TraceEvent[], more: Partial<CoverageInput> = {}): CoverageInput {
  return { trace, checkpoints: [], restores: [], ...more };
}

const stats = (id: number, status: CheckpointStats["status"], failureReason: string | null): CheckpointStats => ({
  id,
  status,
  triggerTimeMs: 0,
  durationMs: 1,
  stateBytes: null,
  alignmentMs: {},
  acknowledged: 0,
  total: 1,
  failureReason,
  attempt: 0,
});

describe("pathsHit", () => {
  test("a quiet run hits no path", () => {
    expect([...pathsHit(run([ev(0, "jm", "jm-recovered", { session: 0 }), ev(5, "jm", "checkpoint-completed", { id: 1 })]))]).toEqual([]);
  });

  test("expired and storage-declined checkpoints are read from the statistics and the trace", () => {
    expect([...pathsHit(run([ev(1, "jm", "checkpoint-aborted", { id: 1, reason: "expired" })]))]).toEqual(["checkpoint-expired"]);
    const declined = run([], { checkpoints: [stats(1, "FAILED", "declined: declined by map#0: state write failed: EIO"), stats(2, "COMPLETED", null)] });
    expect([...pathsHit(declined)]).toEqual(["checkpoint-declined-storage"]);
    const finalize = run([], { checkpoints: [stats(1, "FAILED", "finalize-failed: metadata write failed: ENOSPC")] });
    expect([...pathsHit(finalize)]).toEqual(["checkpoint-declined-storage"]);
    // Declined for another reason (an abandoned alignment) is not a storage fault.
    expect([...pathsHit(run([], { checkpoints: [stats(1, "FAILED", "declined: declined by map#0: alignment abandoned")] }))]).toEqual([]);
  });

  test("restores from a checkpoint and from none are told apart", () => {
    const r = run([], { restores: [{ timeMs: 1, checkpointId: null, attempt: 1 }, { timeMs: 2, checkpointId: 3, attempt: 2 }] });
    expect([...pathsHit(r)].sort()).toEqual(["restore-from-checkpoint", "restore-with-none"]);
  });

  test("fencing and a recovering JobManager of a later session count, the first session does not", () => {
    expect([...pathsHit(run([ev(1, "broker", "fenced", { tid: "t", epoch: 0, currentEpoch: 1, op: "write" })]))]).toEqual(["zombie-fenced"]);
    expect([...pathsHit(run([ev(1, "jm", "jm-recovered", { session: 0 })]))]).toEqual([]);
    expect([...pathsHit(run([ev(1, "jm", "jm-recovered", { session: 1 })]))]).toEqual(["jobmanager-failover"]);
  });

  test("a notification is lost only when a checkpoint completes while notifyCheckpointComplete RPCs are dropped", () => {
    const drop = (index: number, rpc: string) => ev(10, "cluster", "fault", { fault: "dropRpc", rpc, durationMs: 50, index });
    const end = (index: number) => ev(60, "cluster", "fault-end", { fault: "dropRpc", index });
    expect([...pathsHit(run([drop(0, "notifyCheckpointComplete"), ev(20, "jm", "checkpoint-completed", { id: 1 }), end(0)]))]).toEqual(["notification-lost"]);
    expect([...pathsHit(run([drop(0, "acknowledgeCheckpoint"), ev(20, "jm", "checkpoint-completed", { id: 1 }), end(0)]))]).toEqual([]);
    expect([...pathsHit(run([drop(0, "notifyCheckpointComplete"), end(0), ev(70, "jm", "checkpoint-completed", { id: 1 })]))]).toEqual([]);
  });

  test("a backpressured alignment takes time while an operator is slowed down", () => {
    const slow = ev(0, "cluster", "fault", { fault: "slowOperator", vertex: "map", factor: 10, durationMs: 100, index: 0 });
    const aligned = (durationMs: number) => ev(50, "tm-0", "alignment-completed", { task: "sink#0", id: 1, durationMs });
    expect([...pathsHit(run([slow, aligned(12)]))]).toEqual(["backpressured-alignment"]);
    expect([...pathsHit(run([slow, aligned(0)]))]).toEqual([]);
    expect([...pathsHit(run([aligned(12)]))]).toEqual([]);
    // A skipped fault was never active.
    const skipped = ev(0, "cluster", "fault", { fault: "slowOperator", vertex: "map", factor: 10, durationMs: 100, index: 0, skipped: true });
    expect([...pathsHit(run([skipped, aligned(12)]))]).toEqual([]);
  });
});

describe("counting paths over runs", () => {
  test("counts start at zero for every path, add up per run, and name what is missing", () => {
    const counts = emptyPathCounts();
    expect([...counts.keys()]).toEqual([...PATH_NAMES]);
    addPaths(counts, run([ev(1, "broker", "fenced")]));
    addPaths(counts, run([ev(1, "broker", "fenced"), ev(2, "broker", "fenced")]));
    expect(counts.get("zombie-fenced")).toBe(2);
    expect(missingPaths(counts)).toEqual(PATH_NAMES.filter((p) => p !== "zombie-fenced"));
    expect(formatPathCounts(counts)).toContain("zombie-fenced 2");
    expect(() => assertAllPathsHit(counts, 2)).toThrow(/^fault paths never reached over 2 runs: checkpoint-expired \(a checkpoint expired/);
  });

  test("all paths reached passes", () => {
    const counts = new Map(PATH_NAMES.map((p) => [p, 1] as const));
    expect(() => assertAllPathsHit(counts, 8)).not.toThrow();
  });
});
