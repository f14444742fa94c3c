/**
 * The checkers: each compares a run's result (output, state, trace) against the reference or an
 * invariant, and returns one CheckResult whose message is one sentence a person can act on: which
 * record, key or checkpoint, and what happened around the first problem (the last completed
 * checkpoint before the first restore, and the faults).
 *
 * Checks that are not applicable pass and say so; a check never fails for what the plan does
 * not define (see defined.ts).
 */
import { canonicalJson } from "../sim/trace.ts";
import type { JsonValue, TraceEvent } from "../sim/trace.ts";
import type { JobConfigData } from "../engine/config.ts";
import type { Inputs, Plan } from "../engine/plan/plan.ts";
import type { Registry } from "../engine/plan/registry.ts";
import { builtins } from "../engine/plan/registry.ts";
import type { KeyedStateEntry, RunResult, SinkOutput } from "../engine/result.ts";
import type { FaultPlan } from "../faults/plan.ts";
import { defaultChaos, faultPlanEndMs } from "../faults/plan.ts";
import type { CheckName, Expectation, Verdict } from "../scenario.ts";
import { assert } from "../sim/assert.ts";
import { interpret, recordKey } from "./reference.ts";
import type { Reference, SinkExpectation } from "./reference.ts";

export type CheckResult = {
  readonly check: CheckName;
  readonly ok: boolean;
  /** One sentence for people. */
  readonly message: string;
  readonly details?: JsonValue;
};

/** At most this many problems are listed in a check's details. */
export const MAX_DETAILS = 20;
/** Slack for comparing simulated times (floating-point sums of latencies). */
const EPSILON_MS = 1e-6;
/** Tolerance for a checkpoint's expiry (the brief: a pending checkpoint is aborted by trigger + timeout, give or take 1 ms). */
export const EXPIRY_TOLERANCE_MS = 1;

// ---- formatting --------------------------------------------------------------------------------

const MAX_RECORD_CHARS = 200;

/** A record as people read it: canonical JSON, cut short when long. */
export function showRecord(v: JsonValue): string {
  const s = canonicalJson(v);
  return s.length <= MAX_RECORD_CHARS ? s : s.slice(0, MAX_RECORD_CHARS - 3) + "...";
}

const ms = (t: number): string => `${Number.isInteger(t) ? t : Number(t.toFixed(3))} ms`;
const times = (n: number): string => (n === 1 ? "1 time" : `${n} times`);
const plural = (n: number, one: string, many = one + "s"): string => `${n} ${n === 1 ? one : many}`;
const cmpStr = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

const num = (e: TraceEvent, field: string): number | null => {
  const v = e.data[field];
  return typeof v === "number" ? v : null;
};
const str = (e: TraceEvent, field: string): string | null => {
  const v = e.data[field];
  return typeof v === "string" ? v : null;
};

/**
 * What happened around the first problem, from the trace: the last completed checkpoint before
 * the first restore (or the last completed checkpoint when nothing was restored), and the faults.
 */
export function describeContext(trace: readonly TraceEvent[]): string {
  const firstRestore = trace.find((e) => e.kind === "restore");
  let lastDone: TraceEvent | undefined;
  for (const e of trace) {
    if (firstRestore !== undefined && e.seq >= firstRestore.seq) break;
    if (e.kind === "checkpoint-completed") lastDone = e;
  }
  const cp =
    lastDone === undefined
      ? firstRestore === undefined
        ? "no checkpoint completed and nothing was restored"
        : `no checkpoint had completed before the first restore (at ${ms(firstRestore.time)})`
      : firstRestore === undefined
        ? `nothing was restored; the last completed checkpoint was ${num(lastDone, "id")} (completed at ${ms(lastDone.time)})`
        : `last completed checkpoint before the first restore (at ${ms(firstRestore.time)}) was ${num(lastDone, "id")} (completed at ${ms(lastDone.time)})`;
  const faults = trace.filter((e) => e.kind === "fault");
  const shown = faults.slice(0, 3).map((e) => `${str(e, "fault") ?? "fault"} ${e.node} at ${ms(e.time)}`);
  const more = faults.length > 3 ? ` and ${faults.length - 3} more` : "";
  return `${cp}; faults: ${shown.length === 0 ? "none" : shown.join(", ") + more}`;
}

// ---- multisets ---------------------------------------------------------------------------------

/** Records by canonical JSON, with their counts. */
export type Bag = Map<string, { value: JsonValue; count: number }>;

export function bag(values: readonly JsonValue[]): Bag {
  const b: Bag = new Map();
  for (const v of values) {
    const k = canonicalJson(v);
    const e = b.get(k);
    if (e === undefined) b.set(k, { value: v, count: 1 });
    else e.count++;
  }
  return b;
}
const countIn = (b: Bag, k: string): number => b.get(k)?.count ?? 0;

type Problem = { readonly sentence: string; readonly detail: JsonValue };

function findSink(result: RunResult, vertex: string): SinkOutput | undefined {
  return result.sinks.find((s) => s.vertex === vertex);
}

function sinkLabel(plan: Plan, vertex: string): string {
  const node = plan.nodes.find((n) => n.id === vertex);
  return node?.name !== undefined && node.name !== vertex ? `sink "${vertex}" (${node.name})` : `sink "${vertex}"`;
}

