/**
 * Seeded, forkable randomness for the simulated world.
 *
 * One seed drives a run. Each component takes its own named substream with `fork(name)`; a
 * substream's values depend only on the root seed and the path of names that leads to it, never
 * on how many other forks were made or in which order, so adding a component does not shift the
 * others' randomness.
 *
 * Algorithm: seedrandom's `alea` (measured in bench/kernel.ts against xor4096: alea is the faster of
 * the two on V8 and supports state capture/restore, which both need).
 */
import seedrandom from "seedrandom";
import { assert } from "./assert.ts";

export type RandomState = { readonly path: string; readonly prng: object };

/** A latency or duration distribution; every field carries its unit. */
export type Distribution =
  | { readonly kind: "constant"; readonly ms: number }
  | { readonly kind: "uniform"; readonly minMs: number; readonly maxMs: number }
  | { readonly kind: "exponential"; readonly meanMs: number; readonly maxMs: number }
  /** Mostly `baseMs`, with probability `tailProbability` a draw from uniform(baseMs, tailMsMax). */
  | { readonly kind: "bimodal"; readonly baseMs: number; readonly tailProbability: number; readonly tailMsMax: number };

type AleaPrng = seedrandom.PRNG & { state(): object };

export class Random {
  readonly path: string;
  /** A forked stream's generator is created on first use: seeding alea hashes the path, and many forks never draw. */
  private generator: AleaPrng | undefined;

  private constructor(path: string, state?: object) {
    this.path = path;
    if (state !== undefined) this.generator = seedrandom.alea("", { state: state as never }) as AleaPrng;
  }

  private get prng(): AleaPrng {
    if (this.generator === undefined) this.generator = seedrandom.alea(this.path, { state: true }) as AleaPrng;
    return this.generator;
  }

  /** The root stream of a run. */
  static fromSeed(seed: number | string): Random {
    return new Random(`streamsim:${String(seed)}`);
  }

  /** Rebuild a stream from `capture()`; it continues exactly where the captured one was. */
  static restore(state: RandomState): Random {
    return new Random(state.path, state.prng);
  }

  /**
   * An independent substream named `name`. Forking the same name twice from the same parent gives
   * two identical streams: give each consumer its own name.
   */
  fork(name: string): Random {
    assert(name.length > 0, "fork name must not be empty");
    return new Random(`${this.path}/${name}`);
  }

  capture(): RandomState {
    return { path: this.path, prng: this.prng.state() };
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.prng();
  }

  /** Uniform integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    assert(Number.isInteger(min) && Number.isInteger(max), "int bounds must be integers");
    if (!(max >= min)) assert(false, `int range is empty: [${min}, ${max}]`);
    return min + Math.floor(this.prng() * (max - min + 1));
  }

  /** True with probability p (p in [0, 1]). */
  chance(p: number): boolean {
    if (!(p >= 0 && p <= 1)) assert(false, `probability out of range: ${p}`);
    if (p === 0) return false;
    if (p === 1) return true;
    return this.prng() < p;
  }

  pick<T>(items: readonly T[]): T {
    assert(items.length > 0, "pick from an empty list");
    return items[Math.floor(this.prng() * items.length)] as T;
  }

  /** A shuffled copy (Fisher-Yates); the input is not modified. */
  shuffle<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.prng() * (i + 1));
      const tmp = out[i] as T;
      out[i] = out[j] as T;
      out[j] = tmp;
    }
    return out;
  }

  /** Exponentially distributed with the given mean. */
  exponential(mean: number): number {
    if (!(mean >= 0)) assert(false, `exponential mean must be >= 0, got ${mean}`);
    // 1 - float() is in (0, 1], so the log is finite.
    return -mean * Math.log(1 - this.prng());
  }

  /** A draw from a distribution, in milliseconds, never negative, always finite. */
  sample(d: Distribution): number {
    switch (d.kind) {
      case "constant":
        return d.ms;
      case "uniform":
        return d.minMs + this.prng() * (d.maxMs - d.minMs);
      case "exponential":
        return Math.min(d.maxMs, this.exponential(d.meanMs));
      case "bimodal":
        return this.chance(d.tailProbability) ? d.baseMs + this.prng() * (d.tailMsMax - d.baseMs) : d.baseMs;
    }
  }
}

/** The longest draw a distribution can give, in milliseconds. */
export function maxDrawMs(d: Distribution): number {
  switch (d.kind) {
    case "constant":
      return d.ms;
    case "uniform":
    case "exponential":
      return d.maxMs;
    case "bimodal":
      return Math.max(d.baseMs, d.tailMsMax);
  }
}

/** Checks a distribution's fields; returns an error sentence naming the field, or undefined. */
export function validateDistribution(d: Distribution, field: string): string | undefined {
  const nonNeg = (v: number, name: string): string | undefined =>
    Number.isFinite(v) && v >= 0 ? undefined : `${field}.${name} must be a finite number >= 0, got ${v}`;
  switch (d.kind) {
    case "constant":
      return nonNeg(d.ms, "ms");
    case "uniform":
      return nonNeg(d.minMs, "minMs") ?? nonNeg(d.maxMs, "maxMs") ??
        (d.maxMs < d.minMs ? `${field}.maxMs (${d.maxMs}) must be >= ${field}.minMs (${d.minMs})` : undefined);
    case "exponential":
      return nonNeg(d.meanMs, "meanMs") ?? nonNeg(d.maxMs, "maxMs");
    case "bimodal":
      return nonNeg(d.baseMs, "baseMs") ?? nonNeg(d.tailMsMax, "tailMsMax") ??
        (d.tailProbability < 0 || d.tailProbability > 1
          ? `${field}.tailProbability must be in [0, 1], got ${d.tailProbability}`
          : d.tailMsMax < d.baseMs ? `${field}.tailMsMax must be >= ${field}.baseMs` : undefined);
  }
}
