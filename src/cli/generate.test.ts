import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { canonicalJson } from "../sim/trace.ts";
import { livableTimeoutMs, planDepth } from "../gen/config.ts";
import { parseScenario, serializeScenario } from "../scenario-schema.ts";
import type { Scenario } from "../scenario.ts";
import type { Outcome } from "./generate.ts";
import { DEFAULT_FAULT_LEVEL, DEFAULT_SHRINK_RUNS, FAULT_LEVELS, MAX_SEED, caseArb, caseSeed, checkCase, generateCase, judgeSafely, shardIndexAt, shardIndexes, shardSize } from "./generate.ts";
import type { CaseTask } from "./task.ts";
import { caseTaskResult } from "./task.ts";
import { OPTION_DEFAULTS } from "./main.ts";

describe("generated cases", () => {
  test("case seeds depend only on the sweep seed and the run index, and stay 31-bit", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_SEED }), fc.nat(1_000_000), (seed, i) => {
        const s = caseSeed(seed, i);
        return s === caseSeed(seed, i) && Number.isInteger(s) && s >= 0 && s <= MAX_SEED;
      }),
      { numRuns: 200 },
    );
    const firstHundred = new Set(Array.from({ length: 100 }, (_, i) => caseSeed(42, i)));
    expect(firstHundred.size).toBe(100);
  });

  test("shards split the runs into disjoint sets that cover them all", () => {
    fc.assert(
      fc.property(fc.nat(200), fc.integer({ min: 1, max: 9 }), (runs, n) => {
        const all = Array.from({ length: n }, (_, k) => shardIndexes(runs, { index: k + 1, count: n })).flat();
        return all.length === runs && new Set(all).size === runs && all.every((i) => i < runs);
      }),
      { numRuns: 100 },
    );
    expect(shardIndexes(7, { index: 2, count: 3 })).toEqual([1, 4]);
  });

  test("a shard's size and k-th index, made on demand, are those of its list of indexes", () => {
    fc.assert(
      fc.property(fc.nat(200), fc.integer({ min: 1, max: 9 }), fc.nat(8), (runs, n, k) => {
        const shard = k < n ? { index: k + 1, count: n } : undefined;
        const list = shardIndexes(runs, shard);
        return shardSize(runs, shard) === list.length && list.every((i, j) => shardIndexAt(j, shard) === i);
      }),
      { numRuns: 200 },
    );
  });

  test("a case is the same scenario whether sampled or drawn by the shrinking check, named and seeded by its case seed", () => {
    for (const seed of [3, 918273]) {
      const sampled = generateCase(seed, "light");
      expect(sampled.seed).toBe(seed);
      expect(sampled.name).toBe(`generated-seed-${seed}`);
      let drawn: unknown;
      fc.check(
        fc.property(caseArb(seed, "light"), (s) => {
          drawn ??= s;
          return true;
        }),
        { seed, numRuns: 1 },
      );
      expect(canonicalJson(drawn)).toBe(canonicalJson(sampled));
    }
  });

  test("a fast-check path regenerates the shrunk case it leads to", () => {
    const seed = 11;
    const r = fc.check(
      fc.property(caseArb(seed, "normal"), (s) => s.plan.nodes.length < 3),
      { seed, numRuns: 1 },
    );
    expect(r.failed).toBe(true);
    const shrunk = (r.counterexample as readonly [unknown] | null)?.[0];
    expect(canonicalJson(generateCase(seed, "normal", r.counterexamplePath ?? ""))).toBe(canonicalJson(shrunk));
  });

  test("a passing case is run once and not shrunk", () => {
    const r = checkCase(5, "none", 10);
    expect(r.original.checked?.judgement.verdict).toBe("pass");
    expect(r.shrunk).toBeUndefined();
  });

  test("the command line's option defaults are the generators'", () => {
    expect(OPTION_DEFAULTS).toEqual({ FAULT_LEVELS, DEFAULT_FAULT_LEVEL, DEFAULT_SHRINK_RUNS, MAX_SEED });
  });
});

describe("counterexamples", () => {
  // The engine passes every generated case we know of, so a judge that calls runs with more than
  // one plan node a failure of exactly-once stands in for a bug; shrinking must keep it failing.
  const strict = (s: Scenario): Outcome => {
    const o = judgeSafely(s);
    if (o.checked === undefined || s.plan.nodes.length <= 2) return o;
    const results = o.checked.judgement.results.map((c) => (c.check === "exactlyOnce" || c === o.checked?.judgement.results[0] ? { ...c, ok: false, message: "stand-in failure" } : c));
    return { ...o, checked: { ...o.checked, judgement: { verdict: "fail", results, summary: "fail: stand-in failure" } } };
  };

  test("a failing case is shrunk to a smaller failing case, saved as a scenario file that records the failure", () => {
    const seed = caseSeed(1, 0);
    const result = checkCase(seed, "light", 30, strict);
    expect(result.shrunk).toBeDefined();
    const shrunk = result.shrunk?.outcome.scenario;
    expect(shrunk?.plan.nodes.length).toBe(3);
    const t: CaseTask = { kind: "case", index: 0, seed, faults: "light", shrinkRuns: 30, outDir: "reports/x", dateTag: "2026-11-24", sweepSeed: 1 };
    const { record, counterexample } = caseTaskResult(t, result);
    expect(record.asExpected).toBe(false);
    expect(record.counterexamplePath).toBe("reports/x/counterexample-0.json");
    expect(record.replayCommand).toBe("npx streamsim replay reports/x/counterexample-0.json");
    expect(record.traceHash).toBe(result.shrunk?.outcome.checked?.result.traceHash);
    const parsed = parseScenario(serializeScenario(counterexample?.scenario as Scenario), "counterexample-0.json");
    expect(parsed.ok).toBe(true);
    const saved = parsed.ok ? parsed.scenario : undefined;
    expect(saved?.name).toBe(`sweep-2026-11-24-seed-${seed}`);
    expect(saved?.expect?.verdict).toBe("fail");
    expect(saved?.expect?.traceHash).toBe(record.traceHash);
    expect(canonicalJson(saved?.plan)).toBe(canonicalJson(shrunk?.plan));
    // The path fast-check printed regenerates the shrunk case.
    expect(canonicalJson(generateCase(seed, "light", result.shrunk?.path))).toBe(canonicalJson(shrunk));
  });
});

describe("generated cases can finish", () => {
  test("the case that found the timeout floor finishes once its faults are taken away (a 200 ms timeout let every checkpoint expire)", () => {
    // streamsim sweep --seed 9, run 4267: 10 operators, network latency up to 21 ms, storage up to
    // 12 ms; its idle checkpoints take about 300 ms.
    const seed = 372232609;
    const [s] = fc.sample(caseArb(seed, "normal"), { seed, numRuns: 1 });
    if (s === undefined) throw new Error("no case");
    expect(planDepth(s.plan)).toBe(7);
    expect(s.config.checkpoint.timeoutMs).toBe(livableTimeoutMs(s.plan, s.cluster, s.config));
    const r = judgeSafely({ ...s, faults: { ...s.faults, faults: [] } });
    expect(r.checked?.result.status).toBe("FINISHED");
    expect(r.checked?.judgement.verdict).toBe("pass");
  });
});
