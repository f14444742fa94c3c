/**
 * Scenario properties with failures people can use (USER-JOURNEYS.md, journey 1).
 *
 * `assertScenarioProperty(name, arb, { numRuns })` runs fast-check over generated scenarios, runs
 * and judges each one (runAndJudge), and when a run fails: shrinks it, saves the shrunk scenario as
 * a file that replays without the generators (`reports/<runId>/counterexample-<n>.json`, its
 * expected verdict and trace hash recorded), writes the reports of that run with its timeline into
 * the same directory, and throws an Error whose message says what went wrong in one sentence,
 * where the counterexample is, and the command that replays it:
 *
 *   streamsim: exactly-once violated (run 37 of 200, shrunk 12 times)
 *     sink "out": record {"key":"k0","value":3} committed 2 times, expected 1 (duplicated); ...
 *     property        EXACTLY_ONCE with a 2PC sink is exactly-once, seed 42 (rerun: STREAMSIM_SEED=42)
 *     counterexample  reports/2026-11-24T10-31-07-exactly-once/counterexample-37.json  (4 records, 1 fault)
 *     replay          npx streamsim replay reports/2026-11-24T10-31-07-exactly-once/counterexample-37.json
 *     timeline        reports/2026-11-24T10-31-07-exactly-once/index.html#run-37
 *
 * The seed is `options.seed`, else the environment variable STREAMSIM_SEED, else a fixed default,
 * so CI runs are reproducible and a failure can be rerun with the seed it printed.
 *
 * Real time and files are fine here (src/testing is outside the simulated world).
 */
import fc from "fast-check";
import { mkdirSync, writeFileSync } from "node:fs"; // determinism-ok: writes counterexample and report files, outside the simulation
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import type { Registry } from "../engine/plan/registry.ts";
import { computeTotals, runAnchor, writeReports } from "../report/index.ts";
import { toRunRecord } from "../report/record.ts";

import type { RunSet } from "../report/index.ts";
import { minimizeScenario } from "../gen/minimize.ts";
import { runAndJudge } from "../runner/check.ts";
import type { CheckedRun } from "../runner/check.ts";
import type { CheckName, Expectation, Scenario } from "../scenario.ts";
import { serializeScenario } from "../scenario-schema.ts";

// ---- seeds -------------------------------------------------------------------------------------

/** The seed of a property when neither the options nor STREAMSIM_SEED give one (CI reproducibility). */
export const DEFAULT_PROPERTY_SEED = 42;

/** The environment variable that sets the seed of every scenario property. */
export const SEED_ENV = "STREAMSIM_SEED";

/** `explicit`, else STREAMSIM_SEED (an integer), else DEFAULT_PROPERTY_SEED. */
export function propertySeed(explicit?: number, env: Readonly<Record<string, string | undefined>> = process.env): number {
  if (explicit !== undefined) {
    if (!Number.isSafeInteger(explicit)) throw new RangeError(`property seed must be an integer, got ${explicit}`);
    return explicit;
  }
  const text = env[SEED_ENV];
  if (text === undefined || text.trim() === "") return DEFAULT_PROPERTY_SEED;
  const n = Number(text.trim());
  if (!/^-?\d+$/.test(text.trim()) || !Number.isSafeInteger(n)) throw new RangeError(`${SEED_ENV} must be an integer, got ${JSON.stringify(text)}`);
  return n;
}

// ---- verdicts ----------------------------------------------------------------------------------

/** What a property says of one run: like a CheckResult (a CheckResult is one). */
export type PropertyVerdict = {
  readonly ok: boolean;
  /** One sentence for people. */
  readonly message: string;
  /** The check that failed, if the verdict comes from one. */
  readonly check?: CheckName;
};

/** A property over checked runs; the default is the oracle's judgement. */
export type PropertyCheck = (run: CheckedRun) => PropertyVerdict;

/** The oracle's verdict: ok when every check held, else the first failing check and its sentence. */
export function oracleVerdict(run: CheckedRun): PropertyVerdict {
  const failed = run.judgement.results.filter((r) => !r.ok);
  const first = failed[0];
  if (first === undefined) return { ok: true, message: run.judgement.summary };
  const also = failed.length > 1 ? ` (also failing: ${failed.slice(1).map((r) => r.check).join(", ")})` : "";
  return { ok: false, check: first.check, message: first.message + also };
}

