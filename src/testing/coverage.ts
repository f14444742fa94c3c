/**
 * Fault-path coverage: which of the paths that break checkpointing a run really went down, read
 * from its trace and checkpoint statistics (FoundationDB's code probes, after the fact). The
 * property suites assert that every path is reached at least once, so a generator that silently
 * stops producing, say, lost notifications fails the suite instead of weakening it.
 *
 * Paths:
 * - checkpoint-expired            a checkpoint was aborted because it outlived its timeout;
 * - checkpoint-declined-storage   a checkpoint was declined (or could not be finalized) because a
 *                                 write to checkpoint storage failed;
 * - restore-from-checkpoint       a failover restored a completed checkpoint;
 * - restore-with-none             a failover restarted from scratch (no checkpoint completed yet);
 * - zombie-fenced                 the broker refused a zombie producer's write or commit;
 * - notification-lost             a checkpoint completed (its notifications sent) while
 *                                 notifyCheckpointComplete RPCs were being dropped;
 * - jobmanager-failover           a new JobManager recovered the job (jm-recovered, session > 0);
 * - backpressured-alignment       an alignment took time (durationMs > 0) while an operator was
 *                                 slowed down (slowOperator active).
 */
import type { RunResult } from "../engine/result.ts";
import type { CheckedRun } from "../runner/check.ts";
import { assert } from "../sim/assert.ts";
import type { TraceEvent } from "../sim/trace.ts";

export const PATH_NAMES = [
  "checkpoint-expired",
  "checkpoint-declined-storage",
  "restore-from-checkpoint",
  "restore-with-none",
  "zombie-fenced",
  "notification-lost",
  "jobmanager-failover",
  "backpressured-alignment",
] as const;

export type PathName = (typeof PATH_NAMES)[number];

/** What each path means, for messages. */
export const PATH_DESCRIPTIONS: Readonly<Record<PathName, string>> = {
  "checkpoint-expired": "a checkpoint expired (aborted after its timeout)",
  "checkpoint-declined-storage": "a checkpoint was declined because a checkpoint-storage write failed",
  "restore-from-checkpoint": "a failover restored a completed checkpoint",
  "restore-with-none": "a failover restarted from scratch because no checkpoint had completed",
  "zombie-fenced": "the broker fenced a zombie producer (PRODUCER_FENCED)",
  "notification-lost": "a checkpoint completed while notifyCheckpointComplete RPCs were being dropped",
  "jobmanager-failover": "a new JobManager recovered the job from the checkpoint store",
  "backpressured-alignment": "a barrier alignment took time while an operator was slowed down (backpressure)",
};

/** Storage write failures as the engine words them in a checkpoint's failure reason. */
const STORAGE_FAILURE = /(state write failed|metadata write failed)/;

const num = (e: TraceEvent, field: string): number | undefined => {
  const v = e.data[field];
  return typeof v === "number" ? v : undefined;
};

/** The fault-path-relevant part of a run. */
export type CoverageInput = Pick<RunResult, "trace" | "checkpoints" | "restores">;

function resultOf(run: CheckedRun | CoverageInput): CoverageInput {
  return "result" in run ? run.result : run;
}

/** The fault paths a run went down. */
export function pathsHit(run: CheckedRun | CoverageInput): Set<PathName> {
  const r = resultOf(run);
  const hit = new Set<PathName>();

  for (const c of r.checkpoints) {
    const reason = c.failureReason ?? "";
    if (c.status === "FAILED" && reason.startsWith("expired")) hit.add("checkpoint-expired");
    if (c.status === "FAILED" && STORAGE_FAILURE.test(reason)) hit.add("checkpoint-declined-storage");
  }
  for (const rs of r.restores) hit.add(rs.checkpointId === null ? "restore-with-none" : "restore-from-checkpoint");

  // Faults active at each point of the trace, by their index in the plan.
  const active = new Map<number, TraceEvent>();
  const activeWhere = (pred: (f: TraceEvent) => boolean): boolean => {
    for (const f of active.values()) if (pred(f)) return true;
    return false;
  };
  for (const e of r.trace) {
    if (e.level !== "summary") continue;
    switch (e.kind) {
      case "fault": {
        const index = num(e, "index");
        if (index !== undefined && e.data.skipped !== true) active.set(index, e);
        break;
      }
      case "fault-end": {
        const index = num(e, "index");
        if (index !== undefined) active.delete(index);
        break;
      }
      case "checkpoint-aborted":
        if (e.data.reason === "expired") hit.add("checkpoint-expired");
        break;
      case "restore":
        hit.add(e.data.checkpointId === null ? "restore-with-none" : "restore-from-checkpoint");
        break;
      case "fenced":
        hit.add("zombie-fenced");
        break;
      case "jm-recovered":
        if ((num(e, "session") ?? 0) > 0) hit.add("jobmanager-failover");
        break;
      case "checkpoint-notify":
      case "checkpoint-completed":
        if (activeWhere((f) => f.data.fault === "dropRpc" && f.data.rpc === "notifyCheckpointComplete")) hit.add("notification-lost");
        break;
      case "alignment-completed":
        if ((num(e, "durationMs") ?? 0) > 0 && activeWhere((f) => f.data.fault === "slowOperator")) hit.add("backpressured-alignment");
        break;
      default:
        break;
    }
  }
  return hit;
}

/** How many runs went down each path (every path present, 0 when never reached). */
export type PathCounts = Map<PathName, number>;

export function emptyPathCounts(): PathCounts {
  return new Map(PATH_NAMES.map((p) => [p, 0]));
}

/** Adds one run's paths to `counts` (in place) and returns them. */
export function addPaths(counts: PathCounts, run: CheckedRun | CoverageInput): PathCounts {
  for (const p of pathsHit(run)) counts.set(p, (counts.get(p) ?? 0) + 1);
  return counts;
}

/** Paths no run reached, in PATH_NAMES order. */
export function missingPaths(counts: PathCounts): PathName[] {
  return PATH_NAMES.filter((p) => (counts.get(p) ?? 0) === 0);
}

/** "checkpoint-expired 12, ..., zombie-fenced 0" in PATH_NAMES order. */
export function formatPathCounts(counts: PathCounts): string {
  return PATH_NAMES.map((p) => `${p} ${counts.get(p) ?? 0}`).join(", ");
}

/**
 * Throws when some path was never reached, naming each with what it means and the counts of all,
 * e.g. "fault paths never reached over 200 runs: zombie-fenced (the broker fenced ...)".
 */
export function assertAllPathsHit(counts: PathCounts, runs: number): void {
  assert(runs >= 0, `runs must be >= 0, got ${runs}`);
  const missing = missingPaths(counts);
  if (missing.length === 0) return;
  throw new Error(
    `fault paths never reached over ${runs} runs: ${missing.map((p) => `${p} (${PATH_DESCRIPTIONS[p]})`).join("; ")}; counts: ${formatPathCounts(counts)}`,
  );
}
