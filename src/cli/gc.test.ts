import { describe, expect, test } from "vitest";
import { DEFAULT_RUNS, LONG_SWEEP_RUNS, semiSpaceMb, sweepNodeFlags } from "../../bin/gc.js";
import { DEFAULT_RUNS as CLI_DEFAULT_RUNS } from "./main.ts";

const GIB = 2 ** 30;
const semi = (mb: number): string[] => [`--min-semi-space-size=${mb}`, `--max-semi-space-size=${mb}`];
/** On 24 GiB: 128 MB semi-spaces. */
const SEMI = semi(128);

describe("which V8 flags a command runs with", () => {
  const env = {};
  test("a sweep with two workers or more runs single-threaded V8 with a fixed young generation, whether the count is given or is the core count", () => {
    expect(sweepNodeFlags(["sweep", "--runs", "5000", "--workers", "2"], env, 1, 24 * GIB)).toEqual(["--single-threaded", ...SEMI]);
    expect(sweepNodeFlags(["sweep", "--runs=1000", "--workers=4"], env, 1, 24 * GIB)).toEqual(["--single-threaded", ...SEMI]);
    expect(sweepNodeFlags(["start", "--runs", "2000"], env, 2, 24 * GIB)).toEqual(["--single-threaded", ...SEMI]);
  });

  test("a sweep with one worker or none keeps V8's helper threads, with the fixed young generation", () => {
    expect(sweepNodeFlags(["sweep", "--workers", "1", "--runs", "1000"], env, 8, 24 * GIB)).toEqual(SEMI);
    expect(sweepNodeFlags(["sweep", "--workers", "0", "--runs", "1000"], env, 8, 24 * GIB)).toEqual(SEMI);
    expect(sweepNodeFlags(["sweep", "--runs", "1000"], env, 1, 24 * GIB)).toEqual(SEMI);
  });

  test("the young generation is as large as an eighth of the memory allows for every thread, between 16 and 128 MB", () => {
    // Two semi-spaces a thread, the workers and the main thread: 2 * 128 MB * 3 = 768 MB <= 24 GiB / 8.
    expect(semiSpaceMb(2, 24 * GIB)).toBe(128);
    // 8 GiB / 8 = 1 GiB for 9 threads: 2 * 32 * 9 = 576 MB fits, 2 * 64 * 9 = 1152 MB does not.
    expect(semiSpaceMb(8, 8 * GIB)).toBe(32);
    expect(sweepNodeFlags(["sweep", "--workers", "8", "--runs", "1000"], env, 2, 8 * GIB)).toEqual(["--single-threaded", ...semi(32)]); // 8 GiB / 2 = 4 GiB: V8's default stays
    // Never below 16 MB, however little memory and however many workers.
    expect(semiSpaceMb(64, 2 * GIB)).toBe(16);
    // No workers (runs in the main thread): 2 GiB / 8 = 256 MB = 2 * 64 MB * 2 threads.
    expect(semiSpaceMb(0, 2 * GIB)).toBe(64);
  });

  test("a long sweep keeps V8's old-generation limit: its main thread's heap does not grow with the runs", () => {
    expect(sweepNodeFlags(["sweep", "--workers", "1", "--runs", "1000000"], env, 2, 16 * GIB)).toEqual(semi(128));
    expect(sweepNodeFlags(["sweep", "--workers", "2", "--runs", "1000000"], env, 2, 64 * GIB).some((f) => f.startsWith("--max-old-space-size"))).toBe(false);
  });

  test("a short sweep (fewer than LONG_SWEEP_RUNS runs, the default 100 included) keeps V8's defaults: it is mostly start-up and warm-up", () => {
    expect(LONG_SWEEP_RUNS).toBe(1000);
    // bin/gc.js decides before the CLI parses anything, so it must assume the CLI's own default.
    expect(DEFAULT_RUNS).toBe(CLI_DEFAULT_RUNS);
    expect(sweepNodeFlags(["start"], env, 2, 24 * GIB)).toEqual([]);
    expect(sweepNodeFlags(["sweep", "--workers", "2"], env, 2, 24 * GIB)).toEqual([]);
    expect(sweepNodeFlags(["sweep", "--runs", "999", "--time-budget", "60s"], env, 2, 24 * GIB)).toEqual([]);
  });

  test("other commands and --help keep V8's defaults", () => {
    expect(sweepNodeFlags(["run", "scenarios/a.json"], env, 8)).toEqual([]);
    expect(sweepNodeFlags(["sweep", "--runs", "5000", "--help"], env, 8)).toEqual([]);
  });

  test("STREAMSIM_GC=default keeps V8's defaults for every command", () => {
    expect(sweepNodeFlags(["sweep", "--runs", "5000", "--workers", "2"], { STREAMSIM_GC: "default" }, 2)).toEqual([]);
  });
});