/** Multiset comparison of one sink's committed records; `complete`: the job finished, so nothing may be missing. */
function compareMultiset(vertex: string, label: string, expected: readonly JsonValue[], committed: readonly JsonValue[], complete: boolean): Problem[] {
  const exp = bag(expected);
  const got = bag(committed);
  let lost = 0;
  let duplicated = 0;
  let unexpected = 0;
  const lostList: Problem[] = [];
  const dupList: Problem[] = [];
  const unexpList: Problem[] = [];
  for (const [k, e] of exp) {
    const c = countIn(got, k);
    if (c < e.count && complete) {
      lost += e.count - c;
      lostList.push({
        sentence: `${label}: record ${showRecord(e.value)} committed ${times(c)}, expected ${e.count} (${c === 0 ? "lost" : "partly lost"})`,
        detail: { sink: vertex, record: e.value, committed: c, expected: e.count, problem: "lost" },
      });
    }
  }
  for (const [k, g] of got) {
    const e = countIn(exp, k);
    if (e === 0) {
      unexpected += g.count;
      unexpList.push({
        sentence: `${label}: record ${showRecord(g.value)} committed ${times(g.count)}, expected 0 (not produced by the reference)`,
        detail: { sink: vertex, record: g.value, committed: g.count, expected: 0, problem: "unexpected" },
      });
    } else if (g.count > e) {
      duplicated += g.count - e;
      dupList.push({
        sentence: `${label}: record ${showRecord(g.value)} committed ${times(g.count)}, expected ${e} (duplicated)`,
        detail: { sink: vertex, record: g.value, committed: g.count, expected: e, problem: "duplicated" },
      });
    }
  }
  const all = [...lostList, ...dupList, ...unexpList];
  if (all.length === 0) return [];
  const summary =
    `${plural(lost, "record")} lost, ${duplicated} duplicated and ${unexpected} unexpected in all: ` +
    `committed ${committed.length} (${got.size} distinct), expected ${expected.length} (${exp.size} distinct)`;
  const first = all[0] as Problem;
  return [{ sentence: `${first.sentence}; ${summary}`, detail: first.detail }, ...all.slice(1)];
}

function compareRunning(vertex: string, label: string, exp: SinkExpectation, committed: readonly JsonValue[], complete: boolean): Problem[] {
  assert(exp.running !== null, `running expectations of ${label}`);
  const problems: Problem[] = [];
  const byKey = new Map<string, JsonValue[]>();
  for (const v of committed) {
    const k = recordKey(v);
    const list = byKey.get(k);
    if (list === undefined) byKey.set(k, [v]);
    else list.push(v);
  }
  const expectedKeys = new Set<string>();
  for (const ke of exp.running) {
    expectedKeys.add(ke.key);
    const got = byKey.get(ke.key) ?? [];
    const count = got.length;
    if (count > ke.count || (complete && count < ke.count)) {
      problems.push({
        sentence: `${label}: key "${ke.key}" has ${count} committed running values, expected ${ke.count} (${count > ke.count ? "duplicated" : "lost"})`,
        detail: { sink: vertex, key: ke.key, committed: count, expected: ke.count, problem: count > ke.count ? "duplicated" : "lost" },
      });
      continue;
    }
    if (!complete) continue;
    const have = bag(got);
    for (const [k, need] of bag(ke.mustInclude)) {
      const c = countIn(have, k);
      if (c < need.count) {
        problems.push({
          sentence: `${label}: final value ${showRecord(need.value)} of key "${ke.key}" committed ${times(c)}, expected ${need.count} (the final aggregate is wrong or lost)`,
          detail: { sink: vertex, key: ke.key, record: need.value, committed: c, expected: need.count, problem: "final" },
        });
        break;
      }
    }
  }
  for (const [k, got] of byKey) {
    if (!expectedKeys.has(k))
      problems.push({
        sentence: `${label}: key "${k}" has ${got.length} committed values, expected none (e.g. ${showRecord(got[0] as JsonValue)})`,
        detail: { sink: vertex, key: k, committed: got.length, expected: 0, problem: "unexpected" },
      });
  }
  return problems;
}

function compareTable(vertex: string, label: string, exp: SinkExpectation, out: SinkOutput): Problem[] {
  assert(exp.table !== null, `table expectations of ${label}`);
  if (out.table === undefined)
    return [{ sentence: `${label}: the run reports no upsert table for this upsert sink`, detail: { sink: vertex, problem: "no table" } }];
  const problems: Problem[] = [];
  const got = new Map<string, JsonValue>(out.table.map(([k, v]) => [k, v]));
  const expectedKeys = new Set<string>();
  for (const row of exp.table) {
    expectedKeys.add(row.key);
    const v = got.get(row.key);
    if (v === undefined) {
      problems.push({
        sentence: `${label}: upsert key "${row.key}" is missing from the table, expected ${row.defined ? showRecord(row.value) : "a row"} (lost)`,
        detail: { sink: vertex, key: row.key, expected: row.defined ? row.value : null, problem: "lost" },
      });
    } else if (row.defined && canonicalJson(v) !== canonicalJson(row.value)) {
      problems.push({
        sentence: `${label}: upsert key "${row.key}" holds ${showRecord(v)}, expected ${showRecord(row.value)}`,
        detail: { sink: vertex, key: row.key, got: v, expected: row.value, problem: "wrong value" },
      });
    }
  }
  for (const [k, v] of got) {
    if (!expectedKeys.has(k))
      problems.push({
        sentence: `${label}: upsert key "${k}" holds ${showRecord(v)}, expected no row`,
        detail: { sink: vertex, key: k, got: v, problem: "unexpected" },
      });
  }
  return problems;
}

function outcome(check: CheckName, problems: readonly Problem[], okMessage: string, trace: readonly TraceEvent[], notes: readonly string[] = []): CheckResult {
  if (problems.length === 0) return { check, ok: true, message: okMessage, details: notes.length > 0 ? { notes: [...notes] } : undefined };
  const first = problems[0] as Problem;
  const more = problems.length > 1 ? ` (${plural(problems.length - 1, "more problem")} in details)` : "";
  return {
    check,
    ok: false,
    message: `${first.sentence}${more}; ${describeContext(trace)}`,
    details: { problems: problems.slice(0, MAX_DETAILS).map((p) => p.detail), total: problems.length, notes: [...notes] },
  };
}

export type SinkCheckOptions = {
  /** The sink vertices to check (default: every sink of the reference). */
  readonly sinks?: readonly string[];
  /**
   * Whether the output is complete (default: the job FINISHED). An incomplete output is checked
   * for safety only: nothing committed more often than expected, nothing unexpected.
   */
  readonly complete?: boolean;
};

function sinksInScope(ref: Reference, options: SinkCheckOptions): SinkExpectation[] {
  return ref.sinks.filter((s) => options.sinks === undefined || options.sinks.includes(s.vertex));
}

// ---- exactly-once ------------------------------------------------------------------------------

