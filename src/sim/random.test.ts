import { describe, expect, test } from "vitest";
import { AssertionFailure } from "./assert.ts";
import { Random, validateDistribution } from "./random.ts";
import type { Distribution } from "./random.ts";

const draw = (r: Random, n: number): number[] => Array.from({ length: n }, () => r.float());

describe("Random", () => {
  test("the same seed gives the same values", () => {
    expect(draw(Random.fromSeed(42), 50)).toEqual(draw(Random.fromSeed(42), 50));
    expect(draw(Random.fromSeed("run-7"), 50)).toEqual(draw(Random.fromSeed("run-7"), 50));
  });

  test("different seeds give different values", () => {
    expect(draw(Random.fromSeed(1), 10)).not.toEqual(draw(Random.fromSeed(2), 10));
  });

  test("float stays in [0, 1)", () => {
    const r = Random.fromSeed(3);
    for (let i = 0; i < 10_000; i++) {
      const v = r.float();
      expect(v >= 0 && v < 1).toBe(true);
    }
  });

  test("a fork's values do not depend on the order in which forks are made", () => {
    const first = Random.fromSeed(9);
    const aFirst = first.fork("a");
    first.fork("b");
    const second = Random.fromSeed(9);
    second.fork("b");
    const aSecond = second.fork("a");
    expect(draw(aFirst, 20)).toEqual(draw(aSecond, 20));
  });

  test("a fork's values do not depend on how much the parent has drawn", () => {
    const fresh = Random.fromSeed(9);
    const used = Random.fromSeed(9);
    draw(used, 100);
    expect(draw(fresh.fork("net"), 20)).toEqual(draw(used.fork("net"), 20));
  });

  test("forks with different names, and nested forks, give different streams", () => {
    const root = Random.fromSeed(5);
    const a = draw(root.fork("a"), 10);
    expect(a).not.toEqual(draw(root.fork("b"), 10));
    expect(a).not.toEqual(draw(root.fork("a").fork("a"), 10));
    expect(a).not.toEqual(draw(Random.fromSeed(5), 10));
  });

  test("forking the same name twice gives identical streams", () => {
    const root = Random.fromSeed(5);
    expect(draw(root.fork("x"), 10)).toEqual(draw(root.fork("x"), 10));
  });

  test("forking an empty name asserts", () => {
    expect(() => Random.fromSeed(1).fork("")).toThrow(AssertionFailure);
  });

  test("a restored capture continues the stream exactly where it was", () => {
    const r = Random.fromSeed("cap").fork("disk");
    draw(r, 37);
    const state = r.capture();
    const expected = draw(r, 25);
    const restored = Random.restore(state);
    expect(restored.path).toBe(r.path);
    expect(draw(restored, 25)).toEqual(expected);
  });

  test("a capture survives a JSON round trip", () => {
    const r = Random.fromSeed(11);
    draw(r, 5);
    const state = JSON.parse(JSON.stringify(r.capture())) as ReturnType<Random["capture"]>;
    const expected = draw(r, 10);
    expect(draw(Random.restore(state), 10)).toEqual(expected);
  });

  test("drawing from a restored stream does not move the original", () => {
    const r = Random.fromSeed(12);
    const state = r.capture();
    draw(Random.restore(state), 10);
    expect(draw(r, 10)).toEqual(draw(Random.restore(state), 10));
  });

  test("int bounds are inclusive and every value in a small range appears", () => {
    const r = Random.fromSeed(13);
    const seen = new Set<number>();
    for (let i = 0; i < 2_000; i++) {
      const v = r.int(-2, 2);
      expect(Number.isInteger(v)).toBe(true);
      expect(v).toBeGreaterThanOrEqual(-2);
      expect(v).toBeLessThanOrEqual(2);
      seen.add(v);
    }
    expect([...seen].sort((x, y) => x - y)).toEqual([-2, -1, 0, 1, 2]);
  });

  test("int of a one-value range returns that value", () => {
    const r = Random.fromSeed(14);
    for (let i = 0; i < 20; i++) expect(r.int(7, 7)).toBe(7);
  });

  test("int asserts on an empty range and on fractional bounds", () => {
    const r = Random.fromSeed(15);
    expect(() => r.int(3, 2)).toThrow(AssertionFailure);
    expect(() => r.int(0.5, 2)).toThrow(AssertionFailure);
  });

  test("chance(0) is never true, chance(1) always, and other probabilities are in range", () => {
    const r = Random.fromSeed(16);
    let hits = 0;
    for (let i = 0; i < 1_000; i++) {
      expect(r.chance(0)).toBe(false);
      expect(r.chance(1)).toBe(true);
      if (r.chance(0.5)) hits++;
    }
    expect(hits).toBeGreaterThan(350);
    expect(hits).toBeLessThan(650);
    expect(() => r.chance(1.5)).toThrow(AssertionFailure);
    expect(() => r.chance(-0.1)).toThrow(AssertionFailure);
  });

  test("pick returns a member of the list and asserts on an empty one", () => {
    const r = Random.fromSeed(17);
    const items = ["a", "b", "c"] as const;
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) seen.add(r.pick(items));
    expect([...seen].sort()).toEqual(["a", "b", "c"]);
    expect(() => r.pick([])).toThrow(AssertionFailure);
  });

  test("shuffle returns a permutation and leaves its input alone", () => {
    const r = Random.fromSeed(18);
    const input = Array.from({ length: 50 }, (_, i) => i);
    const copy = input.slice();
    const out = r.shuffle(input);
    expect(input).toEqual(copy);
    expect(out).not.toBe(input);
    expect(out.slice().sort((x, y) => x - y)).toEqual(input);
    expect(out).not.toEqual(input);
    expect(r.shuffle([])).toEqual([]);
    expect(r.shuffle(["only"])).toEqual(["only"]);
  });

  test("exponential is non-negative and finite, and a zero mean gives zero", () => {
    const r = Random.fromSeed(19);
    let sum = 0;
    for (let i = 0; i < 5_000; i++) {
      const v = r.exponential(10);
      expect(v >= 0 && Number.isFinite(v)).toBe(true);
      sum += v;
    }
    expect(sum / 5_000).toBeGreaterThan(8);
    expect(sum / 5_000).toBeLessThan(12);
    expect(r.exponential(0)).toBe(0);
    expect(() => r.exponential(-1)).toThrow(AssertionFailure);
  });

  const distributions: Array<{ d: Distribution; min: number; max: number }> = [
    { d: { kind: "constant", ms: 4 }, min: 4, max: 4 },
    { d: { kind: "uniform", minMs: 2, maxMs: 9 }, min: 2, max: 9 },
    { d: { kind: "uniform", minMs: 3, maxMs: 3 }, min: 3, max: 3 },
    { d: { kind: "exponential", meanMs: 5, maxMs: 12 }, min: 0, max: 12 },
    { d: { kind: "bimodal", baseMs: 1, tailProbability: 0.2, tailMsMax: 50 }, min: 1, max: 50 },
    { d: { kind: "bimodal", baseMs: 1, tailProbability: 1, tailMsMax: 50 }, min: 1, max: 50 },
  ];
  for (const { d, min, max } of distributions) {
    test(`sample of ${JSON.stringify(d)} stays in [${min}, ${max}]`, () => {
      expect(validateDistribution(d, "d")).toBeUndefined();
      const r = Random.fromSeed(`sample-${d.kind}`);
      for (let i = 0; i < 3_000; i++) {
        const v = r.sample(d);
        expect(Number.isFinite(v)).toBe(true);
        expect(v).toBeGreaterThanOrEqual(min);
        expect(v).toBeLessThanOrEqual(max);
      }
    });
  }

  test("bimodal sample takes the tail about as often as its probability says", () => {
    const r = Random.fromSeed(20);
    let tail = 0;
    for (let i = 0; i < 4_000; i++) if (r.sample({ kind: "bimodal", baseMs: 1, tailProbability: 0.25, tailMsMax: 9 }) !== 1) tail++;
    expect(tail).toBeGreaterThan(800);
    expect(tail).toBeLessThan(1_200);
  });

  test("validateDistribution names the offending field", () => {
    expect(validateDistribution({ kind: "constant", ms: -1 }, "net.latency")).toMatch(/^net\.latency\.ms must be/);
    expect(validateDistribution({ kind: "uniform", minMs: 5, maxMs: 1 }, "x")).toMatch(/x\.maxMs/);
    expect(validateDistribution({ kind: "exponential", meanMs: Number.NaN, maxMs: 1 }, "x")).toMatch(/x\.meanMs/);
    expect(validateDistribution({ kind: "bimodal", baseMs: 1, tailProbability: 2, tailMsMax: 5 }, "x")).toMatch(
      /x\.tailProbability must be in \[0, 1\], got 2/,
    );
    expect(validateDistribution({ kind: "bimodal", baseMs: 6, tailProbability: 0.1, tailMsMax: 5 }, "x")).toMatch(/x\.tailMsMax/);
  });
});
