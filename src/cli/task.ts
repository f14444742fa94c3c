/**
 * The unit of work of `run`, `sweep` and `start`: one scenario or one generated case in, one
 * RunRecord (and, for a failing case, its shrunk counterexample as scenario-file text) out. Plain
 * data both ways, so a task runs the same in this thread or in a worker thread.
 */
import type { FaultIntensity } from "../gen/index.ts";
import type { RunRecord } from "../report/types.ts";
import type { CheckName, Scenario } from "../scenario.ts";
import type { CaseResult, Outcome } from "./generate.ts";
import { DEFAULT_FAULT_LEVEL, checkCase, judgeSafely } from "./generate.ts";
import { shellQuote } from "./io.ts";
import { errorRecord, toRunRecord } from "../report/record.ts";

export type ScenarioTask = {
  readonly kind: "scenario";
  /** Record id (the scenario name, made unique by the caller). */
  readonly id: string;
  readonly scenario: Scenario;
  /** The file it came from, as printed in the replay command. */
  readonly file: string;
  /** Keep the timeline even when the run passes. */
  readonly timeline: boolean;
};

export type CaseTask = {
  readonly kind: "case";
  /** Run index within the sweep. */
  readonly index: number;
  /** The case seed (caseSeed(sweep seed, index)). */
  readonly seed: number;
  readonly faults: FaultIntensity;
  readonly shrinkRuns: number;
  /** Where a counterexample goes, as printed (e.g. "reports/2026-11-24T10-31-07"). */
  readonly outDir: string;
  /** Names the counterexample scenario: "sweep-<dateTag>-seed-<seed>". */
  readonly dateTag: string;
  /** The sweep's command and seed, for the counterexample's description. */
  readonly sweepSeed: number;
};

export type Task = ScenarioTask | CaseTask;

export type TaskResult = {
  readonly record: RunRecord;
  /**
   * A failing generated case: its shrunk scenario, to be written at `path` (by the caller, so
   * workers need not load the scenario-file schema).
   */
  readonly counterexample?: { readonly path: string; readonly scenario: Scenario };
};

function recordOf(o: Outcome, opts: Parameters<typeof toRunRecord>[1]): RunRecord {
  return o.checked !== undefined ? toRunRecord(o.checked, { ...opts, wallMs: o.wallMs }) : errorRecord(o.scenario, o.error, { ...opts, wallMs: o.wallMs });
}

/** `npx streamsim replay --seed N [--faults level]`. */
export function seedReplayCommand(seed: number, faults: FaultIntensity, path?: string): string {
  return `npx streamsim replay --seed ${seed}${faults === DEFAULT_FAULT_LEVEL ? "" : ` --faults ${faults}`}${path !== undefined && path !== "0" ? ` --path ${path}` : ""}`;
}

export function fileReplayCommand(file: string): string {
  return `npx streamsim replay ${shellQuote(file)}`;
}

function countRecords(s: Scenario): number {
  let n = 0;
  for (const t of s.inputs) for (const p of t.partitions) n += p.length;
  return n;
}

/** "4 records, 1 fault". */
export function scenarioSize(s: Scenario): string {
  const r = countRecords(s);
  const f = s.faults.faults.length;
  return `${r} ${r === 1 ? "record" : "records"}, ${f} ${f === 1 ? "fault" : "faults"}`;
}

function runScenarioTask(t: ScenarioTask): TaskResult {
  const o = judgeSafely(t.scenario);
  return { record: recordOf(o, { id: t.id, timeline: t.timeline, replayCommand: fileReplayCommand(t.file) }) };
}

function runCaseTask(t: CaseTask): TaskResult {
  return caseTaskResult(t, checkCase(t.seed, t.faults, t.shrinkRuns));
}

/** The record of a generated case, and for a failing one its shrunk counterexample scenario. */
export function caseTaskResult(t: CaseTask, result: CaseResult): TaskResult {
  const id = `run-${t.index}`;
  if (result.shrunk === undefined) {
    return { record: recordOf(result.original, { id, seed: t.seed, replayCommand: seedReplayCommand(t.seed, t.faults) }) };
  }
  const { outcome, path, numShrinks, minimizeRuns } = result.shrunk;
  const file = `${t.outDir}/counterexample-${t.index}.json`;
  const failing: CheckName | undefined = outcome.checked?.judgement.results.find((c) => !c.ok)?.check;
  const summary = outcome.checked?.judgement.summary ?? `the run threw ${outcome.error instanceof Error ? outcome.error.message : String(outcome.error)}`;
  const counterexample: Scenario = {
    ...outcome.scenario,
    name: `sweep-${t.dateTag}-seed-${t.seed}`,
    description:
      `Counterexample found by streamsim sweep --seed ${t.sweepSeed} (run ${t.index}, case seed ${t.seed}, faults ${t.faults}), ` +
      `shrunk ${numShrinks} times (fast-check path ${path})${minimizeRuns > 0 ? `, then minimized in ${minimizeRuns} runs` : ""}. ${summary.replace(/[\r\n]+/g, " ")} ` +
      `It records the failure as found; once fixed, set expect.verdict to "pass" and drop expect.traceHash and expect.failingCheck.`,
    expect: {
      verdict: "fail",
      ...(failing !== undefined ? { failingCheck: failing } : {}),
      ...(outcome.checked !== undefined ? { traceHash: outcome.checked.result.traceHash } : {}),
    },
  };
  // The record judges the shrunk case against what the generated case declared (pass).
  const record = recordOf(outcome, {
    id,
    seed: t.seed,
    note: `run ${t.index} (case seed ${t.seed}) shrunk ${numShrinks} ${numShrinks === 1 ? "time" : "times"} to ${scenarioSize(outcome.scenario)}`,
    counterexamplePath: file,
    replayCommand: fileReplayCommand(file),
  });
  return { record, counterexample: { path: file, scenario: counterexample } };
}

export function runTask(t: Task): TaskResult {
  return t.kind === "scenario" ? runScenarioTask(t) : runCaseTask(t);
}

/** A batch of tasks (what a worker receives at a time). */
export function runTasks(tasks: readonly Task[]): TaskResult[] {
  return tasks.map(runTask);
}
