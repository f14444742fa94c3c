/**
 * A second shrinking pass on a concrete failing scenario, after fast-check's: fast-check shrinks the
 * raw values a scenario was drawn from, where removing one raw record moves the timestamps of every
 * later record of its partition and so the whole run, and its budget runs out on heavy-fault
 * scenarios. This pass works on the scenario itself:
 * - faults: drop one at a time (last first);
 * - records: whole partitions first, then delta debugging over every record of every partition
 *   (drop all, then halves, quarters, ... down to single records). Dropping records keeps the input
 *   valid: timestamps stay as they were, so no record becomes late (the largest timestamp seen so
 *   far can only fall);
 * - rounds repeat while one of them made progress;
 * - when no single removal fails any more, simplifications (SIMPLIFICATIONS): the same scenario,
 *   denser in time or with smaller knobs (timestamps from 0 and halved, no minimum pause, shorter
 *   checkpoint intervals, earlier fault triggers, one record per buffer, one credit per channel).
 *   Each is kept if the scenario still fails, and the rounds of removals start again from it: a
 *   failure that needs a backlog or the n-th checkpoint needs fewer records once the backlog forms
 *   sooner. They never add a record or a fault, and they start only at a point where the removals
 *   alone are stuck, so the result is never larger than without them (budget permitting);
 * - when neither removals nor simplifications make progress, heavier variants (HEAVIER: a higher
 *   cost per record): kept only if the removals run on it then drop a record or a fault, otherwise
 *   the scenario before it is run once more and restored.
 *
 * The result is always the last candidate `fails` answered true for (or the scenario given), so a
 * caller can keep that candidate's outcome instead of running the result again.
 *
 * `fails` is the property's negation (a run of the scenario fails as the original did); every call
 * counts as one attempt, and the pass stops at `maxAttempts` or when `fails` answers "stop".
 */
import { MIN_CHECKPOINT_INTERVAL_MS } from "../engine/config.ts";
import type { JobConfigData } from "../engine/config.ts";
import type { InputRecord, Inputs, SourceNode } from "../engine/plan/plan.ts";
import type { Fault, Moment } from "../faults/plan.ts";
import type { Scenario } from "../scenario.ts";

/** The answer of a minimization predicate: the candidate still fails, passes, or the budget (time) is over. */
export type MinimizeAnswer = boolean | "stop";

