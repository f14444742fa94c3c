/**
 * Generated cases of a sweep. Run i of a sweep with seed S is the first value that fast-check
 * draws from the scenario arbitrary with seed `caseSeed(S, i)`: it depends on (S, i) and the fault
 * level only, never on the worker, the shard or the order runs finish in. The case seed is also
 * the scenario's simulation seed, so `streamsim replay --seed N` regenerates and reruns it.
 *
 * A failing case is shrunk with fc.check on the same arbitrary and seed (numRuns 1): the first run
 * is the case itself, and fast-check's shrinking gives a smaller scenario that still fails, plus
 * the path that leads to it (`replay --seed N --path P` regenerates the shrunk case from both).
 */
import fc from "fast-check";
import type { FaultIntensity } from "../gen/index.ts";
import { FAULTS_BY_INTENSITY, scenarioArb } from "../gen/index.ts";
import { minimizeScenario } from "../gen/minimize.ts";
import type { CheckedRun } from "../runner/check.ts";
import { runAndJudge } from "../runner/check.ts";
import type { Scenario } from "../scenario.ts";

export const FAULT_LEVELS = Object.keys(FAULTS_BY_INTENSITY) as FaultIntensity[];
export const DEFAULT_FAULT_LEVEL: FaultIntensity = "normal";
/** Largest sweep or case seed (seeds are 31-bit, as fast-check's). */
export const MAX_SEED = 0x7fff_ffff;
/** Scenario runs a shrink may spend, by default (deterministic: a count, never a time). */
export const DEFAULT_SHRINK_RUNS = 200;
/**
 * Simulation events a shrink may spend over all its runs (deterministic too). Most runs take a few
 * thousand events; a run that hangs until its maxTimeMs bound takes a million or more, so this
 * keeps the shrink of a liveness failure to a few seconds.
 */
export const SHRINK_EVENTS_BUDGET = 3_000_000;

/** The seed of run `index` of a sweep seeded `sweepSeed`: a 31-bit mix of both (murmur3's finaliser). */
export function caseSeed(sweepSeed: number, index: number): number {
  let x = (sweepSeed >>> 0) ^ Math.imul(index + 1, 0x9e3779b1);
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  x ^= x >>> 16;
  return (x >>> 0) & MAX_SEED;
}

/** Runs of a sweep that a shard takes: indexes with index % n == i - 1 (i is 1-based). */
export function shardIndexes(runs: number, shard: { readonly index: number; readonly count: number } | undefined): number[] {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) if (shard === undefined || i % shard.count === shard.index - 1) out.push(i);
  return out;
}

/** How many runs a shard takes: shardIndexes(runs, shard).length, without the array. */
export function shardSize(runs: number, shard: { readonly index: number; readonly count: number } | undefined): number {
  if (shard === undefined) return runs;
  const first = shard.index - 1;
  return first >= runs ? 0 : Math.ceil((runs - first) / shard.count);
}

/** The k-th run index of a shard: shardIndexes(runs, shard)[k], without the array. */
export function shardIndexAt(k: number, shard: { readonly index: number; readonly count: number } | undefined): number {
  return shard === undefined ? k : shard.index - 1 + k * shard.count;
}

/**
 * The simulated-time bound of a generated run in a sweep (the generator bounds its events, see
 * GENERATED_MAX_EVENTS). Generated runs take a few seconds of simulated time; one that livelocks
 * (say, a checkpoint storm) would otherwise spend minutes of wall time reaching the generator's
 * 600 s. At this bound it fails the liveness check just the same, in seconds. The bound is part of
 * the case, so the saved counterexample replays with it.
 */
export const SWEEP_MAX_TIME_MS = 300_000;

/** The name of generated case `seed`. */
export function caseName(seed: number): string {
  return `generated-seed-${seed}`;
}

/** The default arbitrary per fault level, built once per thread (arbitraries are immutable). */
const baseArbs = new Map<FaultIntensity, fc.Arbitrary<Scenario>>();
function baseArb(faults: FaultIntensity): fc.Arbitrary<Scenario> {
  let a = baseArbs.get(faults);
  if (a === undefined) {
    a = scenarioArb({ faults });
    baseArbs.set(faults, a);
  }
  return a;
}

/**
 * The arbitrary of generated cases with seed `seed`: the scenario's name and simulation seed are
 * fixed to it, and its bounds to at most the sweep's.
 */