/** The verdict of only the named checks of the judgement (e.g. ["noLoss", "checkpointInvariants", "liveness"]). */
export function checksVerdict(checks: readonly CheckName[]): PropertyCheck {
  return (run) => {
    const failed = run.judgement.results.find((r) => checks.includes(r.check) && !r.ok);
    if (failed !== undefined) return { ok: false, check: failed.check, message: failed.message };
    const missing = checks.filter((c) => !run.judgement.results.some((r) => r.check === c));
    if (missing.length > 0) return { ok: false, message: `the judgement has no result for ${missing.join(", ")}: the property asks for checks that did not run` };
    return { ok: true, message: `${checks.join(", ")} hold` };
  };
}

const HEADLINES: Readonly<Record<CheckName, string>> = {
  exactlyOnce: "exactly-once violated",
  noLoss: "records lost",
  state: "final keyed state wrong",
  checkpointInvariants: "checkpoint invariant violated",
  noOpenTransactions: "transaction left open",
  liveness: "liveness violated",
  determinism: "run not deterministic",
};

/** "exactly-once violated", "records lost", ...; "the run threw" for an exception. */
export function headline(verdict: PropertyVerdict, threw: boolean): string {
  if (threw) return "the run threw";
  return verdict.check === undefined ? "property violated" : HEADLINES[verdict.check];
}

// ---- the property runner -----------------------------------------------------------------------

export type ScenarioPropertyOptions = {
  /** Generated runs (fast-check's numRuns). */
  readonly numRuns: number;
  /** Seed of the generator; default STREAMSIM_SEED, else DEFAULT_PROPERTY_SEED. */
  readonly seed?: number;
  /** The property over each checked run (default: the oracle's verdict, every applicable check). */
  readonly check?: PropertyCheck;
  /** Functions the plans name (default the builtins). */
  readonly registry?: Registry;
  /** Run every scenario twice and check the trace hashes agree (the determinism check). */
  readonly determinism?: boolean;
  /** Liveness bound after the last fault, in ms (default the oracle's). */
  readonly livenessBoundMs?: number;
  /** Where report directories go (default "reports", relative to the working directory); false: write no files. */
  readonly reportDir?: string | false;
  /** The report directory's name under reportDir (default: the time and the property's name). */
  readonly runId?: string;
  /**
   * The replay command for a saved counterexample (default `npx streamsim replay <file>`). Plans
   * with closures cannot replay from a file alone: give e.g. a command that reruns the test with
   * STREAMSIM_SEED set.
   */
  readonly replayCommand?: (counterexamplePath: string, seed: number) => string;
  /** Called with every checked run, shrinking attempts included (e.g. to count fault paths). */
  readonly onRun?: (run: CheckedRun) => void;
  /**
   * Most runs spent shrinking a failure (default DEFAULT_MAX_SHRINK_RUNS). Each shrink candidate is
   * a whole simulation, and fast-check may try thousands; past the budget every further candidate
   * counts as passing, so shrinking stops at the smallest failure found so far (deterministically).
   */
  readonly maxShrinkRuns?: number;
  /**
   * Most runs of the second shrinking pass, which drops faults and records from the shrunk scenario
   * itself (default DEFAULT_MAX_MINIMIZE_RUNS; 0 turns it off).
   */
  readonly maxMinimizeRuns?: number;
};

/** Default budget of runs spent shrinking one failure (a few seconds of simulations). */
export const DEFAULT_MAX_SHRINK_RUNS = 1500;

/** Default budget of runs of the second shrinking pass (minimizeScenario) on the shrunk scenario. */
export const DEFAULT_MAX_MINIMIZE_RUNS = 800;

