// Whether a streamsim command runs with V8's single-threaded garbage collection.
//
// A sweep (`sweep`, `start`) runs one simulation per worker thread, one worker per core by
// default. V8 collects garbage with helper threads; with a worker on every core those helpers can
// only take time from the other workers. With two workers or more the command therefore runs with
// `--single-threaded-gc`, which V8 takes only at start-up: bin/streamsim.js starts itself again
// with the flag. (Setting the flag at run time, before the workers start, crashed V8 in the main
// thread's next incremental collection.) Measured in session 4, the gain is small and the noise of
// this shared VM is not: alternating A/B runs of two workers favoured the flag by about 5% (5 of 6
// pairs), while the sweep bench's rows came out either way from one run to the next
// (docs/performance.md). With one worker (or none) the helpers use an otherwise idle core and
// stay. `npm run bench sweep` measures both settings. STREAMSIM_GC=default keeps V8's default always.
import { availableParallelism } from "node:os";

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
 * @param {readonly string[]} args the command line after `streamsim`
 * @param {{ readonly [name: string]: string | undefined }} env
 * @param {number} cores the default worker count (one per core, as the --workers option)
 * @returns {boolean}
 */
export function sweepWantsSingleThreadedGc(args, env = process.env, cores = availableParallelism()) {
  if (env["STREAMSIM_GC"] === "default") return false;
  const command = args.find((a) => !a.startsWith("-"));
  if (command !== "sweep" && command !== "start") return false;
  if (args.includes("--help") || args.includes("-h")) return false;
  const workers = workersFlag(args) ?? cores;
  return Number.isFinite(workers) && workers >= 2;
}
