import { describe, expect, test } from "vitest";
import { FaultPoints, mergeFaultPointStats, validateFaultPointsOptions, defaultFaultPointsOptions } from "./faultpoints.ts";
import { Random } from "./random.ts";

const names = Array.from({ length: 40 }, (_, i) => `point-${String(i).padStart(2, "0")}`);

/** Calls every point `calls` times in the given order and returns the sequence of answers. */
function drive(fp: FaultPoints, order: readonly string[], calls: number): string {
  let out = "";
  for (let round = 0; round < calls; round++) for (const n of order) out += fp.maybe(n) ? "1" : "0";
  return out;
}

describe("FaultPoints", () => {
  test("the same seed gives the same activations and firings", () => {
    const a = new FaultPoints(Random.fromSeed(7));
    const b = new FaultPoints(Random.fromSeed(7));
    expect(drive(a, names, 20)).toBe(drive(b, names, 20));
    expect(a.stats()).toEqual(b.stats());
    const c = new FaultPoints(Random.fromSeed(8));
    drive(c, names, 20);
    expect(c.stats()).not.toEqual(a.stats());
  });

  test("disabled fault points never fire", () => {
    for (let seed = 0; seed < 5; seed++) {
      const fp = new FaultPoints(Random.fromSeed(seed), { enabled: false, activationProbability: 1, fireProbability: 1 });
      expect(drive(fp, names, 10)).not.toContain("1");
      expect(fp.stats().every((s) => !s.active && s.fired === 0 && s.calls === 10)).toBe(true);
    }
  });

  test("activation and firing roughly follow their probabilities", () => {
    let active = 0;
    let points = 0;
    let fired = 0;
    let activeCalls = 0;
    for (let seed = 0; seed < 20; seed++) {
      const fp = new FaultPoints(Random.fromSeed(seed), { activationProbability: 0.3, fireProbability: 0.2 });
      drive(fp, names, 50);
      for (const s of fp.stats()) {
        points++;
        if (s.active) {
          active++;
          activeCalls += s.calls;
          fired += s.fired;
        } else {
          expect(s.fired).toBe(0);
        }
      }
    }
    // 800 activation draws at 0.3 and ~12000 fire draws at 0.2: loose bounds, many sigmas wide.
    expect(active / points).toBeGreaterThan(0.2);
    expect(active / points).toBeLessThan(0.4);
    expect(fired / activeCalls).toBeGreaterThan(0.15);
    expect(fired / activeCalls).toBeLessThan(0.25);
  });

  test("probabilities of 1 fire on every call and 0 never", () => {
    const always = new FaultPoints(Random.fromSeed(1), { activationProbability: 1, fireProbability: 1 });
    expect(drive(always, ["a", "b"], 5)).toBe("1111111111");
    const never = new FaultPoints(Random.fromSeed(1), { activationProbability: 1, fireProbability: 0 });
    expect(drive(never, ["a", "b"], 5)).toBe("0000000000");
    expect(never.isActive("a")).toBe(true);
  });

  test("whether a point is active and when it fires does not depend on the order points are first reached", () => {
    const forward = new FaultPoints(Random.fromSeed(3));
    const backward = new FaultPoints(Random.fromSeed(3));
    const shuffled = new FaultPoints(Random.fromSeed(3));
    drive(forward, names, 30);
    drive(backward, [...names].reverse(), 30);
    drive(shuffled, Random.fromSeed("order").shuffle(names), 30);
    expect(backward.stats()).toEqual(forward.stats());
    expect(shuffled.stats()).toEqual(forward.stats());
    // A point's firing sequence is its own: other points interleaving does not change it.
    const alone = new FaultPoints(Random.fromSeed(3));
    const target = forward.stats().find((s) => s.active)?.name ?? "point-00";
    const seqAlone = drive(alone, [target], 30);
    const mixed = new FaultPoints(Random.fromSeed(3));
    let seqMixed = "";
    for (let i = 0; i < 30; i++) {
      mixed.maybe(`noise-${i}`);
      seqMixed += mixed.maybe(target) ? "1" : "0";
    }
    expect(seqMixed).toBe(seqAlone);
  });

  test("stats are sorted by name and fired counts per name", () => {
    const fp = new FaultPoints(Random.fromSeed(1), { activationProbability: 1, fireProbability: 1 });
    fp.maybe("zeta");
    fp.maybe("alpha");
    fp.maybe("alpha");
    expect(fp.stats()).toEqual([
      { name: "alpha", active: true, calls: 2, fired: 2 },
      { name: "zeta", active: true, calls: 1, fired: 1 },
    ]);
    expect(fp.fired("alpha")).toBe(2);
    expect(fp.fired("never-reached")).toBe(0);
  });

  test("stats merged over runs show which points fired at least once", () => {
    const runs = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((seed) => {
      const fp = new FaultPoints(Random.fromSeed(seed), { activationProbability: 0.5, fireProbability: 0.5 });
      drive(fp, ["a", "b", "c"], 10);
      return fp.stats();
    });
    const merged = mergeFaultPointStats(runs);
    expect(merged.map((m) => m.name)).toEqual(["a", "b", "c"]);
    expect(merged.every((m) => m.runs === 10 && m.calls === 100)).toBe(true);
    expect(merged.every((m) => m.fired > 0)).toBe(true);
    expect(merged.map((m) => m.fired)).toEqual(["a", "b", "c"].map((n) => runs.reduce((t, r) => t + (r.find((s) => s.name === n)?.fired ?? 0), 0)));
  });

  test("invalid options are refused with a sentence naming the field", () => {
    expect(validateFaultPointsOptions(defaultFaultPointsOptions)).toBeUndefined();
    expect(validateFaultPointsOptions({ ...defaultFaultPointsOptions, fireProbability: 1.5 })).toBe(
      "buggify.fireProbability must be in [0, 1], got 1.5",
    );
    expect(() => new FaultPoints(Random.fromSeed(1), { activationProbability: -1 })).toThrow("buggify.activationProbability");
    expect(() => new FaultPoints(Random.fromSeed(1)).maybe("")).toThrow("must not be empty");
  });
});