/** A failed property's shrunk counterexample and where it was saved. */
export type ScenarioCounterexample = {
  readonly property: string;
  readonly seed: number;
  /** The generated run that failed first (1-based), of `numRuns`. */
  readonly runIndex: number;
  readonly numRuns: number;
  readonly numShrinks: number;
  /** The shrunk scenario, with the expectation recorded (verdict, failing check, trace hash). */
  readonly scenario: Scenario;
  /** Its checked run; undefined when running it threw. */
  readonly run: CheckedRun | undefined;
  readonly verdict: PropertyVerdict;
  /** What running it threw, if it did. */
  readonly error?: unknown;
  /** Input records of the scenario over all topics. */
  readonly records: number;
  readonly faults: number;
  /** The saved scenario file, relative to the working directory when under it. */
  readonly counterexamplePath?: string;
  /** The report directory, likewise. */
  readonly reportPath?: string;
  readonly replayCommand?: string;
  /** The people-message (what assertScenarioProperty throws). */
  readonly message: string;
};

const MAX_SLUG = 40;

function slug(name: string): string {
  const s = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
  return (s.slice(0, MAX_SLUG).replace(/-+$/, "") || "property");
}

/** "2026-11-24T10-31-07-exactly-once-with-2pc-sinks": the time (UTC) and the property's name. */
export function defaultRunId(name: string, now: Date = new Date()): string { // determinism-ok: names a report folder; no simulated value depends on it
  return `${now.toISOString().slice(0, 19).replace(/:/g, "-")}-${slug(name)}`;
}

/** A path as people type it: relative to the working directory when under it, with forward slashes. */
function shownPath(p: string): string {
  const abs = resolve(p);
  const rel = relative(process.cwd(), abs);
  const shown = rel !== "" && !rel.startsWith("..") && !isAbsolute(rel) ? rel : abs;
  return shown.split(sep).join("/");
}

export function countRecords(s: Scenario): number {
  let n = 0;
  for (const t of s.inputs) for (const p of t.partitions) n += p.length;
  return n;
}

const plural = (n: number, one: string, many = one + "s"): string => `${n} ${n === 1 ? one : many}`;

function errorText(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return String(e);
}

type Outcome = { readonly run: CheckedRun | undefined; readonly verdict: PropertyVerdict; readonly error?: unknown };

function judgeScenario(s: Scenario, o: ScenarioPropertyOptions, check: PropertyCheck): Outcome {
  try {
    const run = runAndJudge(s, {
      ...(o.registry !== undefined ? { registry: o.registry } : {}),
      ...(o.determinism === true ? { determinism: true } : {}),
      ...(o.livenessBoundMs !== undefined ? { livenessBoundMs: o.livenessBoundMs } : {}),
    });
    o.onRun?.(run);
    return { run, verdict: check(run) };
  } catch (error) {
    return { run: undefined, verdict: { ok: false, message: `running the scenario threw ${errorText(error)}` }, error };
  }
}

/** The expectation a replay of the counterexample must meet: the oracle's verdict and the trace hash. */
function recordedExpectation(s: Scenario, run: CheckedRun | undefined): Expectation | undefined {
  if (run === undefined) return s.expect;
  const failed = run.judgement.results.find((r) => !r.ok);
  const { failingCheck: _f, traceHash: _t, ...rest } = s.expect ?? { verdict: "pass" as const };
  return failed === undefined
    ? { ...rest, verdict: "pass", traceHash: run.result.traceHash }
    : { ...rest, verdict: "fail", failingCheck: failed.check, traceHash: run.result.traceHash };
}

function validateOptions(o: ScenarioPropertyOptions): void {
  if (!(Number.isInteger(o.numRuns) && o.numRuns >= 1)) throw new RangeError(`scenario property options.numRuns must be an integer >= 1, got ${o.numRuns}`);
  if (o.livenessBoundMs !== undefined && !(o.livenessBoundMs > 0)) throw new RangeError(`scenario property options.livenessBoundMs must be > 0, got ${o.livenessBoundMs}`);
  if (o.maxShrinkRuns !== undefined && !(Number.isInteger(o.maxShrinkRuns) && o.maxShrinkRuns >= 0))
    throw new RangeError(`scenario property options.maxShrinkRuns must be an integer >= 0, got ${o.maxShrinkRuns}`);
  if (o.maxMinimizeRuns !== undefined && !(Number.isInteger(o.maxMinimizeRuns) && o.maxMinimizeRuns >= 0))
    throw new RangeError(`scenario property options.maxMinimizeRuns must be an integer >= 0, got ${o.maxMinimizeRuns}`);
  if (o.runId !== undefined && !/^[A-Za-z0-9._-]+$/.test(o.runId)) throw new RangeError(`scenario property options.runId must be a plain directory name, got ${JSON.stringify(o.runId)}`);
}