/**
 * Exactly-once: per sink by mode. Multiset sinks: the committed records equal the expected
 * multiset; running sinks: per key the number of emissions, and the final values present; upsert
 * sinks: the table equals the expected final table (rows whose value the plan does not define
 * are checked for presence only). Sinks whose result is not defined are skipped (noted).
 */
export function checkExactlyOnce(ref: Reference, result: RunResult, plan: Plan, options: SinkCheckOptions = {}): CheckResult {
  const complete = options.complete ?? result.status === "FINISHED";
  const problems: Problem[] = [];
  const notes: string[] = [];
  const scope = sinksInScope(ref, options);
  for (const exp of scope) {
    const label = sinkLabel(plan, exp.vertex);
    const out = findSink(result, exp.vertex);
    if (out === undefined) {
      problems.push({ sentence: `${label}: the run reports no output for this sink`, detail: { sink: exp.vertex, problem: "no output" } });
      continue;
    }
    if (exp.mode === "undefined") {
      notes.push(`${label} not compared: ${exp.reason ?? "its result is not defined"}`);
      continue;
    }
    if (exp.kind === "upsert") {
      if (complete) problems.push(...compareTable(exp.vertex, label, exp, out));
      else notes.push(`${label} not compared: an upsert table of an unfinished job is partial`);
      continue;
    }
    if (exp.mode === "multiset") problems.push(...compareMultiset(exp.vertex, label, exp.records, out.committed, complete));
    else problems.push(...compareRunning(exp.vertex, label, exp, out.committed, complete));
  }
  const compared = scope.length - notes.length;
  const okMessage = `${plural(compared, "sink")} ${compared === 1 ? "matches" : "match"} the reference exactly${complete ? "" : " (safety only: the job did not finish)"}${
    notes.length > 0 ? `; ${notes.length} not compared (${notes.join("; ")})` : ""
  }`;
  return outcome("exactlyOnce", problems, okMessage, result.trace, notes);
}

// ---- no loss -----------------------------------------------------------------------------------

/**
 * No loss (at-least-once): every expected record committed at least once, judged only on what
 * duplicated input cannot change (defined.ts): distinct records on duplicate-insensitive paths;
 * otherwise every expected key. For running sinks only the keys are checked, because duplicates
 * change a running sum's final value; the final values of min/max over a stateless path cannot
 * change, so those must be present too.
 */
export function checkNoLoss(ref: Reference, result: RunResult, plan: Plan, options: Pick<SinkCheckOptions, "sinks"> = {}): CheckResult {
  const problems: Problem[] = [];
  const notes: string[] = [];
  const scope = sinksInScope(ref, options);
  for (const exp of scope) {
    const label = sinkLabel(plan, exp.vertex);
    const out = findSink(result, exp.vertex);
    if (out === undefined) {
      problems.push({ sentence: `${label}: the run reports no output for this sink`, detail: { sink: exp.vertex, problem: "no output" } });
      continue;
    }
    if (exp.noLoss === "none") {
      notes.push(`${label} not checked: ${exp.reason ?? "duplicates can change its records and keys"}`);
      continue;
    }
    if (out.kind === "upsert" && exp.table !== null) {
      // An upsert table keeps one row per key: nothing is lost when every expected key has a row.
      // (Its values are for exactlyOnce: under at-least-once, replays may change sums in them.)
      const rows = new Set((out.table ?? []).map(([k]) => k));
      const missingRows = exp.table.map((r) => r.key).filter((k) => !rows.has(k));
      if (missingRows.length > 0)
        problems.push({
          sentence: `${label}: upsert key "${missingRows[0]}" has no row, expected one (lost); ${missingRows.length} of ${exp.table.length} expected rows missing`,
          detail: { sink: exp.vertex, keys: missingRows.slice(0, MAX_DETAILS), problem: "lost row" },
        });
      continue;
    }
    if (exp.noLoss === "records") {
      const got = bag(out.committed);
      const exps = bag(exp.records);
      const missing: JsonValue[] = [];
      for (const [k, e] of exps) if (!got.has(k)) missing.push(e.value);
      const first = missing[0];
      if (first !== undefined) {
        const summary = `${missing.length} of ${exps.size} distinct expected records missing, committed ${out.committed.length} records (${got.size} distinct)`;
        missing.forEach((m, i) =>
          problems.push({
            sentence: i === 0 ? `${label}: record ${showRecord(first)} committed 0 times, expected at least once (lost); ${summary}` : "",
            detail: { sink: exp.vertex, record: m, problem: "lost" },
          }),
        );
      }
      continue;
    }
    // keys
    const gotKeys = new Set<string>();
    for (const v of out.committed) gotKeys.add(recordKey(v));
    const expKeySet = new Set<string>();
    for (const v of exp.records) expKeySet.add(recordKey(v));
    const expKeys = [...expKeySet].sort(cmpStr);
    const missingKeys = expKeys.filter((k) => !gotKeys.has(k));
    if (missingKeys.length > 0) {
      problems.push({
        sentence: `${label}: key "${missingKeys[0]}" has no committed record, expected at least one (lost); ${missingKeys.length} of ${expKeys.length} expected keys missing`,
        detail: { sink: exp.vertex, keys: missingKeys.slice(0, MAX_DETAILS), problem: "lost key" },
      });
    }
    let got: Bag | null = null; // built when a final value is to be looked up
    for (const ke of exp.running ?? []) {
      for (const v of ke.idempotentFinals) {
        got ??= bag(out.committed);
        if (!got.has(canonicalJson(v)))
          problems.push({
            sentence: `${label}: final value ${showRecord(v)} of key "${ke.key}" never committed (a min/max aggregate duplicates cannot change)`,
            detail: { sink: exp.vertex, key: ke.key, record: v, problem: "lost final" },
          });
      }
    }
  }
  const checked = scope.length - notes.length;
  const okMessage = `nothing expected is missing from ${plural(checked, "sink")}${notes.length > 0 ? `; ${notes.length} not checked (${notes.join("; ")})` : ""}`;
  return outcome("noLoss", problems, okMessage, result.trace, notes);
}

// ---- state -------------------------------------------------------------------------------------

