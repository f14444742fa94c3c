/**
 * The detection script: runs inside a copy of the project (with one catalog bug applied, or none
 * for the control), samples the default property suites' scenarios until the oracle fails one,
 * shrinks it, and prints one JSON line (a DetectionReport) on stdout.
 *
 *   npx tsx bench/bugs/detect.ts --seeds 1,2,3,4,5 [--max-runs 300] [--shrink-runs 500]
 *       [--shrink-seconds 10] [--minimize-runs 800] [--minimize-seconds 25]
 *       [--baseline /abs/path/to/unmodified/src/runner/check.ts] [--suite default|<targeted>]
 *
 * Each seed is one fast-check run of the property "every generated scenario passes runAndJudge"
 * (fc.check with that seed): runs to the first failure, wall-clock seconds to it (module loading
 * excluded), then fast-check's own shrinking, bounded by --shrink-runs further executions and
 * --shrink-seconds (after that the property answers "pass", which ends the shrink with the
 * smallest failure so far), then a second pass on the concrete scenario (src/gen/minimize.ts:
 * drop faults, delta-debug the records), bounded by --minimize-runs and --minimize-seconds. An
 * exception thrown by the engine counts as a failure, as it does in the property suites.
 *
 * With --baseline, a failure counts only if the unmodified engine passes the same scenario (runs
 * are pure functions of the scenario): failures the unmodified engine also has (false positives
 * of the suites, or engine bugs outside the catalog) are counted as "control failures" and the
 * search goes on, so a detection is always caused by the applied bug. The shrinker keeps that
 * property too.
 */
import fc from "fast-check";
import { minimizeScenario } from "../../src/gen/minimize.ts";
import { runAndJudge, type CheckedRun } from "../../src/runner/check.ts";
import type { Scenario } from "../../src/scenario.ts";
import { defaultSuitesArb, type SuiteScenario } from "./suites.ts";
import { TARGETED } from "./targeted.ts";

export type ScenarioSize = {
  /** Input records over all topics. */
  readonly records: number;
  /** Plan vertices (sources, operators and sinks). */
  readonly operators: number;
  readonly faults: number;
};

export type SeedResult = {
  readonly seed: number;
  readonly detected: boolean;
  /** Runs up to and including the first failing one (null: not detected). */
  readonly runsToFailure: number | null;
  /** Wall-clock seconds from the first run to the end of the first failing one. */
  readonly secondsToFailure: number | null;
  /** Runs sampled (maxRuns when not detected). */
  readonly runs: number;
  /** Which suite the first failure came from. */
  readonly suite: string | null;
  /** The first failing check (or "exception") of the first failure and of the shrunk counterexample. */
  readonly firstCheck: string | null;
  readonly shrunkCheck: string | null;
  readonly shrunk: ScenarioSize | null;
  /** The shrunk counterexample's one-line verdict. */
  readonly shrunkSummary: string | null;
  readonly shrinkRuns: number;
  readonly shrinkSeconds: number;
  /** Runs of the second pass (minimizeScenario) and its wall-clock seconds. */
  readonly minimizeRuns: number;
  readonly minimizeSeconds: number;
  /** Size after fast-check's shrinking alone, before the second pass. */
  readonly fastCheckShrunk: ScenarioSize | null;
  /** Sampled runs that failed on the unmodified engine too (not counted as detections). */
  readonly controlFailures: number;
  /** The first control failure's verdict, to report the suites' false positives. */
  readonly controlExample: string | null;
  readonly shrunkScenario: Scenario | null;
};

export type DetectionReport = { readonly suite: string; readonly maxRuns: number; readonly seeds: readonly SeedResult[] };

export function sizeOf(s: Scenario): ScenarioSize {
  let records = 0;
  for (const t of s.inputs) for (const p of t.partitions) records += p.length;
  return { records, operators: s.plan.nodes.length, faults: s.faults.faults.length };
}

type Outcome = { ok: boolean; check: string | null; summary: string };

type Judge = (s: Scenario) => CheckedRun;

/** runAndJudge, with an exception counted as a failure (as fast-check counts it in a property). */
export function judgeOne(s: Scenario, judge: Judge = runAndJudge): Outcome {
  try {
    const r = judge(s);
    const failed = r.judgement.results.find((c) => !c.ok);
    return { ok: r.judgement.verdict === "pass", check: failed?.check ?? null, summary: r.judgement.summary };
  } catch (e) {
    const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    return { ok: false, check: "exception", summary: `exception: ${msg}` };
  }
}

export type DetectOptions = {
  readonly maxRuns: number;
  readonly shrinkRuns: number;
  readonly shrinkSeconds: number;
  /** Budget of the second shrinking pass (0 runs: none). */
  readonly minimizeRuns: number;
  readonly minimizeSeconds: number;
  /** runAndJudge of the unmodified engine (differential detection), if any. */
  readonly baseline?: Judge;
};