/**
 * Runs the property; returns the shrunk counterexample when it fails (files saved unless
 * reportDir is false), undefined when every run holds.
 */
export function findCounterexample(name: string, arb: fc.Arbitrary<Scenario>, o: ScenarioPropertyOptions): ScenarioCounterexample | undefined {
  validateOptions(o);
  const seed = propertySeed(o.seed);
  const check = o.check ?? oracleVerdict;
  const budget = o.maxShrinkRuns ?? DEFAULT_MAX_SHRINK_RUNS;
  let failures = 0;
  let shrinkRuns = 0;
  let budgetSpent = false;
  const holds = (s: Scenario): boolean => {
    if (failures > 0) {
      if (shrinkRuns >= budget) {
        budgetSpent = true;
        return true;
      }
      shrinkRuns++;
    }
    const ok = judgeScenario(s, o, check).verdict.ok;
    if (!ok) failures++;
    return ok;
  };
  const details = fc.check(fc.property(arb, holds), { numRuns: o.numRuns, seed });
  if (!details.failed) return undefined;
  if (details.counterexample === null) throw new Error(`streamsim: property "${name}" failed without a counterexample (seed ${seed}): ${errorText(details.errorInstance)}`);
  const runIndex = details.numRuns;
  // A second pass on the concrete scenario (src/gen/minimize.ts): fast-check shrinks the raw values
  // the scenario was drawn from, where dropping one record shifts the timestamps of the later ones;
  // this one drops whole faults and records from the scenario itself.
  let shrunk = details.counterexample[0];
  let outcome = judgeScenario(shrunk, o, check);
  let minimizeText = "";
  const minimizeBudget = o.maxMinimizeRuns ?? DEFAULT_MAX_MINIMIZE_RUNS;
  if (!outcome.verdict.ok && minimizeBudget > 0) {
    const before = { records: countRecords(shrunk), faults: shrunk.faults.faults.length };
    // The last candidate that failed is the pass's result: keep its outcome rather than run it again.
    let lastFailing = outcome;
    const m = minimizeScenario(
      shrunk,
      (c) => {
        const r = judgeScenario(c, o, check);
        if (r.verdict.ok) return false;
        lastFailing = r;
        return true;
      },
      { maxAttempts: minimizeBudget },
    );
    if (m.scenario !== shrunk) {
      shrunk = m.scenario;
      outcome = lastFailing;
      const smaller = countRecords(shrunk) < before.records || shrunk.faults.faults.length < before.faults;
      // The pass may only have simplified it (timestamps, knobs: see SIMPLIFICATIONS) without dropping anything.
      minimizeText = smaller
        ? `, then minimized from ${plural(before.records, "record")} and ${plural(before.faults, "fault")} in ${plural(m.attempts, "run")}`
        : `, then simplified in ${plural(m.attempts, "run")}`;
    }
  }
  const shrunkText = `shrunk ${plural(details.numShrinks, "time")}${budgetSpent ? `, stopped after ${shrinkRuns} shrinking runs` : ""}${minimizeText}`;
  const expect = recordedExpectation(shrunk, outcome.run);
  const scenario: Scenario = {
    ...shrunk,
    name: `counterexample-${runIndex}`,
    description:
      `Shrunk counterexample of the property "${name}" (seed ${seed}, run ${runIndex} of ${o.numRuns}, ${shrunkText}): ` +
      `${outcome.verdict.message}`,
    ...(expect !== undefined ? { expect } : {}),
  };
  const records = countRecords(scenario);
  const faults = scenario.faults.faults.length;
  const head = `streamsim: ${headline(outcome.verdict, outcome.error !== undefined)} (run ${runIndex} of ${o.numRuns}, ${shrunkText})`;
  const lines = [head, `  ${outcome.verdict.message}`, `  property        ${name}, seed ${seed} (rerun it with ${SEED_ENV}=${seed})`];
  // A run is a pure function of its scenario; if the shrunk one passes when run again, say so.
  if (outcome.verdict.ok) lines.splice(1, 1, "  the shrunk scenario failed during shrinking but passed when run again: the run is not deterministic");
  const size = `(${plural(records, "record")}, ${plural(faults, "fault")}${scenario.faults.chaos !== undefined ? ", background chaos" : ""})`;

  let files: Pick<ScenarioCounterexample, "counterexamplePath" | "reportPath" | "replayCommand"> = {};
  if (o.reportDir === false) {
    lines.push(`  counterexample  not saved (reportDir is false) ${size}`);
  } else {
    const dir = join(o.reportDir ?? "reports", o.runId ?? defaultRunId(name));
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `counterexample-${runIndex}.json`);
    writeFileSync(file, serializeScenario(scenario), "utf8");
    const shownFile = shownPath(file);
    const replayCommand = o.replayCommand?.(shownFile, seed) ?? `npx streamsim replay ${shownFile}`;
    const id = `run-${runIndex}`;
    if (outcome.run !== undefined) {
      const recorded: CheckedRun = { ...outcome.run, scenario, asExpected: scenario.expect === undefined ? undefined : scenario.expect.verdict === outcome.run.judgement.verdict };
      const runs = [toRunRecord(recorded, { id, replayCommand, counterexamplePath: shownFile, timeline: true, ...(o.registry !== undefined ? { registry: o.registry } : {}) })];
      const set: RunSet = {
        runId: o.runId ?? dir.split(/[\\/]/).pop() ?? "property",
        createdAt: new Date().toISOString(), // determinism-ok: report metadata, not part of any run
        command: `property "${name}" (${SEED_ENV}=${seed}, numRuns ${o.numRuns})`,
        seed,
        runs,
        totals: computeTotals(runs),
      };
      writeReports(dir, set);
    }
    files = { counterexamplePath: shownFile, reportPath: shownPath(dir), replayCommand };
    lines.push(`  counterexample  ${shownFile}  ${size}`);
    lines.push(`  replay          ${replayCommand}`);
    if (outcome.run !== undefined) lines.push(`  timeline        ${shownPath(join(dir, "index.html"))}#${runAnchor(id)}`);
  }
  if (outcome.error instanceof Error && outcome.error.stack !== undefined) lines.push(`  stack           ${outcome.error.stack.split("\n").slice(1, 4).map((l) => l.trim()).join(" / ")}`);

  return {
    property: name,
    seed,
    runIndex,
    numRuns: o.numRuns,
    numShrinks: details.numShrinks,
    scenario,
    run: outcome.run,
    verdict: outcome.verdict,
    ...(outcome.error !== undefined ? { error: outcome.error } : {}),
    records,
    faults,
    ...files,
    message: lines.join("\n"),
  };
}

