/**
 * What the reports read: one RunRecord per run, gathered in a RunSet (results.json holds exactly
 * this), plus the timeline a trace reduces to and small helpers every writer shares.
 *
 * Reports never read the engine's runtime objects or a whole trace: the command line turns a
 * RunResult and its judgement into a RunRecord (with `timelineFromTrace` for the runs whose
 * timeline is drawn), and everything here works from that plain data.
 */
import type { CheckpointStats } from "../engine/result.ts";
import type { JsonValue, TraceEvent } from "../sim/trace.ts";

export type { CheckpointStats } from "../engine/result.ts";
export type { JsonValue } from "../sim/trace.ts";

export type RunCheck = { readonly check: string; readonly ok: boolean; readonly message: string };

export type RunFault = {
  readonly fault: string;
  readonly target: string;
  readonly startMs: number;
  /** null: still active at the end of the run (or never ends, as a crash without restart). */
  readonly endMs: number | null;
  readonly detail: string;
};

export type RunRestore = { readonly timeMs: number; readonly checkpointId: number | null; readonly attempt: number };

/** Expected output of a sink against what it committed. */
export type OutputDiff = {
  readonly sink: string;
  /** Expected but never committed. */
  readonly missing: readonly JsonValue[];
  /** Committed more often than expected. */
  readonly duplicated: readonly JsonValue[];
  /** Committed but not expected at all. */
  readonly unexpected: readonly JsonValue[];
};

export type RunRecord = {
  /** e.g. "run-37", or the scenario name for a scenario run. */
  readonly id: string;
  /** Scenario name. */
  readonly name: string;
  readonly seed: number;
  readonly verdict: "pass" | "fail";
  /** The scenario's declared verdict, if it declares one. */
  readonly expected?: "pass" | "fail";
  /** Whether the verdict is the one expected (no declaration: expected to pass). */
  readonly asExpected: boolean;
  /** One sentence. */
  readonly summary: string;
  readonly checks: readonly RunCheck[];
  readonly traceHash: string;
  /** Final job status. */
  readonly status: string;
  /** Simulated duration of the run, in ms. */
  readonly durationMs: number;
  /** Wall-clock time the run took, in ms. */
  readonly wallMs?: number;
  /**
   * The checkpoint statistics. In runs without details (passing, not chosen), each checkpoint's
   * `alignmentMs` holds only its longest alignment, the one the summaries use.
   */
  readonly checkpoints: readonly CheckpointStats[];
  readonly faults: readonly RunFault[];
  readonly restores: readonly RunRestore[];
  /** For chosen and failing runs: the trace reduced to what the timeline draws. */
  readonly timeline?: readonly TimelineEvent[];
  readonly outputDiff?: readonly OutputDiff[];
  /** The saved counterexample scenario file. */
  readonly counterexamplePath?: string;
  /** e.g. "npx streamsim replay reports/x/counterexample-37.json". */
  readonly replayCommand: string;
};

/**
 * One thing the timeline draws: a span when `endMs` is set (checkpoint, alignment, fault, job
 * status), else a marker (crash, restart, restore, failover, task failure, commit, fencing).
 */
export type TimelineEvent = {
  readonly timeMs: number;
  /** One lane per node ("jm", "tm-0", "broker", ...) or subtask ("window#2"); "job" holds the job status. */
  readonly lane: string;
  /** checkpoint, alignment, fault, job-status, crash, restart, restore, failover, task-failed, txn-committed, fenced. */
  readonly kind: string;
  readonly label: string;
  /** Checkpoint id, for checkpoint and alignment spans. */
  readonly id?: number;
  readonly endMs?: number;
  /** completed, expired, declined, subsumed, io, job-failover, in-progress, abandoned; a job status in lower case; open. */
  readonly outcome?: string;
};

export type RunTotals = { readonly runs: number; readonly passed: number; readonly failed: number; readonly unexpected: number };

export type RunSet = {
  readonly runId: string;
  /** ISO-8601 time the set was written. */
  readonly createdAt: string;
  /** The command that produced it. */
  readonly command: string;
  readonly seed?: number;
  /** "i/n" for one shard of a sweep. */
  readonly shard?: string;
  readonly runs: readonly RunRecord[];
  readonly totals: RunTotals;
};

// ---- shared helpers -----------------------------------------------------------------------

