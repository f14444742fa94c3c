import { describe, expect, test } from "vitest";
import { sweepNodeFlags } from "../../bin/gc.js";

const SEMI = ["--min-semi-space-size=16", "--max-semi-space-size=16"];

describe("which V8 flags a command runs with", () => {
  const env = {};
  test("a sweep with two workers or more runs single-threaded V8 with a fixed young generation, whether the count is given or is the core count", () => {
    expect(sweepNodeFlags(["sweep", "--workers", "2"], env, 1)).toEqual(["--single-threaded", ...SEMI]);
    expect(sweepNodeFlags(["sweep", "--runs", "9", "--workers=4"], env, 1)).toEqual(["--single-threaded", ...SEMI]);
    expect(sweepNodeFlags(["start"], env, 2)).toEqual(["--single-threaded", ...SEMI]);
  });

  test("a sweep with one worker or none keeps V8's helper threads, with the fixed young generation", () => {
    expect(sweepNodeFlags(["sweep", "--workers", "1"], env, 8)).toEqual(SEMI);
    expect(sweepNodeFlags(["sweep", "--workers", "0"], env, 8)).toEqual(SEMI);
    expect(sweepNodeFlags(["sweep"], env, 1)).toEqual(SEMI);
  });

  test("other commands and --help keep V8's defaults", () => {
    expect(sweepNodeFlags(["run", "scenarios/a.json"], env, 8)).toEqual([]);
    expect(sweepNodeFlags(["sweep", "--help"], env, 8)).toEqual([]);
  });

  test("STREAMSIM_GC=default keeps V8's defaults for every command", () => {
    expect(sweepNodeFlags(["sweep", "--workers", "2"], { STREAMSIM_GC: "default" }, 2)).toEqual([]);
  });
});