/** The error a failed scenario property throws, carrying its counterexample. */
export class ScenarioPropertyFailure extends Error {
  override readonly name = "ScenarioPropertyFailure";
  constructor(readonly counterexample: ScenarioCounterexample) {
    super(counterexample.message);
  }
}

/**
 * Asserts the property holds for `numRuns` generated scenarios; on failure saves the shrunk
 * counterexample and the reports, and throws a ScenarioPropertyFailure whose message is for people.
 */
export function assertScenarioProperty(name: string, arb: fc.Arbitrary<Scenario>, o: ScenarioPropertyOptions): void {
  const found = findCounterexample(name, arb, o);
  if (found !== undefined) throw new ScenarioPropertyFailure(found);
}

/**
 * For properties that must FAIL (they prove the checker has teeth): returns the shrunk
 * counterexample; throws when every run held. Writes no files unless reportDir is given.
 */
export function expectScenarioPropertyToFail(name: string, arb: fc.Arbitrary<Scenario>, o: ScenarioPropertyOptions): ScenarioCounterexample {
  const found = findCounterexample(name, arb, { ...o, reportDir: o.reportDir ?? false });
  if (found !== undefined) return found;
  throw new Error(`streamsim: the property "${name}" was expected to fail, but all ${o.numRuns} runs held (seed ${propertySeed(o.seed)})`);
}