/** Drops empty lists and maps, and keys left with no state (the contract's encoding omits them). */
function normalizeState(entries: readonly KeyedStateEntry[]): Map<string, { vertex: string; key: string; state: { [name: string]: JsonValue } }> {
  const out = new Map<string, { vertex: string; key: string; state: { [name: string]: JsonValue } }>();
  for (const e of entries) {
    const state: { [name: string]: JsonValue } = {};
    for (const name of Object.keys(e.state).sort(cmpStr)) {
      const v = e.state[name] as JsonValue;
      if (Array.isArray(v) && v.length === 0) continue;
      if (typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).length === 0) continue;
      state[name] = v;
    }
    if (Object.keys(state).length === 0) continue;
    const id = `${e.vertex}\u0000${e.key}`;
    const prev = out.get(id);
    out.set(id, { vertex: e.vertex, key: e.key, state: { ...(prev?.state ?? {}), ...state } });
  }
  return out;
}

/**
 * The final keyed state equals the reference's, for every key the plan defines. Applies to
 * exactly-once runs that finished (result.finalState not null).
 */
export function checkState(ref: Reference, result: RunResult): CheckResult {
  if (result.finalState === null)
    return { check: "state", ok: true, message: `not applicable: the run reports no final state (job ${result.status})` };
  const skipVertex = new Map<string, string>();
  const skipKey = new Set<string>();
  for (const u of ref.undefinedState) {
    if (u.key === null) skipVertex.set(u.vertex, u.reason);
    else skipKey.add(`${u.vertex}\u0000${u.key}`);
  }
  const exp = normalizeState(ref.state);
  const got = normalizeState(result.finalState);
  const problems: Problem[] = [];
  const ids = [...new Set([...exp.keys(), ...got.keys()])].sort(cmpStr);
  let compared = 0;
  for (const id of ids) {
    const e = exp.get(id);
    const g = got.get(id);
    const { vertex, key } = (e ?? g) as { vertex: string; key: string };
    if (skipVertex.has(vertex) || skipKey.has(id)) continue;
    compared++;
    const where = `operator "${vertex}" key "${key}"`;
    if (e === undefined && g !== undefined) {
      problems.push({
        sentence: `${where}: state ${showRecord(g.state)}, expected none`,
        detail: { vertex, key, got: g.state, expected: null },
      });
    } else if (g === undefined && e !== undefined) {
      problems.push({
        sentence: `${where}: no state, expected ${showRecord(e.state)} (lost)`,
        detail: { vertex, key, got: null, expected: e.state },
      });
    } else if (e !== undefined && g !== undefined && canonicalJson(e.state) !== canonicalJson(g.state)) {
      problems.push({
        sentence: `${where}: state ${showRecord(g.state)}, expected ${showRecord(e.state)}`,
        detail: { vertex, key, got: g.state, expected: e.state },
      });
    }
  }
  const skipped = [...skipVertex.keys()].sort(cmpStr);
  const okMessage = `final keyed state matches the reference for ${plural(compared, "key")}${
    skipped.length + skipKey.size > 0 ? `; not compared: ${[...skipped.map((v) => `operator "${v}"`), ...(skipKey.size > 0 ? [plural(skipKey.size, "key") + " with order-dependent state"] : [])].join(", ")}` : ""
  }`;
  return outcome("state", problems, okMessage, result.trace);
}

// ---- checkpoint invariants ---------------------------------------------------------------------

type Pending = { readonly id: number; readonly attempt: number; readonly time: number };

/** Abort reasons Flink counts toward the tolerable failure number (the part of the reason before ":"). */
export const COUNTED_ABORT_REASONS: readonly string[] = ["expired", "declined", "io", "async-snapshot", "finalize-failed"];
/** How a job failure caused by the tolerable-failure threshold names its reason (Flink's EXCEEDED_CHECKPOINT_TOLERABLE_FAILURE_MESSAGE). */
export const TOLERABLE_FAILURE_REASON = "exceeded checkpoint tolerable failure threshold";

/**
 * Invariants of the checkpoint protocol over the trace:
 * - checkpoint ids strictly increase over the whole run (across restores), and completions too;
 * - every restore uses the latest checkpoint completed before it (null when none);
 * - no transaction commits for a checkpoint newer than the latest completed one;
 * - committed output is never taken back (no abort of a committed (tid, epoch), no second commit
 *   of one with different content);
 * - max concurrent: at a trigger, fewer than maxConcurrent checkpoints of the same attempt pend
 *   (a completion ends the older pending ones: they are subsumed and can no longer complete);
 * - min pause: a trigger comes at least minPauseMs after the previous completion in the attempt;
 * - timeout: no checkpoint completes after trigger + timeoutMs, and a checkpoint still pending
 *   then is aborted as expired by then (within 1 ms);
 * - tolerable failures, both ways, with the checker's own count (Flink's CheckpointFailureManager,
 *   from the abort reasons, not the engine's `counted` flag): an abort counts when its reason is
 *   one Flink counts (COUNTED_ABORT_REASONS), its checkpoint was triggered, is newer than the
 *   latest completed one and was not counted before. A newer completion resets the count, a job
 *   failure caused by the threshold resets it (Flink's clearCount before failJob), other failovers
 *   do not, and a new JobManager starts from zero. The engine's `counted` flag and its
 *   `checkpoint-failures` count must agree with that count; once it exceeds tolerableFailures the
 *   job fails (FAILED, or a failover as Flink's failJob does) before it triggers another
 *   checkpoint or finishes; and a job failure whose reason is the threshold needs the count to
 *   have exceeded it.
 * Pending checkpoints of an older attempt end at the failover.
 */