export type MinimizeOptions = {
  /** Most calls of the predicate (runs). */
  readonly maxAttempts: number;
  /** Most rounds over faults and records (default 12); rounds stop early once one makes no progress and no simplification applies. */
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

  /** Empty one whole partition at a time (last first): cheaper than halving when the partitions are many. */
  const dropPartitions = (): boolean => {
    let progress = false;
    const slots: Array<readonly [number, number]> = [];
    best.inputs.forEach((t, ti) => t.partitions.forEach((_, pi) => slots.push([ti, pi])));
    if (slots.length < 2) return false;
    for (let i = slots.length - 1; i >= 0 && !stopped; i--) {
      const [ti, pi] = slots[i] as readonly [number, number];
      if ((best.inputs[ti]?.partitions[pi]?.length ?? 0) === 0) continue;
      const inputs = best.inputs.map((t, tj) => (tj !== ti ? t : { ...t, partitions: t.partitions.map((p, pj) => (pj === pi ? [] : p)) }));
      if (tryCandidate({ ...best, inputs })) progress = true;
    }
    return progress;
  };

  /** Every simplification that applies, each repeated while it keeps the failure (halving converges). */
  const simplify = (): boolean => {
    let progress = false;
    for (const s of SIMPLIFICATIONS) {
      for (let i = 0; i < MAX_REPEATS && !stopped; i++) {
        const c = s.apply(best);
        if (c === undefined || !tryCandidate(c)) break;
        progress = true;
      }
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

  const removals = (): boolean => {
    const a = dropFaults();
    const b = dropPartitions();
    const c = dropRecords();
    return a || b || c;
  };

  /**
   * Every heavier variant (HEAVIER) that still fails, with removals run on it: kept if they then
   * drop a record or a fault, otherwise the scenario before it is run again (one attempt) and
   * restored, so the result is always the last candidate that failed.
   */
  const tryHeavier = (): boolean => {
    for (const h of HEAVIER) {
      if (stopped) return false;
      const before = best;
      const c = h.apply(best);
      if (c === undefined || !tryCandidate(c)) continue;
      for (let i = 0; i < 3 && !stopped && removals(); i++);
      if (smaller(best, before)) return true;
      tryCandidate(before);
    }
    return false;
  };

  const rounds = options.maxRounds ?? 12;
  for (let round = 0; round < rounds && !stopped; round++) {
    if (!removals() && !simplify() && !tryHeavier()) break;
  }
  return { scenario: best, attempts, exhausted: stopped };
}

/** Input records over every topic and partition. */
function recordCount(s: Scenario): number {
  let n = 0;
  for (const t of s.inputs) for (const p of t.partitions) n += p.length;
  return n;
}

/** Whether `a` has fewer faults than `b`, or as many and fewer records. */
function smaller(a: Scenario, b: Scenario): boolean {
  const fa = a.faults.faults.length;
  const fb = b.faults.faults.length;
  return fa < fb || (fa === fb && recordCount(a) < recordCount(b));
}

// ---- simplifications ---------------------------------------------------------------------------

/** A simplification: the scenario changed in one respect, or undefined when it does not apply (already simple). */
export type Simplification = {
  readonly name: string;
  readonly apply: (s: Scenario) => Scenario | undefined;
};

/** Most times one simplification is applied in a row (halving a timestamp of 2^16 ms reaches 0). */
const MAX_REPEATS = 16;

/**
 * The disorder a topic's records may have: the smallest outOfOrdernessMs of the sources reading it
 * with watermarks (Infinity: no source of the topic has watermarks, so no record can be late).
 */
function disorderBounds(s: Scenario): Map<string, number> {
  const bounds = new Map<string, number>();
  for (const n of s.plan.nodes) {
    if (n.kind !== "source") continue;
    const src = n as SourceNode;
    const ooo = src.watermark === undefined ? Infinity : src.watermark.outOfOrdernessMs;
    bounds.set(src.topic, Math.min(bounds.get(src.topic) ?? Infinity, ooo));
  }
  return bounds;
}

/** Whether a record of the partition is late: below the largest timestamp before it minus the bound. */
function lateFlags(p: readonly InputRecord[], bound: number): boolean[] {
  let max = -Infinity;
  return p.map((r) => {
    const late = r.ts < max - bound;
    if (r.ts > max) max = r.ts;
    return late;
  });
}

/**
 * The scenario with every timestamp mapped by `f` (per partition: f gets the partition's records),
 * or undefined when nothing changes or a record that was in time would become late.
 */
function mapTimestamps(s: Scenario, f: (p: readonly InputRecord[]) => number[]): Scenario | undefined {
  const bounds = disorderBounds(s);
  let changed = false;
  let valid = true;
  const inputs = s.inputs.map((t) => ({
    ...t,
    partitions: t.partitions.map((p) => {
      const ts = f(p);
      const q = p.map((r, i) => {
        const v = ts[i] as number;
        if (v !== r.ts) changed = true;
        return v === r.ts ? r : { ...r, ts: v };
      });
      const bound = bounds.get(t.topic) ?? Infinity;
      const before = lateFlags(p, bound);
      lateFlags(q, bound).forEach((late, i) => {
        if (late && before[i] !== true) valid = false;
      });
      return q;
    }),
  }));
  return changed && valid ? { ...s, inputs } : undefined;
}

function withConfig(s: Scenario, config: JobConfigData): Scenario {
  return { ...s, config };
}

/** The scenario with every fault's moment mapped by `f`, or undefined when none changes. */
function mapMoments(s: Scenario, f: (m: Moment) => Moment): Scenario | undefined {
  let changed = false;
  const faults = s.faults.faults.map((x): Fault => {
    const at = f(x.at);
    if (at === x.at) return x;
    changed = true;
    return { ...x, at };
  });
  return changed ? { ...s, faults: { ...s.faults, faults } } : undefined;
}

/**
 * The simplifications the second pass tries once removals are stuck, in order. Each makes the run
 * denser or its knobs smaller, never adds a record or a fault, and keeps the input valid (no
 * record becomes late, every configuration value stays in its valid range).
 */
export const SIMPLIFICATIONS: readonly Simplification[] = [
  {
    name: "every partition's timestamps start at 0",
    apply: (s) =>
      mapTimestamps(s, (p) => {
        const min = p.reduce((m, r) => Math.min(m, r.ts), Infinity);
        return p.map((r) => (min > 0 ? r.ts - min : r.ts));
      }),
  },
  { name: "timestamps halved", apply: (s) => mapTimestamps(s, (p) => p.map((r) => Math.floor(r.ts / 2))) },
  {
    name: "absolute fault times halved",
    apply: (s) => mapMoments(s, (m) => (typeof m === "number" && m > 0 ? Math.floor(m / 2) : m)),
  },
  {
    name: "fault triggers on an earlier occurrence",
    apply: (s) => mapMoments(s, (m) => (typeof m !== "number" && (m.nth ?? 1) > 1 ? { ...m, nth: (m.nth ?? 1) - 1 } : m)),
  },
  {
    name: "fault triggers without delay",
    apply: (s) => mapMoments(s, (m) => (typeof m !== "number" && (m.delayMs ?? 0) > 0 ? { ...m, delayMs: 0 } : m)),
  },
  {
    name: "no minimum pause between checkpoints",
    apply: (s) => (s.config.checkpoint.minPauseMs > 0 ? withConfig(s, { ...s.config, checkpoint: { ...s.config.checkpoint, minPauseMs: 0 } }) : undefined),
  },
  {
    name: "checkpoint interval halved",
    apply: (s) => {
      const i = s.config.checkpoint.intervalMs;
      if (!(i > MIN_CHECKPOINT_INTERVAL_MS)) return undefined;
      const intervalMs = Math.max(MIN_CHECKPOINT_INTERVAL_MS, Math.floor(i / 2));
      return withConfig(s, { ...s.config, checkpoint: { ...s.config.checkpoint, intervalMs } });
    },
  },
  { name: "one record per buffer", apply: (s) => (s.config.bufferRecords > 1 ? withConfig(s, { ...s.config, bufferRecords: 1 }) : undefined) },
  { name: "one credit per channel", apply: (s) => (s.config.channelCredits > 1 ? withConfig(s, { ...s.config, channelCredits: 1 }) : undefined) },
];

/** The job's default per-record costs a heavier variant steps through, in ms (the generator's values). */
const COST_STEPS_MS: readonly number[] = [0.01, 0.05, 0.2, 1];

/**
 * Heavier variants: the same scenario with more work per record, so a backlog forms with fewer
 * records. Not simpler in themselves: the second pass keeps one only if removals then drop more.
 */
export const HEAVIER: readonly Simplification[] = [
  {
    name: "a higher cost per record",
    apply: (s) => {
      const next = COST_STEPS_MS.find((c) => c > s.config.costMsPerRecord);
      return next === undefined ? undefined : withConfig(s, { ...s.config, costMsPerRecord: next });
    },
  },
];
