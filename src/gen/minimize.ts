/**
 * A second shrinking pass on a concrete failing scenario, after fast-check's: fast-check shrinks the
 * raw values a scenario was drawn from, where removing one raw record moves the timestamps of every
 * later record of its partition and so the whole run, and its budget runs out on heavy-fault
 * scenarios. This pass works on the scenario itself:
 * - faults: drop one at a time (last first);
 * - records: delta debugging over every record of every partition (drop all, then halves, quarters,
 *   ... down to single records). Dropping records keeps the input valid: timestamps stay as they
 *   were, so no record becomes late (the largest timestamp seen so far can only fall);
 * - rounds repeat while one of them made progress.
 *
 * `fails` is the property's negation (a run of the scenario fails as the original did); every call
 * counts as one attempt, and the pass stops at `maxAttempts` or when `fails` answers "stop".
 */
import type { InputRecord, Inputs } from "../engine/plan/plan.ts";
import type { Scenario } from "../scenario.ts";

/** The answer of a minimization predicate: the candidate still fails, passes, or the budget (time) is over. */
export type MinimizeAnswer = boolean | "stop";

export type MinimizeOptions = {
  /** Most calls of the predicate (runs). */
  readonly maxAttempts: number;
  /** Most rounds over faults and records (default 3). */
  readonly maxRounds?: number;
};

export type MinimizeResult = {
  readonly scenario: Scenario;
  /** Calls of the predicate. */
  readonly attempts: number;
  /** Whether the budget ended the pass (otherwise no single removal fails any more). */
  readonly exhausted: boolean;
};

export function validateMinimizeOptions(o: MinimizeOptions): string | undefined {
  if (!(Number.isInteger(o.maxAttempts) && o.maxAttempts >= 0)) return `minimizeScenario options.maxAttempts must be an integer >= 0, got ${o.maxAttempts}`;
  if (o.maxRounds !== undefined && !(Number.isInteger(o.maxRounds) && o.maxRounds >= 1))
    return `minimizeScenario options.maxRounds must be an integer >= 1, got ${o.maxRounds}`;
  return undefined;
}

/** A record's place: topic index, partition index, index in the partition. */
type Pos = readonly [number, number, number];

function positions(inputs: Inputs): Pos[] {
  const out: Pos[] = [];
  inputs.forEach((t, ti) => t.partitions.forEach((p, pi) => p.forEach((_, ri) => out.push([ti, pi, ri]))));
  return out;
}

/** The inputs of `base` with only the records at `keep` (in their original order). */
function keepOnly(base: Inputs, keep: readonly Pos[]): Inputs {
  const kept = new Set(keep.map(([t, p, r]) => `${t}/${p}/${r}`));
  return base.map((t, ti) => ({
    ...t,
    partitions: t.partitions.map((p, pi) => p.filter((_: InputRecord, ri: number) => kept.has(`${ti}/${pi}/${ri}`))),
  }));
}

export function minimizeScenario(scenario: Scenario, fails: (candidate: Scenario) => MinimizeAnswer, options: MinimizeOptions): MinimizeResult {
  const problem = validateMinimizeOptions(options);
  if (problem !== undefined) throw new RangeError(problem);
  let best = scenario;
  let attempts = 0;
  let stopped = false;
  const tryCandidate = (c: Scenario): boolean => {
    if (stopped || attempts >= options.maxAttempts) {
      stopped = true;
      return false;
    }
    attempts++;
    const answer = fails(c);
    if (answer === "stop") {
      stopped = true;
      return false;
    }
    if (answer) best = c;
    return answer;
  };

  const dropFaults = (): boolean => {
    let progress = false;
    for (let i = best.faults.faults.length - 1; i >= 0 && !stopped; i--) {
      const faults = best.faults.faults.filter((_, j) => j !== i);
      if (tryCandidate({ ...best, faults: { ...best.faults, faults } })) progress = true;
    }
    return progress;
  };

  const dropRecords = (): boolean => {
    const base = best.inputs;
    let keep = positions(base);
    if (keep.length === 0) return false;
    const withKeep = (k: readonly Pos[]): Scenario => ({ ...best, inputs: keepOnly(base, k) });
    if (tryCandidate(withKeep([]))) return true;
    let progress = false;
    let n = 2;
    // Each round either removes a chunk or doubles n (at most log2(records) times): bounded by the records and the budget.
    while (keep.length > 0 && !stopped) {
      const chunk = Math.ceil(keep.length / n);
      let reduced = false;
      for (let start = 0; start < keep.length && !stopped; start += chunk) {
        const candidate = [...keep.slice(0, start), ...keep.slice(start + chunk)];
        if (tryCandidate(withKeep(candidate))) {
          keep = candidate;
          n = Math.max(2, n - 1);
          reduced = true;
          progress = true;
          break;
        }
      }
      if (!reduced) {
        if (chunk <= 1) break;
        n = Math.min(keep.length, n * 2);
      }
    }
    return progress;
  };

  const rounds = options.maxRounds ?? 3;
  for (let round = 0; round < rounds && !stopped; round++) {
    const a = dropFaults();
    const b = dropRecords();
    if (!a && !b) break;
  }
  return { scenario: best, attempts, exhausted: stopped };
}
