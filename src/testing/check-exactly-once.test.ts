import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { buildBuggyOrdersPipeline, buildOrdersPipeline, orderRecord } from "../../examples/orders.ts";
import { ApiError } from "../engine/api/errors.ts";
import { KafkaSource, TwoPhaseCommitSink, WatermarkStrategy } from "../engine/api/index.ts";
import { parseScenario } from "../scenario-schema.ts";
import { checkExactlyOnce, ExactlyOnceViolation } from "./check-exactly-once.ts";

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "streamsim-check-"));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const SEED = 1;

/** The search for the plain-field bug, done once (two tests read it). */
let found: { violation: unknown; dir: string } | undefined;
function findPlainFieldBug(): { violation: unknown; dir: string } {
  if (found !== undefined) return found;
  const dir = tempDir();
  let violation: unknown;
  try {
    // A small shrinking budget keeps the test fast; the default (1500 runs) shrinks further.
    checkExactlyOnce(buildBuggyOrdersPipeline, {
      numRuns: 60,
      seed: SEED,
      maxRecords: 100,
      maxShrinkRuns: 150,
      records: orderRecord,
      reportDir: dir,
      name: "plain-field counter",
    });
  } catch (e) {
    violation = e;
  }
  found = { violation, dir };
  return found;
}

describe("checkExactlyOnce", () => {
  test("a keyed process function that keeps its count in a plain field is caught, shrunk and explained", () => {
    const { violation, dir } = findPlainFieldBug();
    expect(violation).toBeInstanceOf(ExactlyOnceViolation);
    const v = violation as ExactlyOnceViolation;
    const lines = v.message.split("\n");
    expect(lines[0]).toMatch(/^streamsim: exactly-once violated \(run \d+ of 60, shrunk \d+ times?(, stopped after 150 shrinking runs)?(, then minimized from \d+ records? and \d+ faults? in \d+ runs?|, then simplified in \d+ runs?)?\)$/);
    expect(lines[1]).toMatch(/^ {2}sink "order-counts" .*record \{"account":"acct-\d","orders":\d+\} committed \d+ times?, expected \d+/);
    expect(lines[2]).toBe(`  property        plain-field counter, seed ${SEED} (rerun it with STREAMSIM_SEED=${SEED})`);
    expect(lines[3]).toMatch(/^ {2}counterexample {2}\S+counterexample-\d+\.json {2}\(\d+ records?, \d+ faults?\)$/);
    expect(lines[4]).toBe(
      `  replay          STREAMSIM_SEED=${SEED} npx vitest run src/testing/check-exactly-once.test.ts -t ${JSON.stringify(expect.getState().currentTestName?.split(" > ").pop())}` +
        "   (the plan uses the test's own functions: it replays from the test, not from the file alone)",
    );
    expect(lines[5]).toMatch(/^ {2}timeline {8}\S+index\.html#run-\d+$/);
    const ce = v.counterexample;
    expect(ce.seed).toBe(SEED);
    // The shrunk case restored (from a checkpoint or from scratch): that is where the field's count is lost.
    expect(ce.run?.result.restores.length).toBeGreaterThan(0);
    expect(ce.run?.judgement.results.find((r) => r.check === "exactlyOnce")?.ok).toBe(false);
    expect(ce.records).toBeLessThanOrEqual(20);
    // The counterexample file records the failure; it names the test's functions (closure:N), which a file alone cannot replay.
    const path = resolve(ce.counterexamplePath as string);
    expect(path.startsWith(dir)).toBe(true);
    expect(existsSync(path)).toBe(true);
    const raw = JSON.parse(readFileSync(path, "utf8")) as { expect: { verdict: string; failingCheck: string; traceHash: string } };
    expect(raw.expect).toEqual({ verdict: "fail", failingCheck: "exactlyOnce", traceHash: ce.run?.result.traceHash });
    expect(parseScenario(readFileSync(path, "utf8"), path).ok).toBe(false);
  });

  test("the same pipeline with ValueState is exactly-once in every generated case", () => {
    const r = checkExactlyOnce(buildOrdersPipeline, { numRuns: 60, seed: SEED, maxRecords: 100, records: orderRecord, reportDir: false });
    expect(r).toEqual({ numRuns: 60, seed: SEED });
  });

  test("invalid options and pipelines are rejected with a sentence naming the problem", () => {
    expect(() => checkExactlyOnce(buildOrdersPipeline, { numRuns: 0 })).toThrow(new ApiError("checkExactlyOnce options.numRuns must be an integer in [1, 1000000], got 0"));
    expect(() => checkExactlyOnce(buildOrdersPipeline, { config: "pipeline", numRuns: 1 })).toThrow(
      /with config "pipeline", buildPipeline must enable checkpointing/,
    );
    expect(() => checkExactlyOnce(() => {}, { numRuns: 1 })).toThrow(/the pipeline has no sink/);
    let calls = 0;
    const unstable = (env: Parameters<typeof buildOrdersPipeline>[0]): void => {
      calls++;
      env.fromSource(KafkaSource.topic("in"), WatermarkStrategy.noWatermarks(), "in").sinkTo(TwoPhaseCommitSink.topic(`out-${calls}`));
    };
    expect(() => checkExactlyOnce(unstable, { numRuns: 1, seed: 1, reportDir: false })).toThrow(/built a different pipeline on a second call/);
  });
});