export function computeTotals(runs: readonly RunRecord[]): RunTotals {
  let passed = 0;
  let unexpected = 0;
  for (const r of runs) {
    if (r.verdict === "pass") passed++;
    if (!r.asExpected) unexpected++;
  }
  return { runs: runs.length, passed, failed: runs.length - passed, unexpected };
}

/** Compares strings with digit runs as numbers: run-2 < run-10. Deterministic (no locale). */
export function naturalCompare(a: string, b: string): number {
  const re = /(\d+)|(\D+)/g;
  const pa = a.match(re) ?? [];
  const pb = b.match(re) ?? [];
  const n = Math.min(pa.length, pb.length);
  for (let i = 0; i < n; i++) {
    const x = pa[i] as string;
    const y = pb[i] as string;
    const dx = /^\d/.test(x);
    const dy = /^\d/.test(y);
    if (dx && dy) {
      const d = Number(x) - Number(y);
      if (d !== 0) return d;
      if (x.length !== y.length) return x.length - y.length;
    } else if (x !== y) return x < y ? -1 : 1;
  }
  if (pa.length !== pb.length) return pa.length - pb.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The HTML anchor of a run: "run-37" for id "run-37", "run-<id>" otherwise; URL-safe. */
export function runAnchor(id: string): string {
  const slug = id.replace(/[^A-Za-z0-9_.-]/g, "_");
  return slug.startsWith("run-") ? slug : `run-${slug}`;
}

/** How a checkpoint ended: completed, in-progress, or the failure reason's first word (expired, declined, subsumed, io, job-failover). */
export function checkpointOutcome(c: CheckpointStats): string {
  if (c.status === "COMPLETED") return "completed";
  if (c.status === "IN_PROGRESS") return "in-progress";
  return reasonOutcome(c.failureReason);
}

function reasonOutcome(reason: string | null | undefined): string {
  if (reason === null || reason === undefined || reason === "") return "failed";
  const head = (reason.split(":")[0] ?? "").trim().toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
  return head === "" ? "failed" : head;
}

/** The status column of a checkpoint table: COMPLETED, IN_PROGRESS, EXPIRED, DECLINED, SUBSUMED or FAILED. */
export function checkpointStatusLabel(c: CheckpointStats): string {
  const o = checkpointOutcome(c);
  if (o === "completed" || o === "in-progress") return c.status;
  return o === "expired" || o === "declined" || o === "subsumed" ? o.toUpperCase() : "FAILED";
}

/** The longest alignment of a checkpoint and its subtask, or null when none aligned. */
export function maxAlignment(c: CheckpointStats): { ms: number; subtask: string } | null {
  let best: { ms: number; subtask: string } | null = null;
  for (const [subtask, ms] of Object.entries(c.alignmentMs)) {
    if (best === null || ms > best.ms || (ms === best.ms && subtask < best.subtask)) best = { ms, subtask };
  }
  return best;
}

/** "0.5 ms", "180 ms", "1680 ms", "59.2 s" (durations of 10 s and more in seconds). */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "-";
  if (Math.abs(ms) >= 10_000) return `${trimNumber(ms / 1000, 1)} s`;
  return `${trimNumber(ms, Math.abs(ms) < 10 ? 2 : 1)} ms`;
}

/** A moment of simulated time, always in ms: "1680 ms", "61680 ms", "0.5 ms". */
export function formatAt(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "-";
  return `${trimNumber(ms, 1)} ms`;
}