export function checkCheckpointInvariants(result: RunResult, config: JobConfigData): CheckResult {
  const cfg = config.checkpoint;
  const problems: Problem[] = [];
  const flag = (e: TraceEvent, rule: string, sentence: string, extra: { [k: string]: JsonValue } = {}): void => {
    problems.push({ sentence, detail: { rule, time: e.time, seq: e.seq, ...extra } });
  };
  const triggered = new Map<number, Pending>();
  const pending = new Map<number, Pending>();
  let maxTriggered: Pending | null = null;
  let latestDone: { id: number; time: number } | null = null;
  const lastCompletionInAttempt = new Map<number, { id: number; time: number }>();
  const committed = new Map<string, { digest: string; time: number }>();
  /** The checker's own failure count since the last completion, and the ids it counted. */
  const counted = new Set<number>();
  let exceeded: { attempt: number; time: number; count: number } | null = null;
  const clearCount = (): void => {
    counted.clear();
    exceeded = null;
  };
  /** A job failure (failover or FAILED) at e, for `reason`: one caused by the threshold needs the count to have exceeded it. */
  const jobFailed = (e: TraceEvent, reason: string): void => {
    if (!reason.startsWith(TOLERABLE_FAILURE_REASON)) {
      exceeded = null; // the job failed anyway; the count goes on (Flink keeps it across failovers)
      return;
    }
    if (exceeded === null)
      flag(
        e,
        "tolerable failures",
        `the job ${e.kind === "failover" ? "failed over" : "FAILED"} at ${ms(e.time)} for the tolerable-failure threshold, but only ${plural(counted.size, "counted checkpoint failure")} since the last completion${
          counted.size > 0 ? ` (${[...counted].sort((a, b) => a - b).join(", ")})` : ""
        } did not exceed tolerableFailures ${cfg.tolerableFailures}`,
      );
    clearCount(); // Flink clears the count when it fails the job
  };
  let attempt = 0;
  let horizon = result.endTimeMs;

  /** Checkpoints pending when their attempt ends (failover, restore) end with it; they must not have outlived their timeout. */
  const dropPending = (e: TraceEvent, beforeAttempt: number): void => {
    for (const p of [...pending.values()]) {
      if (p.attempt >= beforeAttempt) continue;
      const deadline = p.time + cfg.timeoutMs;
      if (e.time > deadline + EXPIRY_TOLERANCE_MS)
        flag(
          e,
          "timeout",
          `checkpoint ${p.id} triggered at ${ms(p.time)} was still pending at its timeout (${ms(deadline)}) and was never aborted as expired before the ${e.kind === "crash" ? "JobManager crash" : "failover"} at ${ms(e.time)}`,
          { id: p.id },
        );
      pending.delete(p.id);
    }
  };
  const endAttempt = (e: TraceEvent, newAttempt: number): void => {
    dropPending(e, newAttempt);
    if (newAttempt > attempt) {
      attempt = newAttempt;
      exceeded = null; // the attempt ended: the job did fail
    }
  };

  let completedCount = 0; // counted here rather than in another pass over the trace
  for (const e of result.trace) {
    if (e.kind === "checkpoint-completed") completedCount++;
    if (e.level !== "summary") continue;
    switch (e.kind) {
      case "checkpoint-triggered": {
        const id = num(e, "id");
        const att = num(e, "attempt") ?? attempt;
        if (id === null) break;
        if (att > attempt) endAttempt(e, att);
        if (maxTriggered !== null && id <= maxTriggered.id)
          flag(
            e,
            "ids increase",
            `checkpoint ${id} triggered at ${ms(e.time)} (attempt ${att}) reuses or lowers the id: checkpoint ${maxTriggered.id} was triggered at ${ms(maxTriggered.time)} (attempt ${maxTriggered.attempt})`,
            { id },
          );
        const same = [...pending.values()].filter((p) => p.attempt === att);
        if (same.length >= cfg.maxConcurrent)
          flag(
            e,
            "max concurrent",
            `checkpoint ${id} triggered at ${ms(e.time)} while ${plural(same.length, "checkpoint")} (${same.map((p) => p.id).join(", ")}) pended in attempt ${att}; maxConcurrent is ${cfg.maxConcurrent}`,
            { id, pending: same.map((p) => p.id) },
          );
        const last = lastCompletionInAttempt.get(att);
        if (last !== undefined && e.time + EPSILON_MS < last.time + cfg.minPauseMs)
          flag(
            e,
            "min pause",
            `checkpoint ${id} triggered at ${ms(e.time)}, only ${ms(e.time - last.time)} after checkpoint ${last.id} completed at ${ms(last.time)}; minPauseMs is ${cfg.minPauseMs}`,
            { id, previous: last.id },
          );
        if (exceeded !== null && exceeded.attempt === att)
          flag(
            e,
            "tolerable failures",
            `checkpoint ${id} triggered at ${ms(e.time)} although ${exceeded.count} counted checkpoint failures exceeded tolerableFailures ${cfg.tolerableFailures} at ${ms(exceeded.time)}; the job should have failed`,
            { id },
          );
        const p = { id, attempt: att, time: e.time };
        triggered.set(id, p);
        pending.set(id, p);
        if (maxTriggered === null || id > maxTriggered.id) maxTriggered = p;
        break;
      }
      case "checkpoint-completed": {
        const id = num(e, "id");
        if (id === null) break;
        const t = triggered.get(id);
        if (t === undefined) flag(e, "completed after trigger", `checkpoint ${id} completed at ${ms(e.time)} but was never triggered`, { id });
        if (latestDone !== null && id <= latestDone.id)
          flag(
            e,
            "completions increase",
            `checkpoint ${id} completed at ${ms(e.time)} after checkpoint ${latestDone.id} had completed at ${ms(latestDone.time)}`,
            { id },
          );
        if (t !== undefined && e.time > t.time + cfg.timeoutMs + EPSILON_MS)
          flag(
            e,
            "timeout",
            `checkpoint ${id} completed at ${ms(e.time)}, after its timeout at ${ms(t.time + cfg.timeoutMs)} (triggered at ${ms(t.time)}, timeoutMs ${cfg.timeoutMs}); it should have expired`,
            { id },
          );
        const att = t?.attempt ?? num(e, "attempt") ?? attempt;
        pending.delete(id);
        for (const p of [...pending.values()]) if (p.attempt === att && p.id < id) pending.delete(p.id); // subsumed
        if (latestDone === null || id > latestDone.id) latestDone = { id, time: e.time };
        lastCompletionInAttempt.set(att, { id, time: e.time });
        clearCount();
        break;
      }
      case "checkpoint-aborted": {
        const id = num(e, "id");
        if (id === null) break;
        const reason = str(e, "reason") ?? "";
        const isCounted = e.data["counted"] === true;
        const expired = reason.startsWith("expired");
        const p = pending.get(id);
        if (p !== undefined) {
          const deadline = p.time + cfg.timeoutMs;
          if (e.time > deadline + EXPIRY_TOLERANCE_MS)
            flag(
              e,
              "timeout",
              `checkpoint ${id} triggered at ${ms(p.time)} was still pending at its timeout (${ms(deadline)}) and was aborted only at ${ms(e.time)} (${reason || "no reason"})`,
              { id },
            );
          else if (expired && e.time < deadline - EXPIRY_TOLERANCE_MS)
            flag(e, "timeout", `checkpoint ${id} triggered at ${ms(p.time)} expired at ${ms(e.time)}, before its timeout at ${ms(deadline)}`, { id });
          pending.delete(id);
        }
        const head = (reason.split(":")[0] ?? "").trim();
        const countable = COUNTED_ABORT_REASONS.includes(head);
        const ownCounted = countable && triggered.has(id) && (latestDone === null || id > latestDone.id) && !counted.has(id);
        if (expired && !isCounted && ownCounted)
          flag(e, "failure counting", `checkpoint ${id} expired at ${ms(e.time)} but was not counted as a failure (Flink counts expired checkpoints)`, { id });
        else if (!countable && isCounted)
          flag(e, "failure counting", `checkpoint ${id} was aborted at ${ms(e.time)} (${reason || "no reason"}) and counted as a failure, which Flink does not count`, { id });
        else if (isCounted !== ownCounted)
          flag(
            e,
            "failure counting",
            `checkpoint ${id} aborted at ${ms(e.time)} (${reason || "no reason"}) was ${isCounted ? "" : "not "}counted as a failure, but Flink ${
              ownCounted ? "counts it" : `does not count it (${!triggered.has(id) ? "never triggered" : counted.has(id) ? "counted before" : `not newer than the latest completed checkpoint ${latestDone?.id ?? ""}`})`
            }`,
            { id },
          );
        if (ownCounted) {
          counted.add(id);
          if (counted.size > cfg.tolerableFailures && exceeded === null)
            exceeded = { attempt: p?.attempt ?? num(e, "attempt") ?? attempt, time: e.time, count: counted.size };
        }
        break;
      }
      case "checkpoint-failures": {
        const count = num(e, "count");
        if (count !== null && count !== counted.size)
          flag(
            e,
            "failure counting",
            `the JobManager counted ${plural(count, "checkpoint failure")} at ${ms(e.time)}, but ${plural(counted.size, "counted failure")} happened since ${
              latestDone === null ? "the start" : `checkpoint ${latestDone.id} completed`
            }${counted.size > 0 ? ` (${[...counted].sort((a, b) => a - b).join(", ")})` : ""}`,
            { count, expected: counted.size },
          );
        break;
      }
      case "restore": {
        const cp = e.data["checkpointId"];
        const att = num(e, "attempt") ?? attempt;
        endAttempt(e, att);
        const used = typeof cp === "number" ? cp : null;
        const want = latestDone?.id ?? null;
        if (used !== want)
          flag(
            e,
            "restore latest",
            `restore at ${ms(e.time)} (attempt ${att}) used ${used === null ? "no checkpoint" : `checkpoint ${used}`}, but the latest completed checkpoint was ${
              latestDone === null ? "none" : `${latestDone.id} (completed at ${ms(latestDone.time)})`
            }`,
            { used, latest: want },
          );
        break;
      }
      case "jm-recovered": {
        // A recovering JobManager takes as completed what is in the completed-checkpoint store
        // (Flink's HA store): a checkpoint whose metadata became durable just before the
        // JobManager crashed counts from here on, although nobody saw it complete.
        const ids = Array.isArray(e.data["checkpoints"]) ? (e.data["checkpoints"] as unknown[]).filter((x): x is number => typeof x === "number") : [];
        for (const id of ids) {
          if (!triggered.has(id)) flag(e, "completed after trigger", `checkpoint ${id} was recovered from storage at ${ms(e.time)} but was never triggered`, { id });
          if (latestDone === null || id > latestDone.id) latestDone = { id, time: e.time };
        }
        break;
      }
      case "crash": {
        // The coordinator lives on the JobManager: its pending checkpoints and its failure count die with it.
        if (e.node === "jm") {
          dropPending(e, Number.POSITIVE_INFINITY);
          clearCount();
        }
        break;
      }
      case "failover": {
        // Every checkpoint pending at a failover belongs to the failing attempt and ends here.
        const att = num(e, "attempt");
        jobFailed(e, str(e, "reason") ?? "");
        dropPending(e, Number.POSITIVE_INFINITY);
        if (att !== null) endAttempt(e, att);
        break;
      }
      case "job-status": {
        const status = str(e, "status");
        const att = num(e, "attempt");
        if (status === "FAILED") jobFailed(e, str(e, "reason") ?? "");
        else if (exceeded !== null && (status === "RESTARTING" || status === "CANCELED")) {
          exceeded = null;
        } else if (exceeded !== null && status === "FINISHED") {
          flag(
            e,
            "tolerable failures",
            `the job FINISHED at ${ms(e.time)} although ${exceeded.count} counted checkpoint failures exceeded tolerableFailures ${cfg.tolerableFailures} at ${ms(exceeded.time)}; it should have failed`,
          );
          exceeded = null;
        }
        if (att !== null && att > attempt) endAttempt(e, att);
        if (status === "FINISHED" || status === "FAILED" || status === "CANCELED") horizon = Math.min(horizon, e.time);
        break;
      }
      case "txn-committed": {
        const tid = str(e, "tid") ?? "?";
        const epoch = num(e, "epoch") ?? 0;
        const cp = num(e, "checkpointId");
        const digest = canonicalJson(e.data["digest"] ?? null);
        if (cp !== null && (latestDone === null || cp > latestDone.id))
          flag(
            e,
            "commit after completion",
            `transaction ${tid} (epoch ${epoch}) committed at ${ms(e.time)} for checkpoint ${cp}, but the latest completed checkpoint then was ${latestDone === null ? "none" : latestDone.id}`,
            { tid, epoch, checkpointId: cp },
          );
        const id = `${tid}\u0000${epoch}`;
        const prev = committed.get(id);
        if (prev !== undefined && prev.digest !== digest)
          flag(
            e,
            "commit once",
            `transaction ${tid} (epoch ${epoch}) committed again at ${ms(e.time)} with different content (digest ${digest}, first commit at ${ms(prev.time)} had ${prev.digest})`,
            { tid, epoch },
          );
        if (prev === undefined) committed.set(id, { digest, time: e.time });
        break;
      }
      case "txn-aborted": {
        const tid = str(e, "tid") ?? "?";
        const epoch = num(e, "epoch") ?? 0;
        const prev = committed.get(`${tid}\u0000${epoch}`);
        if (prev !== undefined)
          flag(
            e,
            "no take-back",
            `transaction ${tid} (epoch ${epoch}) was aborted at ${ms(e.time)} after it had been committed at ${ms(prev.time)}: committed output taken back`,
            { tid, epoch },
          );
        break;
      }
      default:
        break;
    }
  }
  for (const p of pending.values()) {
    const deadline = p.time + cfg.timeoutMs;
    if (horizon > deadline + EXPIRY_TOLERANCE_MS)
      problems.push({
        sentence: `checkpoint ${p.id} triggered at ${ms(p.time)} was still pending at its timeout (${ms(deadline)}) and was never aborted`,
        detail: { rule: "timeout", id: p.id, time: p.time },
      });
  }
  const stillExceeded = exceeded as { count: number; time: number } | null;
  if (stillExceeded !== null)
    problems.push({
      sentence: `${stillExceeded.count} counted checkpoint failures exceeded tolerableFailures ${cfg.tolerableFailures} at ${ms(stillExceeded.time)}, but the job never failed`,
      detail: { rule: "tolerable failures", time: stillExceeded.time },
    });
  return outcome(
    "checkpointInvariants",
    problems,
    `checkpoint invariants hold over ${plural(triggered.size, "triggered checkpoint")} (${completedCount} completed) and ${plural(committed.size, "committed transaction")}`,
    result.trace,
  );
}

