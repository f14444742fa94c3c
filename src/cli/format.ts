/**
 * What the commands print for people: the seed and settings of a scenario, the checkpoint
 * statistics table, and the one-line verdict.
 */
import { effectiveRestartStrategy } from "../engine/config.ts";
import type { CheckpointStats } from "../engine/result.ts";
import type { Fault, Moment } from "../faults/plan.ts";
import type { RunRecord } from "../report/types.ts";
import { checkpointOutcome, checkpointStatusLabel, describeFault, formatAt, formatBytes, formatMs, maxAlignment } from "../report/types.ts";
import type { Scenario } from "../scenario.ts";
import type { JsonValue } from "../sim/trace.ts";
import type { Colors } from "./io.ts";
import { checkLabel } from "../report/record.ts";

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function describeMoment(at: Moment): string {
  if (typeof at === "number") return `at ${formatAt(at)}`;
  const nth = at.nth ?? 1;
  return `${at.delayMs !== undefined && at.delayMs > 0 ? `${formatMs(at.delayMs)} ` : ""}after ${at.after}${nth !== 1 ? ` #${nth}` : ""}`;
}

/** "slowOperator window x50 at 1500 ms for 60 s". */
export function describePlanFault(f: Fault): string {
  const node = f.fault === "crash" ? f.node : "node" in f && f.node !== undefined ? f.node : f.fault === "slowDisk" || f.fault === "diskFailures" ? "storage" : "cluster";
  const what = describeFault(node, f as unknown as { readonly [k: string]: JsonValue | undefined });
  const dur = "durationMs" in f ? ` for ${formatMs(f.durationMs)}` : "";
  return `${what} ${describeMoment(f.at)}${dur}`;
}

/** The seed and every setting of a scenario, one "name  value" line each (printed before a run). */
export function settingsLines(s: Scenario, file: string | undefined): Array<[string, string]> {
  const cp = s.config.checkpoint;
  const r = effectiveRestartStrategy(s.config.restart, cp);
  const restart =
    r.kind === "none"
      ? "none"
      : r.kind === "fixedDelay"
        ? `fixed delay, ${r.attempts >= Number.MAX_SAFE_INTEGER ? "unlimited" : r.attempts} attempts, ${formatMs(r.delayMs)}`
        : r.kind === "failureRate"
          ? `failure rate, ${r.maxFailuresPerInterval} per ${formatMs(r.intervalMs)}, delay ${formatMs(r.delayMs)}`
          : `exponential delay ${formatMs(r.initialBackoffMs)}..${formatMs(r.maxBackoffMs)} x${r.multiplier}`;
  const c = s.cluster;
  let records = 0;
  for (const t of s.inputs) for (const p of t.partitions) records += p.length;
  const plan = s.plan.nodes
    .map((n) => `${n.id}:${n.kind === "sink" ? `${n.sink} sink` : n.kind}(${n.parallelism})`)
    .join(" -> ");
  const chaos = s.faults.chaos;
  const chaosText =
    chaos === undefined
      ? ""
      : [
          chaos.rpcLossProbability ? `rpc loss ${chaos.rpcLossProbability}` : "",
          chaos.storageWriteFailureProbability ? `storage write failures ${chaos.storageWriteFailureProbability}` : "",
          chaos.buggify ? "BUGGIFY on" : "",
        ]
          .filter((x) => x !== "")
          .join(", ");
  const lines: Array<[string, string]> = [
    ["scenario", `${s.name}${file !== undefined ? ` (${file})` : ""}`],
    ["seed", String(s.seed)],
    [
      "checkpoint",
      cp.intervalMs === -1
        ? "disabled"
        : `interval ${formatAt(cp.intervalMs)}, ${cp.mode}, timeout ${formatAt(cp.timeoutMs)}, min pause ${formatAt(cp.minPauseMs)}, ` +
          `max concurrent ${cp.maxConcurrent}, tolerable failures ${cp.tolerableFailures}${cp.unaligned ? ", unaligned" : ""}`,
    ],
    ["restart", restart],
    [
      "cluster",
      `${plural(c.taskManagers, "TaskManager")} x ${plural(c.slotsPerTaskManager, "slot")}, heartbeat ${formatMs(c.heartbeatIntervalMs)}/${formatMs(c.heartbeatTimeoutMs)}, ` +
        `network ${c.networkLatencyMsMin}-${c.networkLatencyMsMax} ms, storage ${c.storageLatencyMsMin}-${c.storageLatencyMsMax} ms`,
    ],
    ["plan", plan],
    ["input", `${plural(records, "record")} in ${plural(s.inputs.length, "topic")}`],
    [
      "faults",
      s.faults.faults.length === 0 && chaosText === ""
        ? "none"
        : [...s.faults.faults.map(describePlanFault), ...(chaosText !== "" ? [chaosText] : [])].join("; "),
    ],
  ];
  if (s.expect !== undefined) {
    const e = s.expect;
    const parts = [`verdict ${e.verdict}`];
    if (e.failingCheck !== undefined) parts.push(`${checkLabel(e.failingCheck)} fails`);
    if (e.jobStatus !== undefined) parts.push(`job ${e.jobStatus}`);
    if (e.traceHash !== undefined) parts.push(`trace hash ${e.traceHash}`);
    lines.push(["expect", parts.join(", ")]);
  }
  return lines;
}

