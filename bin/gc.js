// The V8 flags a streamsim command runs with (bin/streamsim.js starts itself again with them:
// V8 takes these flags at start-up only; setting GC flags at run time crashed V8 in session 4).
//
// A sweep (`sweep`, `start`) runs thousands of short simulations, one worker thread per core by
// default. Measured with `npm run bench sweep` (docs/performance.md, session 5):
// - A fixed 16 MB young-generation semi-space (`--min-semi-space-size=16 --max-semi-space-size=16`):
//   a finished run leaves almost nothing alive, so V8 keeps shrinking the semi-space and then
//   collects, and resizes, more often than a sweep needs. For every sweep, whatever the workers.
// - With two workers or more, `--single-threaded`: V8's helper threads (the optimising compiler's
//   and the collector's) are shared by the process's workers, and with a worker on every core
//   they can only take time from the other workers. Two worker threads did 14% fewer runs per
//   CPU-second than one with them and as many without (two separate processes scaled 2.0x while
//   two threads in one process scaled 1.65x). Session 4 had only `--single-threaded-gc`.
// With one worker (or none) the helpers use an otherwise idle core and stay.
// STREAMSIM_GC=default keeps V8's defaults for every command.
import { availableParallelism } from "node:os";

/** The fixed young-generation size of a sweep, in MB per semi-space. */
const SEMI_SPACE_FLAGS = ["--min-semi-space-size=16", "--max-semi-space-size=16"];

/**
 * The value of `--workers` in a command line; undefined when absent.
 * @param {readonly string[]} args
 */
function workersFlag(args) {
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? "";
    if (a === "--workers") return Number(args[i + 1]);
    if (a.startsWith("--workers=")) return Number(a.slice("--workers=".length));
  }
  return undefined;
}

/**
 * The V8 flags `streamsim <args>` runs with; empty for V8's defaults.
 * @param {readonly string[]} args the command line after `streamsim`
 * @param {{ readonly [name: string]: string | undefined }} env
 * @param {number} cores the default worker count (one per core, as the --workers option)
 * @returns {string[]}
 */
export function sweepNodeFlags(args, env = process.env, cores = availableParallelism()) {
  if (env["STREAMSIM_GC"] === "default") return [];
  const command = args.find((a) => !a.startsWith("-"));
  if (command !== "sweep" && command !== "start") return [];
  if (args.includes("--help") || args.includes("-h")) return [];
  const workers = workersFlag(args) ?? cores;
  return Number.isFinite(workers) && workers >= 2 ? ["--single-threaded", ...SEMI_SPACE_FLAGS] : [...SEMI_SPACE_FLAGS];
}