export function caseArb(seed: number, faults: FaultIntensity): fc.Arbitrary<Scenario> {
  return baseArb(faults).map(
    (s): Scenario => ({
      ...s,
      name: caseName(seed),
      seed,
      cluster: {
        ...s.cluster,
        maxTimeMs: Math.min(s.cluster.maxTimeMs, SWEEP_MAX_TIME_MS),
      },
    }),
  );
}

/**
 * The generated case of `seed`; with `path` (fast-check's counterexample path, e.g. "0:3:1"), the
 * shrunk case that path leads to.
 */
export function generateCase(seed: number, faults: FaultIntensity, path?: string): Scenario {
  const arb = caseArb(seed, faults);
  if (path === undefined || path === "" || path === "0") {
    const [first] = fc.sample(arb, { seed, numRuns: 1 });
    if (first === undefined) throw new Error(`fast-check drew no value for seed ${seed}`);
    return first;
  }
  // Walk the path with a predicate that always fails: every step of the walk is then taken.
  const r = fc.check(
    fc.property(arb, () => false),
    { seed, path, numRuns: 1, endOnFailure: true },
  );
  const found: Scenario | undefined = (r.counterexample as readonly [Scenario] | null)?.[0];
  if (found === undefined) throw new Error(`fast-check found no value at path ${path} for seed ${seed}`);
  return found;
}

/** A judged run, or the error it threw. */
export type Outcome =
  | { readonly scenario: Scenario; readonly checked: CheckedRun; readonly error?: undefined; readonly wallMs: number }
  | { readonly scenario: Scenario; readonly checked?: undefined; readonly error: unknown; readonly wallMs: number };

export function outcomeFails(o: Outcome): boolean {
  return o.checked === undefined || o.checked.judgement.verdict === "fail";
}

/** Runs and judges a scenario, catching what it throws. */
export function judgeSafely(scenario: Scenario): Outcome {
  const t0 = performance.now();
  try {
    const checked = runAndJudge(scenario);
    return { scenario, checked, wallMs: performance.now() - t0 };
  } catch (error) {
    return { scenario, error, wallMs: performance.now() - t0 };
  }
}

export type CaseResult = {
  /** The case as generated. */
  readonly original: Outcome;
  /** For a failing case: the smallest failing case the shrink found (the original when none). */
  readonly shrunk?: {
    readonly outcome: Outcome;
    /** fast-check's path to its shrunk case (before the second pass). */
    readonly path: string;
    readonly numShrinks: number;
    /** Runs spent shrinking, both passes. */
    readonly runs: number;
    /** Runs of the second pass (minimizeScenario). */
    readonly minimizeRuns: number;
  };
};

/**
 * Generates, runs and judges case `seed`; when it fails (a check fails or the run throws), shrinks
 * it, spending at most `shrinkRuns` further runs and SHRINK_EVENTS_BUDGET simulation events.
 */
export function checkCase(
  seed: number,
  faults: FaultIntensity,
  shrinkRuns: number = DEFAULT_SHRINK_RUNS,
  judge: (s: Scenario) => Outcome = judgeSafely,
): CaseResult {
  let original: Outcome | undefined;
  let lastFailure: Outcome | undefined;
  let runs = 0;
  let events = 0;
  const prop = fc.property(caseArb(seed, faults), (s) => {
    // Past the budget every candidate "passes" unrun, so fast-check stops shrinking quickly.
    if (original !== undefined && (runs >= shrinkRuns || events >= SHRINK_EVENTS_BUDGET)) return true;
    const o = judge(s);
    if (original === undefined) original = o;
    else {
      runs++;
      events += o.checked?.result.events ?? 0;
    }
    const fails = outcomeFails(o);
    if (fails) lastFailure = o;
    return !fails;
  });
  const r = fc.check(prop, { seed, numRuns: 1 });
  if (original === undefined) throw new Error(`fast-check ran no case for seed ${seed}`);
  if (!r.failed || lastFailure === undefined) return { original };
  // Then a second pass on the concrete scenario with what is left of the budget: drop faults and
  // records (src/gen/minimize.ts), which fast-check's shrinking of the raw draws cannot do alone.
  let best: Outcome = lastFailure;
  const m = minimizeScenario(
    best.scenario,
    (c) => {
      if (events >= SHRINK_EVENTS_BUDGET) return "stop";
      const o = judge(c);
      runs++;
      events += o.checked?.result.events ?? 0;
      if (!outcomeFails(o)) return false;
      best = o;
      return true;
    },
    { maxAttempts: Math.max(0, shrinkRuns - runs) },
  );
  return { original, shrunk: { outcome: best, path: r.counterexamplePath ?? "0", numShrinks: r.numShrinks, runs, minimizeRuns: m.attempts } };
}