/** "812 B", "12 KiB", "3.4 MiB". */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return "-";
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${trimNumber(bytes / 1024, bytes < 10 * 1024 ? 1 : 0)} KiB`;
  return `${trimNumber(bytes / (1024 * 1024), 1)} MiB`;
}

function trimNumber(x: number, digits: number): string {
  return String(Number(x.toFixed(digits)));
}

export type CheckpointSummary = {
  readonly total: number;
  readonly completed: number;
  /** Checkpoints that did not complete, by outcome (expired, declined, ...), outcomes sorted. */
  readonly failedByOutcome: ReadonlyArray<readonly [string, number]>;
  /** Over completed checkpoints; null when none completed. */
  readonly durationMsMedian: number | null;
  readonly durationMsP95: number | null;
  readonly durationMsMax: number | null;
  readonly alignmentMsMax: number | null;
  readonly stateBytesMax: number | null;
};

// ---- timeline -----------------------------------------------------------------------------

/** Most events a timeline keeps; beyond it the rest of the run is summarised in one marker. */
export const MAX_TIMELINE_EVENTS = 4000;

const num = (v: JsonValue | undefined): number | undefined => (typeof v === "number" ? v : undefined);
const text = (v: JsonValue | undefined): string | undefined =>
  v === undefined ? undefined : typeof v === "string" ? v : JSON.stringify(v);

/** A fault's "fault" event data as a short label: "crash tm-1", "partition jm | tm-0,tm-1 (one way)". */
export function describeFault(node: string, data: { readonly [k: string]: JsonValue | undefined }): string {
  const kind = text(data.fault) ?? "fault";
  const list = (v: JsonValue | undefined): string => (Array.isArray(v) ? v.map((x) => text(x)).join(",") : (text(v) ?? "?"));
  switch (kind) {
    case "crash":
      return `crash ${text(data.node) ?? node}${num(data.restartAfterMs) !== undefined ? `, restart after ${formatMs(num(data.restartAfterMs))}` : ""}`;
    case "failTask":
      return `failTask ${text(data.vertex) ?? "?"}#${text(data.subtask) ?? "?"}`;
    case "partition":
      return `partition ${list(data.a)} | ${list(data.b)}${data.oneWay === true ? " (one way)" : ""}`;
    case "clog":
      return `clog ${text(data.from) ?? "?"} ${data.bidirectional === true ? "<->" : "->"} ${text(data.to) ?? "?"}`;
    case "slowDisk":
      return `slowDisk ${text(data.node) ?? node} x${text(data.factor) ?? "?"}`;
    case "diskFailures":
      return `diskFailures ${text(data.node) ?? node} p=${text(data.writeFailureProbability) ?? "?"}`;
    case "slowOperator":
      return `slowOperator ${text(data.vertex) ?? "?"} x${text(data.factor) ?? "?"}`;
    case "dropRpc":
      return `dropRpc ${text(data.rpc) ?? "?"}`;
    case "slowBroker":
      return `slowBroker x${text(data.factor) ?? "?"}`;
    default:
      return kind;
  }
}

type OpenSpan = { timeMs: number; lane: string; kind: string; label: string; id?: number; outcome?: string };

/**
 * Reduces a trace to what the timeline draws, in time order:
 * - checkpoints: spans on "jm" from checkpoint-triggered to completed/aborted, outcome completed,
 *   expired, declined, subsumed, io, job-failover ... (in-progress when the run ended first,
 *   abandoned when the JobManager crashed first);
 * - alignments: spans on the subtask's lane (alignment-started to -completed; abandoned on a
 *   failover, a crash of its TaskManager or its task's failure);
 * - job status: spans on lane "job", each status until the next;
 * - faults: spans on the fault's node from "fault" to "fault-end" (open until the end when it never
 *   ends; a marker when it is instantaneous, as a failTask);
 * - markers: crash and restart (their node), restore and failover (jm), task-failed (the subtask),
 *   txn-committed and fenced (broker).
 */
