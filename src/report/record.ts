/**
 * From a judged run to a RunRecord (what the reports read), and the comparison of a run with what
 * its scenario declares (verdict, failing check, job status, trace hash). The one builder of run
 * records: the command line (src/cli) and the property runner (src/testing) both use it.
 */
import type { CheckpointStats, RunResult } from "../engine/result.ts";
import type { Registry } from "../engine/plan/registry.ts";
import { builtins } from "../engine/plan/registry.ts";
import { bag } from "../oracle/checkers.ts";
import { interpret } from "../oracle/reference.ts";
import type { OutputDiff, RunRecord } from "./types.ts";
import { faultsFromTrace, maxAlignment, timelineFromTrace } from "./types.ts";
import type { CheckedRun } from "../runner/check.ts";
import type { CheckName, Expectation, Scenario } from "../scenario.ts";
import type { JsonValue } from "../sim/trace.ts";

/** People's names of the checks. */
export const CHECK_LABELS: Readonly<Record<CheckName, string>> = {
  exactlyOnce: "exactly-once",
  noLoss: "no-loss",
  state: "state",
  checkpointInvariants: "checkpoint invariants",
  noOpenTransactions: "no open transactions",
  liveness: "liveness",
  determinism: "determinism",
};

export function checkLabel(check: string): string {
  return (CHECK_LABELS as Record<string, string>)[check] ?? check;
}

/**
 * Ways a run differs from what its scenario declares (empty: as expected). Without a declaration
 * a run is expected to pass.
 */
export function expectationMismatches(expect: Expectation | undefined, checked: CheckedRun): string[] {
  const out: string[] = [];
  const verdict = checked.judgement.verdict;
  const expected = expect?.verdict ?? "pass";
  if (verdict !== expected) out.push(`verdict ${verdict}, declared ${expected}`);
  if (expect?.failingCheck !== undefined) {
    const r = checked.judgement.results.find((c) => c.check === expect.failingCheck);
    if (r === undefined) out.push(`${expect.failingCheck} was declared to fail but was not checked`);
    else if (r.ok) out.push(`${expect.failingCheck} was declared to fail but held`);
  }
  if (expect?.jobStatus !== undefined && checked.result.status !== expect.jobStatus)
    out.push(`job ended ${checked.result.status}, declared ${expect.jobStatus}`);
  if (expect?.traceHash !== undefined && checked.result.traceHash !== expect.traceHash)
    out.push(`trace hash ${checked.result.traceHash} does not match the recorded ${expect.traceHash}`);
  return out;
}

/** Most values kept per category of an output difference (the HTML shows fewer). */
const MAX_DIFF_VALUES = 200;

/**
 * Expected against committed output, per sink whose expected output is a multiset (records) or a
 * table (upsert rows); sinks whose per-record output depends on arrival order are left out (the
 * exactly-once check's message says what is wrong with them).
 */
