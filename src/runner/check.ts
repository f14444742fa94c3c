/**
 * Run a scenario and judge it with the oracle: the one call every front end (property suites,
 * the CLI, users' tests) goes through.
 */
import { runScenario, type RunOptions } from "../engine/cluster/job.ts";
import { builtins } from "../engine/plan/registry.ts";
import type { RunResult } from "../engine/result.ts";
import { judge, type Judgement } from "../oracle/index.ts";
import type { Scenario } from "../scenario.ts";

export type CheckedRun = {
  readonly scenario: Scenario;
  readonly result: RunResult;
  readonly judgement: Judgement;
  /** The scenario's declared verdict matched (undefined when it declares none). */
  readonly asExpected: boolean | undefined;
};

export type CheckOptions = RunOptions & {
  /** Run twice and compare trace hashes (the determinism check). */
  readonly determinism?: boolean;
  readonly livenessBoundMs?: number;
};

export function runAndJudge(scenario: Scenario, opts: CheckOptions = {}): CheckedRun {
  const result = runScenario(scenario, opts);
  const rerun = opts.determinism === true ? runScenario(scenario, opts) : undefined;
  const judgement = judge({
    plan: scenario.plan,
    inputs: scenario.inputs,
    registry: opts.registry ?? builtins,
    result,
    config: scenario.config,
    faults: scenario.faults,
    expect: scenario.expect,
    livenessBoundMs: opts.livenessBoundMs,
    rerun,
  });
  const declared = scenario.expect?.verdict;
  return { scenario, result, judgement, asExpected: declared === undefined ? undefined : declared === judgement.verdict };
}