// ---- transactions, liveness, determinism -------------------------------------------------------

/** No transaction is left open when the job FINISHED. */
export function checkNoOpenTransactions(result: RunResult): CheckResult {
  if (result.status !== "FINISHED")
    return { check: "noOpenTransactions", ok: true, message: `not applicable: the job ended ${result.status}, not FINISHED` };
  const open = result.openTransactions;
  if (open.length === 0) return { check: "noOpenTransactions", ok: true, message: "no transaction is open at the end of the finished job" };
  const first = open[0] as { tid: string; epoch: number };
  return {
    check: "noOpenTransactions",
    ok: false,
    message: `transaction ${first.tid} (epoch ${first.epoch}) is still open after the job FINISHED${open.length > 1 ? ` (${open.length} open in all)` : ""}; ${describeContext(result.trace)}`,
    details: { open: open.slice(0, MAX_DETAILS).map((t) => ({ tid: t.tid, epoch: t.epoch })), total: open.length },
  };
}

function chaosActive(faults: FaultPlan): boolean {
  const c = { ...defaultChaos, ...(faults.chaos ?? {}) };
  return c.rpcLossProbability > 0 || c.storageWriteFailureProbability > 0 || c.buggify;
}

/** When the last fault ended: from the plan, or from the trace for faults triggered by events. */
export function faultsEndMs(faults: FaultPlan, trace: readonly TraceEvent[]): number {
  const planned = faultPlanEndMs(faults);
  if (planned !== undefined) return planned;
  let end = 0;
  for (const e of trace) if (e.kind === "fault" || e.kind === "fault-end" || e.kind === "restart") end = Math.max(end, e.time);
  return end;
}