/** Two columns, the names padded. */
export function keyValueLines(rows: ReadonlyArray<readonly [string, string]>, color?: Colors): string[] {
  const width = Math.max(0, ...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${color ? color.dim(k.padEnd(width)) : k.padEnd(width)}  ${v}`);
}

/** A plain-text table: columns padded to their widest cell, the last column left ragged. */
export function textTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

/** The checkpoint statistics table (journey 3): id, status, triggered, duration, state, max alignment, failure reason. */
export function checkpointTableLines(checkpoints: readonly CheckpointStats[], color?: Colors): string[] {
  if (checkpoints.length === 0) return ["no checkpoints were taken"];
  const rows = checkpoints.map((c) => {
    const a = maxAlignment(c);
    return [
      String(c.id),
      checkpointStatusLabel(c),
      formatAt(c.triggerTimeMs),
      formatMs(c.durationMs),
      formatBytes(c.stateBytes),
      a === null ? "-" : a.ms === 0 ? "0 ms" : `${formatMs(a.ms)} (${a.subtask})`,
      c.failureReason ?? "",
    ];
  });
  const lines = textTable(["checkpoint", "status", "triggered", "duration", "state", "max alignment", "failure reason"], rows);
  if (color === undefined) return lines;
  return lines.map((l, i) => {
    if (i === 0) return color.bold(l);
    const c = checkpoints[i - 1];
    return c === undefined || c.status === "COMPLETED" ? l : c.status === "IN_PROGRESS" ? color.yellow(l) : color.red(l);
  });
}

/** "exactly-once held" / "exactly-once VIOLATED" / "the run threw". */
export function verdictPhrase(r: RunRecord): string {
  if (r.status === "ERROR") return "the run threw";
  const failed = r.checks.filter((c) => !c.ok);
  if (failed.length > 0) {
    const more = failed.length > 1 ? ` (also: ${failed.slice(1).map((c) => checkLabel(c.check)).join(", ")})` : "";
    return `${checkLabel(failed[0]?.check ?? "")} VIOLATED${more}`;
  }
  const primary = r.checks.find((c) => c.check === "exactlyOnce") ?? r.checks.find((c) => c.check === "noLoss");
  return primary !== undefined ? `${checkLabel(primary.check)} held` : "all checks held";
}

const OUTCOME_PHRASES: Readonly<Record<string, string>> = {
  expired: "expired",
  declined: "declined",
  subsumed: "subsumed",
  "job-failover": "aborted by a failover",
  "job-finished": "aborted when the job finished",
  "jobmanager-lost": "lost with the JobManager",
  "in-progress": "still in progress",
};
/** Outcomes that count toward the tolerable checkpoint failure number (FLINK-SEMANTICS.md). */
const COUNTED = new Set(["expired", "declined", "io", "failed", "finalize-failed"]);

/** "1 of 5 checkpoints expired (tolerable: 0)", "4 of 4 checkpoints completed". */
export function checkpointPhrase(checkpoints: readonly CheckpointStats[], tolerable: number | undefined): string {
  if (checkpoints.length === 0) return "no checkpoints";
  const byOutcome = new Map<string, number>();
  let completed = 0;
  for (const c of checkpoints) {
    const o = checkpointOutcome(c);
    if (o === "completed") completed++;
    else byOutcome.set(o, (byOutcome.get(o) ?? 0) + 1);
  }
  const total = checkpoints.length;
  if (byOutcome.size === 0) return `${completed} of ${plural(total, "checkpoint")} completed`;
  const parts = [...byOutcome.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1));
  const phrase = (o: string): string => OUTCOME_PHRASES[o] ?? `failed (${o})`;
  const notDone = total - completed;
  const what = parts.length === 1 ? phrase(parts[0]?.[0] ?? "failed") : `did not complete (${parts.map(([o, n]) => `${n} ${phrase(o)}`).join(", ")})`;
  const counted = parts.some(([o]) => COUNTED.has(o));
  return `${notDone} of ${plural(total, "checkpoint")} ${what}${tolerable !== undefined && counted ? ` (tolerable: ${tolerable})` : ""}`;
}

/** The verdict line of a run: "exactly-once held; 1 of 5 checkpoints expired (tolerable: 0) -> job FAILED at 61680 ms". */
export function verdictLine(r: RunRecord, tolerable?: number): string {
  if (r.status === "ERROR") return `the run threw: ${r.checks[0]?.message ?? r.summary}`;
  return `${verdictPhrase(r)}; ${checkpointPhrase(r.checkpoints, tolerable)} -> job ${r.status} at ${formatAt(r.durationMs)}`;
}

/** The check lines under the verdict: "ok   exactly-once: ..." / "FAIL state: ...". */
export function checkLines(r: RunRecord, color?: Colors): string[] {
  return r.checks.map((c) => {
    const mark = c.ok ? "ok  " : "FAIL";
    const m = color ? (c.ok ? color.green(mark) : color.red(mark)) : mark;
    return `${m} ${checkLabel(c.check)}: ${c.message}`;
  });
}