export function timelineFromTrace(trace: readonly TraceEvent[]): TimelineEvent[] {
  const out: TimelineEvent[] = [];
  let endMs = 0;
  for (const e of trace) if (e.level === "summary" && e.time > endMs) endMs = e.time;

  const checkpoints = new Map<number, OpenSpan>();
  const alignments = new Map<string, OpenSpan & { node: string; task: string }>();
  const faults = new Map<string, OpenSpan[]>();
  let status: OpenSpan | undefined;

  const close = (s: OpenSpan, at: number, outcome: string, label?: string): void => {
    out.push({
      timeMs: s.timeMs,
      lane: s.lane,
      kind: s.kind,
      label: label ?? s.label,
      ...(s.id !== undefined ? { id: s.id } : {}),
      endMs: Math.max(at, s.timeMs),
      outcome,
    });
  };
  const closeAlignments = (at: number, which: (a: { node: string; task: string }) => boolean, why: string): void => {
    for (const [k, a] of [...alignments.entries()]) {
      if (!which(a)) continue;
      alignments.delete(k);
      close(a, at, "abandoned", `${a.label}, abandoned (${why})`);
    }
  };
  const marker = (e: TraceEvent, lane: string, label: string, extra: Partial<TimelineEvent> = {}): void => {
    out.push({ timeMs: e.time, lane, kind: e.kind, label, ...extra });
  };

  for (const e of trace) {
    if (e.level !== "summary") continue;
    if (out.length >= MAX_TIMELINE_EVENTS) {
      out.push({ timeMs: e.time, lane: "jm", kind: "truncated", label: `timeline truncated: events from ${formatMs(e.time)} on are not drawn` });
      endMs = e.time;
      break;
    }
    const d = e.data;
    switch (e.kind) {
      case "job-status": {
        const s = text(d.status) ?? "?";
        const attempt = num(d.attempt) ?? 0;
        const reason = text(d.reason);
        if (status !== undefined) close(status, e.time, status.outcome ?? "");
        status = {
          timeMs: e.time,
          lane: "job",
          kind: "job-status",
          label: `${s}${attempt > 0 ? ` (attempt ${attempt})` : ""}${reason !== undefined ? `: ${reason}` : ""}`,
          outcome: s.toLowerCase(),
        };
        break;
      }
      case "checkpoint-triggered": {
        const id = num(d.id) ?? -1;
        const prev = checkpoints.get(id);
        if (prev !== undefined) close(prev, e.time, "abandoned", `${prev.label}, abandoned`);
        checkpoints.set(id, { timeMs: e.time, lane: e.node, kind: "checkpoint", label: `checkpoint ${id}`, id });
        break;
      }
      case "checkpoint-completed": {
        const id = num(d.id) ?? -1;
        const s = checkpoints.get(id) ?? { timeMs: e.time, lane: e.node, kind: "checkpoint", label: `checkpoint ${id}`, id };
        checkpoints.delete(id);
        const bytes = num(d.stateBytes);
        close(s, e.time, "completed", `checkpoint ${id} completed in ${formatMs(e.time - s.timeMs)}${bytes !== undefined ? `, ${formatBytes(bytes)}` : ""}`);
        break;
      }
      case "checkpoint-aborted": {
        const id = num(d.id) ?? -1;
        const s = checkpoints.get(id) ?? { timeMs: e.time, lane: e.node, kind: "checkpoint", label: `checkpoint ${id}`, id };
        checkpoints.delete(id);
        const reason = text(d.reason) ?? "aborted";
        close(s, e.time, reasonOutcome(reason), `checkpoint ${id} aborted after ${formatMs(e.time - s.timeMs)}: ${reason}`);
        break;
      }
      case "alignment-started": {
        const task = text(d.task) ?? e.node;
        const id = num(d.id) ?? -1;
        alignments.set(`${task}|${id}`, { timeMs: e.time, lane: task, kind: "alignment", label: `${task} aligning checkpoint ${id}`, id, node: e.node, task });
        break;
      }
      case "alignment-completed": {
        const task = text(d.task) ?? e.node;
        const id = num(d.id) ?? -1;
        const key = `${task}|${id}`;
        const a = alignments.get(key);
        alignments.delete(key);
        const start = a?.timeMs ?? e.time - (num(d.durationMs) ?? 0);
        out.push({ timeMs: start, lane: task, kind: "alignment", id, endMs: e.time, outcome: "aligned", label: `${task} aligned checkpoint ${id} in ${formatMs(e.time - start)}` });
        break;
      }
      case "fault": {
        const kind = text(d.fault) ?? "fault";
        const key = `${e.node}|${kind}`;
        const list = faults.get(key) ?? [];
        list.push({ timeMs: e.time, lane: e.node, kind: "fault", label: describeFault(e.node, d), outcome: kind });
        faults.set(key, list);
        break;
      }
      case "fault-end": {
        const kind = text(d.fault) ?? "fault";
        const list = faults.get(`${e.node}|${kind}`);
        const s = list?.shift();
        if (s === undefined) break;
        if (e.time === s.timeMs) out.push(s);
        else close(s, e.time, s.outcome ?? kind, `${s.label} (${formatMs(e.time - s.timeMs)})`);
        break;
      }
      case "crash":
        marker(e, e.node, `${e.node} crashed`);
        if (e.node === "jm")
          for (const [id, s] of [...checkpoints.entries()]) {
            checkpoints.delete(id);
            close(s, e.time, "abandoned", `${s.label}, abandoned (JobManager crashed)`);
          }
        closeAlignments(e.time, (a) => a.node === e.node, `${e.node} crashed`);
        break;
      case "restart":
        marker(e, e.node, `${e.node} restarted`);
        break;
      case "restore": {
        const id = num(d.checkpointId);
        const attempt = num(d.attempt) ?? 0;
        marker(e, "jm", id === undefined ? `attempt ${attempt} starts from scratch (no checkpoint to restore)` : `attempt ${attempt} restores checkpoint ${id}`, {
          ...(id !== undefined ? { id } : {}),
        });
        break;
      }
      case "failover":
        marker(e, "jm", `failover to attempt ${num(d.attempt) ?? "?"}: ${text(d.reason) ?? "?"}${num(d.restartDelayMs) !== undefined ? ` (restart in ${formatMs(num(d.restartDelayMs))})` : ""}`);
        closeAlignments(e.time, () => true, "failover");
        break;
      case "task-failed": {
        const task = text(d.task) ?? e.node;
        marker(e, task, `${task} failed: ${text(d.reason) ?? "?"}`);
        closeAlignments(e.time, (a) => a.task === task, "task failed");
        break;
      }
      case "txn-committed": {
        const cp = num(d.checkpointId);
        marker(e, "broker", `commit ${text(d.tid) ?? "?"} epoch ${text(d.epoch) ?? "?"}: ${text(d.records) ?? "?"} records${cp !== undefined ? ` (checkpoint ${cp})` : ""}`, {
          ...(cp !== undefined ? { id: cp } : {}),
        });
        break;
      }
      case "fenced":
        marker(e, "broker", `fenced ${text(d.tid) ?? "?"} epoch ${text(d.epoch) ?? "?"} (current ${text(d.currentEpoch) ?? "?"}) on ${text(d.op) ?? "?"}`);
        break;
      default:
        break;
    }
  }

  // Whatever is still open at the end of the run.
  for (const s of checkpoints.values()) close(s, endMs, "in-progress", `${s.label}, still in progress when the run ended`);
  for (const a of alignments.values()) close(a, endMs, "in-progress", `${a.label}, still aligning when the run ended`);
  for (const list of faults.values())
    for (const s of list) {
      if (s.outcome === "failTask") out.push(s);
      else close(s, endMs, "open", `${s.label} (never ended)`);
    }
  if (status !== undefined) close(status, endMs, status.outcome ?? "");

  // Stable sort by start time (JS sort is stable): spans start where they started.
  out.sort((a, b) => a.timeMs - b.timeMs);
  return out;
}