/**
 * Liveness: the job reached the expected status (FINISHED unless the scenario expects FAILED), no
 * simulation bound was exceeded, and it ended within `boundMs` of the last fault. With background
 * chaos the faults never stop, so the time bound is not applied.
 */
export function checkLiveness(result: RunResult, faults: FaultPlan, boundMs: number, expectedStatus: "FINISHED" | "FAILED" = "FINISHED"): CheckResult {
  // The context (three passes over the trace) is described only when the check fails.
  if (result.boundExceeded !== null)
    return {
      check: "liveness",
      ok: false,
      message: `the run exceeded its ${result.boundExceeded} bound at ${ms(result.endTimeMs)} after ${result.events} events with the job ${result.status}${
        result.failureReason !== null ? ` (${result.failureReason})` : ""
      }; ${describeContext(result.trace)}`,
      details: { boundExceeded: result.boundExceeded, endTimeMs: result.endTimeMs, status: result.status },
    };
  if (result.status !== expectedStatus)
    return {
      check: "liveness",
      ok: false,
      message: `the job ended ${result.status} at ${ms(result.endTimeMs)}, expected ${expectedStatus}${result.failureReason !== null ? ` (${result.failureReason})` : ""}; ${describeContext(result.trace)}`,
      details: { status: result.status, expected: expectedStatus, endTimeMs: result.endTimeMs },
    };
  if (chaosActive(faults))
    return { check: "liveness", ok: true, message: `the job ${expectedStatus} at ${ms(result.endTimeMs)} (background chaos never stops, so no time bound applies)` };
  const end = faultsEndMs(faults, result.trace);
  if (result.endTimeMs > end + boundMs)
    return {
      check: "liveness",
      ok: false,
      message: `the job ${expectedStatus} only at ${ms(result.endTimeMs)}, more than ${ms(boundMs)} after the last fault ended at ${ms(end)}; ${describeContext(result.trace)}`,
      details: { endTimeMs: result.endTimeMs, faultsEndMs: end, boundMs },
    };
  return {
    check: "liveness",
    ok: true,
    message: `the job ${expectedStatus} at ${ms(result.endTimeMs)}, within ${ms(boundMs)} of the last fault (${ms(end)})`,
  };
}

const eventLine = (e: TraceEvent): string => `${ms(e.time)} ${e.node} ${e.kind} ${canonicalJson(e.data)}`;

