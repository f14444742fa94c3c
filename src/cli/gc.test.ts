import { describe, expect, test } from "vitest";
import { sweepWantsSingleThreadedGc } from "../../bin/gc.js";

describe("which commands run with single-threaded garbage collection", () => {
  const env = {};
  test("a sweep with two workers or more does, whether the count is given or is the core count", () => {
    expect(sweepWantsSingleThreadedGc(["sweep", "--workers", "2"], env, 1)).toBe(true);
    expect(sweepWantsSingleThreadedGc(["sweep", "--runs", "9", "--workers=4"], env, 1)).toBe(true);
    expect(sweepWantsSingleThreadedGc(["start"], env, 2)).toBe(true);
  });

  test("one worker, no workers, other commands and --help keep V8's default", () => {
    expect(sweepWantsSingleThreadedGc(["sweep", "--workers", "1"], env, 8)).toBe(false);
    expect(sweepWantsSingleThreadedGc(["sweep", "--workers", "0"], env, 8)).toBe(false);
    expect(sweepWantsSingleThreadedGc(["sweep"], env, 1)).toBe(false);
    expect(sweepWantsSingleThreadedGc(["run", "scenarios/a.json"], env, 8)).toBe(false);
    expect(sweepWantsSingleThreadedGc(["sweep", "--help"], env, 8)).toBe(false);
  });

  test("STREAMSIM_GC=default keeps V8's default for every command", () => {
    expect(sweepWantsSingleThreadedGc(["sweep", "--workers", "2"], { STREAMSIM_GC: "default" }, 2)).toBe(false);
  });
});