/** Lane order: job, jm, TaskManagers, subtasks, broker, storage, cluster, anything else. */
export function sortLanes(lanes: Iterable<string>): string[] {
  const group = (l: string): number =>
    l === "job" ? 0 : l === "jm" ? 1 : /^tm-\d+$/.test(l) ? 2 : l.includes("#") ? 3 : l === "broker" ? 4 : l === "storage" ? 5 : l === "cluster" ? 6 : 7;
  return [...new Set(lanes)].sort((a, b) => group(a) - group(b) || naturalCompare(a, b));
}

const numField = (e: TraceEvent, field: string): number | undefined => {
  const v = e.data[field];
  return typeof v === "number" ? v : undefined;
};

/** The faults of a run as the reports list them, from its trace ("fault" / "fault-end" paired by index). */
export function faultsFromTrace(trace: readonly TraceEvent[]): RunFault[] {
  const out: Array<{ -readonly [K in keyof RunFault]: RunFault[K] }> = [];
  const open = new Map<number, number>();
  for (const e of trace) {
    if (e.level !== "summary") continue;
    if (e.kind === "fault") {
      const kind = typeof e.data.fault === "string" ? e.data.fault : "fault";
      const skipped = e.data.skipped === true;
      const instant = skipped || kind === "failTask";
      out.push({
        fault: kind,
        target: e.node,
        startMs: e.time,
        endMs: instant ? e.time : null,
        detail: describeFault(e.node, e.data) + (skipped ? " (skipped: the node was already down)" : ""),
      });
      const index = numField(e, "index");
      if (index !== undefined && !instant) open.set(index, out.length - 1);
    } else if (e.kind === "fault-end") {
      const index = numField(e, "index");
      const at = index === undefined ? undefined : open.get(index);
      if (index === undefined || at === undefined) continue;
      open.delete(index);
      const f = out[at];
      if (f !== undefined) f.endMs = e.time;
    }
  }
  return out;
}