/** Two runs of the same scenario give the same trace hash. */
export function checkDeterminism(a: RunResult, b: RunResult): CheckResult {
  if (a.traceHash === b.traceHash)
    return { check: "determinism", ok: true, message: `both runs have trace hash ${a.traceHash}` };
  const sa = a.trace.filter((e) => e.level === "summary");
  const sb = b.trace.filter((e) => e.level === "summary");
  let i = 0;
  while (i < sa.length && i < sb.length && eventLine(sa[i] as TraceEvent) === eventLine(sb[i] as TraceEvent)) i++;
  const da = sa[i];
  const db = sb[i];
  const where =
    da === undefined && db === undefined
      ? "the recorded traces agree (the difference is in unrecorded events)"
      : `first difference at summary event ${i}: ${da === undefined ? "(end)" : eventLine(da)} vs ${db === undefined ? "(end)" : eventLine(db)}`;
  return {
    check: "determinism",
    ok: false,
    message: `two runs of the same scenario gave different trace hashes ${a.traceHash} and ${b.traceHash}; ${where}`,
    details: { hashes: [a.traceHash, b.traceHash], firstDifference: i },
  };
}

// ---- judge -------------------------------------------------------------------------------------

/** Default liveness bound: the job must end within this long after the last fault. */
export const DEFAULT_LIVENESS_BOUND_MS = 120_000;

export type JudgeOptions = {
  readonly plan: Plan;
  readonly result: RunResult;
  readonly config: JobConfigData;
  readonly faults: FaultPlan;
  /** The reference; computed from `inputs` and `registry` when omitted. */
  readonly reference?: Reference;
  readonly inputs?: Inputs;
  /** Registry for the reference (default: the builtins). */
  readonly registry?: Registry;
  /** The scenario's expectation: its explicit checks and expected job status. */
  readonly expect?: Expectation;
  /** Liveness bound after the last fault, in ms (default DEFAULT_LIVENESS_BOUND_MS). */
  readonly livenessBoundMs?: number;
  /** A second run of the same scenario, for the determinism check. */
  readonly rerun?: RunResult;
};

export type Judgement = {
  readonly verdict: Verdict;
  readonly results: readonly CheckResult[];
  /** One line: the verdict and the first failing check's message. */
  readonly summary: string;
};

/** Which checks apply by default: output checks from the sinks and the mode, and the rest always. */
export function defaultChecks(plan: Plan, config: JobConfigData, hasRerun: boolean): CheckName[] {
  const exactly = config.checkpoint.mode === "EXACTLY_ONCE";
  const sinks = plan.nodes.filter((n) => n.kind === "sink");
  const checks: CheckName[] = [];
  if (exactly && sinks.some((s) => s.sink !== "plain")) checks.push("exactlyOnce");
  if (!exactly || sinks.some((s) => s.sink === "plain")) checks.push("noLoss");
  if (exactly) checks.push("state");
  checks.push("checkpointInvariants", "noOpenTransactions", "liveness");
  if (hasRerun) checks.push("determinism");
  return checks;
}

/**
 * Runs the checks that apply and gives the verdict. Exactly-once covers the 2PC and upsert sinks
 * of an EXACTLY_ONCE run; no-loss covers plain sinks and every sink of an AT_LEAST_ONCE run; the
 * state check runs for EXACTLY_ONCE runs; invariants, open transactions and liveness always.
 * Output checks of a job that did not finish are safety-only (exactly-once) or not applicable.
 */
export function judge(o: JudgeOptions): Judgement {
  const checks = o.expect?.checks ?? defaultChecks(o.plan, o.config, o.rerun !== undefined);
  const needsRef = checks.includes("exactlyOnce") || checks.includes("noLoss") || checks.includes("state");
  let ref = o.reference;
  if (ref === undefined && needsRef) {
    assert(o.inputs !== undefined, "judge needs the inputs (or a reference) to compute the expected output");
    ref = interpret(o.plan, o.inputs, o.registry ?? builtins);
  }
  const exactly = o.config.checkpoint.mode === "EXACTLY_ONCE";
  const sinks = o.plan.nodes.filter((n) => n.kind === "sink");
  const finished = o.result.status === "FINISHED";
  const results: CheckResult[] = [];
  for (const check of checks) {
    switch (check) {
      case "exactlyOnce": {
        assert(ref !== undefined, "reference computed");
        // Explicit checks cover every sink (a scenario may show that a plain sink is not exactly-once).
        const scope = sinks.filter((s) => o.expect?.checks !== undefined || s.sink !== "plain").map((s) => s.id);
        results.push(checkExactlyOnce(ref, o.result, o.plan, { sinks: scope }));
        break;
      }
      case "noLoss": {
        assert(ref !== undefined, "reference computed");
        const explicit = o.expect?.checks !== undefined;
        const scope = sinks.filter((s) => explicit || !exactly || s.sink === "plain").map((s) => s.id);
        results.push(
          finished
            ? checkNoLoss(ref, o.result, o.plan, { sinks: scope })
            : { check: "noLoss", ok: true, message: `not applicable: the job ended ${o.result.status}, so its output is incomplete` },
        );
        break;
      }
      case "state":
        assert(ref !== undefined, "reference computed");
        results.push(checkState(ref, o.result));
        break;
      case "checkpointInvariants":
        results.push(checkCheckpointInvariants(o.result, o.config));
        break;
      case "noOpenTransactions":
        results.push(checkNoOpenTransactions(o.result));
        break;
      case "liveness":
        results.push(checkLiveness(o.result, o.faults, o.livenessBoundMs ?? DEFAULT_LIVENESS_BOUND_MS, o.expect?.jobStatus ?? "FINISHED"));
        break;
      case "determinism":
        results.push(
          o.rerun === undefined
            ? { check: "determinism", ok: false, message: "the determinism check needs a second run of the same scenario, and none was given" }
            : checkDeterminism(o.result, o.rerun),
        );
        break;
    }
  }
  const failed = results.filter((r) => !r.ok);
  const verdict: Verdict = failed.length === 0 ? "pass" : "fail";
  const first = failed[0];
  const summary =
    first === undefined
      ? `pass: ${results.map((r) => r.check).join(", ")} hold`
      : `fail: ${first.check}: ${first.message}${failed.length > 1 ? ` (also failing: ${failed.slice(1).map((r) => r.check).join(", ")})` : ""}`;
  return { verdict, results, summary };
}
