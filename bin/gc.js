// The V8 flags a streamsim command runs with (bin/streamsim.js starts itself again with them:
// V8 takes these flags at start-up only; setting GC flags at run time crashed V8 in session 4).
//
// A sweep (`sweep`, `start`) runs thousands of short simulations, one worker thread per core by
// default. Measured with `npm run bench sweep` and `npm run bench runs` (docs/performance.md):
// - A fixed young-generation semi-space, as large as memory allows up to 128 MB
//   (`--min-semi-space-size=N --max-semi-space-size=N`, N in 16, 32, 64, 128). A run allocates
//   about 3 MB and is dead once it returns, so what a scavenge copies is the one run in progress,
//   whatever the size: a larger semi-space means fewer scavenges for the same copying each. 128 MB
//   against session 5's 16 MB: about 15-20% less CPU per run (one worker and two), and the one-worker
//   setting leans less on V8's helper threads. It costs two semi-spaces of memory per thread, so
//   the size is the largest whose young generations (workers and the main thread) take at most an
//   eighth of the machine's memory; 16 MB at least (V8 otherwise shrinks the semi-space after runs
//   that leave nothing alive, and collects more often than a sweep needs).
// - With two workers or more, `--single-threaded`: V8's helper threads (the optimising compiler's
//   and the collector's) are shared by the process's workers, and with a worker on every core
//   they can only take time from the other workers. Two worker threads did 14% fewer runs per
//   CPU-second than one with them and as many without (two separate processes scaled 2.0x while
//   two threads in one process scaled 1.65x). Session 4 had only `--single-threaded-gc`.
// With one worker (or none) the helpers use an otherwise idle core and stay.
// Only for a long sweep (`--runs` of LONG_SWEEP_RUNS or more): the flags pay off in the steady state
// after a few hundred runs per worker, while a short sweep such as `npm start` (100 runs) is mostly
// start-up and JIT warm-up, where they cost the command's second start (0.3-0.4 s) and, with two
// workers, put the compiler on the workers' own threads.
// No larger old generation: until session 8 the main thread kept every run's record for the
// reports (about 5.6 KB of heap a run) and a long sweep got `--max-old-space-size` of half the
// machine's memory. It now writes each run to the report folder as it arrives and keeps only the
// runs the reports show (failing and chosen ones, and the first 10,000 others), so its heap does
// not grow with the runs and V8's default limit is plenty (`npm run bench memory`).
// STREAMSIM_GC=default keeps V8's defaults for every command.
import { availableParallelism, totalmem } from "node:os";

/** The --runs of `sweep` and `start` when not given (src/cli/main.ts's DEFAULT_RUNS; gc.test.ts checks they agree). */
export const DEFAULT_RUNS = 100;
/** The fewest `--runs` for which a sweep gets these flags. */
export const LONG_SWEEP_RUNS = 1000;

/** The smallest semi-space a long sweep gets, in MB, however little memory there is. */
const MIN_SEMI_SPACE_MB = 16;
/** Semi-space sizes a sweep may get, in MB, largest first. */
const SEMI_SPACE_MB = [128, 64, 32, MIN_SEMI_SPACE_MB];
/** The share of the machine's memory the young generations of a sweep's threads may take. */
const YOUNG_SHARE = 1 / 8;

/**
 * The semi-space size (MB) of a sweep with `workers` worker threads on a machine with `memBytes`:
 * the largest whose young generations (two semi-spaces a thread, the workers and the main thread)
 * fit in an eighth of the memory, 16 MB at least.
 * @param {number} workers
 * @param {number} memBytes
 * @returns {number}
 */
export function semiSpaceMb(workers, memBytes) {
  const threads = Math.max(1, workers) + 1;
  const budgetMb = (memBytes / 2 ** 20) * YOUNG_SHARE;
  return SEMI_SPACE_MB.find((mb) => 2 * mb * threads <= budgetMb) ?? MIN_SEMI_SPACE_MB;
}

/**
 * The value of option `name` (e.g. "--workers") in a command line as a number; undefined when absent.
 * @param {readonly string[]} args
 * @param {string} name
 */
function numberFlag(args, name) {
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? "";
    if (a === name) return Number(args[i + 1]);
    if (a.startsWith(`${name}=`)) return Number(a.slice(name.length + 1));
  }
  return undefined;
}

/**
 * The V8 flags `streamsim <args>` runs with; empty for V8's defaults.
 * @param {readonly string[]} args the command line after `streamsim`
 * @param {{ readonly [name: string]: string | undefined }} env
 * @param {number} cores the default worker count (one per core, as the --workers option)
 * @param {number} memBytes the machine's memory
 * @returns {string[]}
 */
export function sweepNodeFlags(args, env = process.env, cores = availableParallelism(), memBytes = totalmem()) {
  if (env["STREAMSIM_GC"] === "default") return [];
  const command = args.find((a) => !a.startsWith("-"));
  if (command !== "sweep" && command !== "start") return [];
  if (args.includes("--help") || args.includes("-h")) return [];
  const runs = numberFlag(args, "--runs") ?? DEFAULT_RUNS;
  if (!(runs >= LONG_SWEEP_RUNS)) return [];
  const workers = numberFlag(args, "--workers") ?? cores;
  const valid = Number.isFinite(workers) && workers >= 0;
  const mb = semiSpaceMb(valid ? workers : 1, memBytes);
  const semi = [`--min-semi-space-size=${mb}`, `--max-semi-space-size=${mb}`];
  return valid && workers >= 2 ? ["--single-threaded", ...semi] : semi;
}