export function detectOne(arb: fc.Arbitrary<SuiteScenario>, seed: number, opts: DetectOptions): SeedResult {
  const { maxRuns, shrinkRuns, shrinkSeconds: shrinkBudgetSeconds, baseline } = opts;
  let runs = 0;
  let shrinkCalls = 0;
  let controlFailures = 0;
  let controlExample: string | null = null;
  let first: { runs: number; ms: number; suite: string; check: string | null } | undefined;
  let smallest: { scenario: Scenario; outcome: Outcome } | undefined;
  const t0 = performance.now();
  let tFail = 0;
  const prop = fc.property(arb, ({ suite, scenario }) => {
    if (first === undefined) runs++;
    else if (++shrinkCalls > shrinkRuns || performance.now() - tFail > shrinkBudgetSeconds * 1000) return true;
    const o = judgeOne(scenario);
    if (!o.ok && baseline !== undefined && !judgeOne(scenario, baseline).ok) {
      // The unmodified engine fails it too: not this bug's doing.
      if (first === undefined) {
        controlFailures++;
        controlExample ??= o.summary;
      }
      return true;
    }
    if (!o.ok) {
      if (first === undefined) {
        tFail = performance.now();
        first = { runs, ms: tFail - t0, suite, check: o.check };
      }
      smallest = { scenario, outcome: o };
    }
    return o.ok;
  });
  fc.check(prop, { seed, numRuns: maxRuns });
  const shrinkSeconds = first === undefined ? 0 : (performance.now() - tFail) / 1000;
  const fastCheckShrunk = smallest === undefined ? null : sizeOf(smallest.scenario);
  let minimizeRuns = 0;
  const tMin = performance.now();
  if (smallest !== undefined && opts.minimizeRuns > 0) {
    let last: Outcome | undefined;
    const m = minimizeScenario(
      smallest.scenario,
      (c) => {
        if (performance.now() - tMin > opts.minimizeSeconds * 1000) return "stop";
        const o = judgeOne(c);
        if (o.ok || (baseline !== undefined && !judgeOne(c, baseline).ok)) return false;
        last = o;
        return true;
      },
      { maxAttempts: opts.minimizeRuns },
    );
    minimizeRuns = m.attempts;
    if (m.scenario !== smallest.scenario && last !== undefined) smallest = { scenario: m.scenario, outcome: last };
  }
  const minimizeSeconds = (performance.now() - tMin) / 1000;
  return {
    seed,
    detected: first !== undefined,
    runsToFailure: first?.runs ?? null,
    secondsToFailure: first === undefined ? null : first.ms / 1000,
    runs,
    suite: first?.suite ?? null,
    firstCheck: first?.check ?? null,
    shrunkCheck: smallest?.outcome.check ?? null,
    shrunk: smallest === undefined ? null : sizeOf(smallest.scenario),
    shrunkSummary: smallest?.outcome.summary ?? null,
    shrinkRuns: Math.min(shrinkCalls, shrinkRuns),
    shrinkSeconds,
    minimizeRuns,
    minimizeSeconds,
    fastCheckShrunk,
    controlFailures,
    controlExample,
    shrunkScenario: smallest?.scenario ?? null,
  };
}

function arg(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

async function main(args: readonly string[]): Promise<void> {
  const seeds = (arg(args, "--seeds") ?? "1,2,3,4,5").split(",").map(Number);
  const maxRuns = Number(arg(args, "--max-runs") ?? 300);
  const shrinkRuns = Number(arg(args, "--shrink-runs") ?? 500);
  const shrinkSeconds = Number(arg(args, "--shrink-seconds") ?? 10);
  const minimizeRuns = Number(arg(args, "--minimize-runs") ?? 800);
  const minimizeSeconds = Number(arg(args, "--minimize-seconds") ?? 25);
  const baselinePath = arg(args, "--baseline");
  const baseline =
    baselinePath === undefined ? undefined : ((await import(new URL(`file://${baselinePath}`).href)) as { runAndJudge: Judge }).runAndJudge;
  const suite = arg(args, "--suite") ?? "default";
  const targeted = TARGETED[suite];
  if (suite !== "default" && targeted === undefined)
    throw new Error(`unknown --suite ${suite}; default or one of ${Object.keys(TARGETED).join(", ")}`);
  const arb = targeted?.arb() ?? defaultSuitesArb();
  const results: SeedResult[] = [];
  for (const seed of seeds) {
    const r = detectOne(arb, seed, { maxRuns, shrinkRuns, shrinkSeconds, minimizeRuns, minimizeSeconds, ...(baseline === undefined ? {} : { baseline }) });
    process.stderr.write(
      `seed ${seed}: ${r.detected ? `failed at run ${r.runsToFailure} (${r.secondsToFailure?.toFixed(1)} s, ${r.firstCheck}), shrunk to ${JSON.stringify(r.fastCheckShrunk)} then ${JSON.stringify(r.shrunk)} (${r.shrinkRuns}+${r.minimizeRuns} runs, ${(r.shrinkSeconds + r.minimizeSeconds).toFixed(0)} s)` : `not detected in ${r.runs} runs`}\n`,
    );
    results.push(r);
  }
  const report: DetectionReport = { suite, maxRuns, seeds: results };
  process.stdout.write(JSON.stringify(report) + "\n");
}

// A script: the runner imports only its types.
await main(process.argv.slice(2));
