/**
 * Fault points (FoundationDB's BUGGIFY): named places in the code where a rare path may be forced.
 *
 *   if (ctx.faultPoints.maybe("sink.precommit.slow")) delayMs *= 10;
 *
 * The first time a run reaches a name, the point is decided active or not (activationProbability);
 * an active point then fires on each call with fireProbability. Both decisions come from the
 * point's own stream `random.fork("buggify/" + name)`, so whether and when a point fires depends
 * only on the seed, its name and how often it was called, never on the order in which points are
 * first reached or on other points. Disabled fault points never fire.
 *
 * `stats()` tells which points were reached, active and fired, so a suite can check over many runs
 * that every point really fired at least once (a fault path that never runs tests nothing).
 */
import { assert } from "./assert.ts";
import type { Random } from "./random.ts";

export type FaultPointsOptions = {
  /** Whether fault points may fire at all; when false `maybe` always returns false. */
  readonly enabled: boolean;
  /** Probability that a point is active in a run, decided the first time it is reached. */
  readonly activationProbability: number;
  /** Probability that an active point fires on one call. */
  readonly fireProbability: number;
};

export const defaultFaultPointsOptions: FaultPointsOptions = { enabled: true, activationProbability: 0.25, fireProbability: 0.25 };

/** Checks fault-point options; returns an error sentence naming the field, or undefined. */
export function validateFaultPointsOptions(o: FaultPointsOptions): string | undefined {
  const probability = (v: number, name: string): string | undefined =>
    v >= 0 && v <= 1 ? undefined : `buggify.${name} must be in [0, 1], got ${v}`;
  return probability(o.activationProbability, "activationProbability") ?? probability(o.fireProbability, "fireProbability");
}

export type FaultPointStats = {
  readonly name: string;
  /** Whether the point was active in this run. */
  readonly active: boolean;
  /** Calls to `maybe(name)`. */
  readonly calls: number;
  /** Calls that returned true. */
  readonly fired: number;
};

type Point = { readonly name: string; readonly active: boolean; readonly stream: Random | null; calls: number; fired: number };

export class FaultPoints {
  readonly options: FaultPointsOptions;
  private readonly points = new Map<string, Point>();

  constructor(
    private readonly random: Random,
    options: Partial<FaultPointsOptions> = {},
  ) {
    this.options = { ...defaultFaultPointsOptions, ...options };
    const err = validateFaultPointsOptions(this.options);
    assert(err === undefined, err ?? "");
  }

  get enabled(): boolean {
    return this.options.enabled;
  }

  /** Whether the fault point `name` fires now. */
  maybe(name: string): boolean {
    const p = this.point(name);
    p.calls++;
    if (p.stream === null || !p.stream.chance(this.options.fireProbability)) return false;
    p.fired++;
    return true;
  }

  /** Whether `name` is active in this run (decides it if the point was not reached yet; counts no call). */
  isActive(name: string): boolean {
    return this.point(name).active;
  }

  /** How often `name` fired so far (0 for a point never reached). */
  fired(name: string): number {
    return this.points.get(name)?.fired ?? 0;
  }

  /** Every point reached so far, sorted by name. */
  stats(): FaultPointStats[] {
    return [...this.points.values()]
      .map(({ name, active, calls, fired }) => ({ name, active, calls, fired }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  private point(name: string): Point {
    assert(name.length > 0, "fault point name must not be empty");
    let p = this.points.get(name);
    if (p === undefined) {
      if (this.options.enabled) {
        const stream = this.random.fork("buggify/" + name);
        const active = stream.chance(this.options.activationProbability);
        p = { name, active, stream: active ? stream : null, calls: 0, fired: 0 };
      } else {
        p = { name, active: false, stream: null, calls: 0, fired: 0 };
      }
      this.points.set(name, p);
    }
    return p;
  }
}

/**
 * Totals of several runs' `stats()`, sorted by name: `active` counts the runs in which a point was
 * active. A suite asserts `fired > 0` for every point it expects to be exercised.
 */
export function mergeFaultPointStats(
  runs: ReadonlyArray<readonly FaultPointStats[]>,
): Array<{ name: string; runs: number; active: number; calls: number; fired: number }> {
  const total = new Map<string, { name: string; runs: number; active: number; calls: number; fired: number }>();
  for (const run of runs) {
    for (const s of run) {
      let t = total.get(s.name);
      if (t === undefined) total.set(s.name, (t = { name: s.name, runs: 0, active: 0, calls: 0, fired: 0 }));
      t.runs++;
      if (s.active) t.active++;
      t.calls += s.calls;
      t.fired += s.fired;
    }
  }
  return [...total.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