export function outputDiff(scenario: Scenario, result: RunResult, registry: Registry = builtins): OutputDiff[] {
  const ref = interpret(scenario.plan, scenario.inputs, registry);
  const out: OutputDiff[] = [];
  for (const exp of ref.sinks) {
    const got = result.sinks.find((s) => s.vertex === exp.vertex);
    if (got === undefined || exp.mode === "undefined") continue;
    let expected: JsonValue[];
    let committed: JsonValue[];
    if (exp.kind === "upsert") {
      if (exp.table === null || got.table === undefined) continue;
      expected = exp.table.filter((r) => r.defined).map((r) => [r.key, r.value]);
      const definedKeys = new Set(exp.table.filter((r) => r.defined).map((r) => r.key));
      const allKeys = new Set(exp.table.map((r) => r.key));
      committed = got.table.filter(([k]) => definedKeys.has(k) || !allKeys.has(k)).map(([k, v]) => [k, v]);
    } else if (exp.mode === "multiset") {
      expected = [...exp.records];
      committed = [...got.committed];
    } else continue;
    const e = bag(expected);
    const g = bag(committed);
    const missing: JsonValue[] = [];
    const duplicated: JsonValue[] = [];
    const unexpected: JsonValue[] = [];
    const complete = result.status === "FINISHED";
    for (const [k, x] of [...e.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
      const c = g.get(k)?.count ?? 0;
      if (complete) for (let i = c; i < x.count && missing.length < MAX_DIFF_VALUES; i++) missing.push(x.value);
    }
    for (const [k, x] of [...g.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
      const want = e.get(k)?.count ?? 0;
      if (want === 0) {
        for (let i = 0; i < x.count && unexpected.length < MAX_DIFF_VALUES; i++) unexpected.push(x.value);
      } else for (let i = want; i < x.count && duplicated.length < MAX_DIFF_VALUES; i++) duplicated.push(x.value);
    }
    if (missing.length + duplicated.length + unexpected.length > 0) out.push({ sink: exp.vertex, missing, duplicated, unexpected });
  }
  return out;
}

export type RecordOptions = {
  /** "run-37", or the scenario name. */
  readonly id: string;
  /** Defaults to the scenario's seed. */
  readonly seed?: number;
  /** Keep the timeline (chosen runs; failing runs always keep theirs). */
  readonly timeline?: boolean;
  readonly replayCommand: string;
  readonly counterexamplePath?: string;
  readonly wallMs?: number;
  /** Prefixed to the summary sentence ("shrunk 12 times"). */
  readonly note?: string;
  readonly registry?: Registry;
};

function joinSummary(note: string | undefined, text: string): string {
  return note === undefined || note === "" ? text : `${note}: ${text}`;
}

/**
 * A checkpoint's statistics with only its longest alignment (what the summaries use) instead of
 * one per subtask: for runs without details, whose per-subtask alignments no report shows. They
 * were 90% of a long sweep's results.json (258 MB for 40,000 runs).
 */
function longestAlignmentOnly(c: CheckpointStats): CheckpointStats {
  const a = maxAlignment(c);
  return { ...c, alignmentMs: a === null ? {} : { [a.subtask]: a.ms } };
}

/** The RunRecord of a judged run. */
export function toRunRecord(checked: CheckedRun, opts: RecordOptions): RunRecord {
  const { scenario, result, judgement } = checked;
  const mismatches = expectationMismatches(scenario.expect, checked);
  const asExpected = mismatches.length === 0;
  const failing = judgement.verdict === "fail" || !asExpected;
  let diff: OutputDiff[] | undefined;
  if (failing) {
    try {
      diff = outputDiff(scenario, result, opts.registry);
    } catch {
      diff = undefined;
    }
  }
  const summary =
    `${judgement.summary}; job ${result.status} at ${Number(result.endTimeMs.toFixed(1))} ms` +
    (asExpected ? "" : `; not as declared: ${mismatches.join("; ")}`);
  return {
    id: opts.id,
    name: scenario.name,
    seed: opts.seed ?? scenario.seed,
    verdict: judgement.verdict,
    ...(scenario.expect !== undefined ? { expected: scenario.expect.verdict } : {}),
    asExpected,
    summary: joinSummary(opts.note, summary),
    checks: judgement.results.map((c) => ({ check: c.check, ok: c.ok, message: c.message })),
    traceHash: result.traceHash,
    status: result.status,
    durationMs: result.endTimeMs,
    ...(opts.wallMs !== undefined ? { wallMs: opts.wallMs } : {}),
    checkpoints: opts.timeline === true || failing ? result.checkpoints : result.checkpoints.map(longestAlignmentOnly),
    faults: faultsFromTrace(result.trace),
    restores: result.restores,
    ...(opts.timeline === true || failing ? { timeline: timelineFromTrace(result.trace) } : {}),
    ...(diff !== undefined && diff.length > 0 ? { outputDiff: diff } : {}),
    ...(opts.counterexamplePath !== undefined ? { counterexamplePath: opts.counterexamplePath } : {}),
    replayCommand: opts.replayCommand,
  };
}

/** The RunRecord of a run that threw (an engine bug or an invalid scenario): a failure that names the error. */
export function errorRecord(scenario: Scenario, error: unknown, opts: RecordOptions): RunRecord {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  const oneLine = message.replace(/[\r\n]+/g, " ");
  return {
    id: opts.id,
    name: scenario.name,
    seed: opts.seed ?? scenario.seed,
    verdict: "fail",
    ...(scenario.expect !== undefined ? { expected: scenario.expect.verdict } : {}),
    asExpected: false,
    summary: joinSummary(opts.note, `the run threw ${oneLine}`),
    checks: [{ check: "run", ok: false, message: `the run threw ${oneLine}` }],
    traceHash: "",
    status: "ERROR",
    durationMs: 0,
    ...(opts.wallMs !== undefined ? { wallMs: opts.wallMs } : {}),
    checkpoints: [],
    faults: [],
    restores: [],
    ...(opts.counterexamplePath !== undefined ? { counterexamplePath: opts.counterexamplePath } : {}),
    replayCommand: opts.replayCommand,
  };
}
