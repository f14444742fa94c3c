/**
 * A finished run must leave nothing for V8's scavenger. Sweeps and property suites run thousands of
 * short runs in one process; when a dead run's objects survive young-generation collections, every
 * run's whole world is copied and then promoted, and garbage collection took a fifth of the time.
 * The cause was a few shapes V8 allocates straight into the old generation (a function literal
 * assigned to a property, an object literal with getters, a WeakMap's table): a dead one keeps the
 * young objects it points to alive until the next full collection. The lint rule in
 * eslint.config.js keeps those shapes out of src/; this test measures real runs
 * (scavenge-probe.ts, in a child process without the optimising compiler, whose code can hold a
 * run's objects for a while too: docs/performance.md).
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";

const PROBE = fileURLToPath(new URL("./scavenge-probe.ts", import.meta.url));
/** streamsim's TypeScript loader, as the command and the sweep workers use it. */
const LOADER = new URL("../../../bin/typescript.js", import.meta.url).href;

function probe(count: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    // --single-threaded-gc: no concurrent marking threads, so when a full collection ends does not
    // depend on how busy the machine is (it decides which run comes just after one).
    execFile(process.execPath, ["--no-opt", "--expose-gc", "--single-threaded-gc", "--import", LOADER, PROBE, String(count)], { encoding: "utf8" }, (err, stdout, stderr) => {
      if (err !== null) reject(new Error(`${err.message}\n${stderr}`));
      else resolve(JSON.parse(stdout.trim().split("\n").at(-1) ?? "[]") as number[]);
    });
  });
}

test("a finished run leaves nothing for the scavenger to copy or promote", { timeout: 60_000 }, async () => {
  const promoted = await probe(24);
  expect(promoted).toHaveLength(24);
  // Before the fix every run left its whole world behind (190-1300 KB, median 300 KB). Now a run
  // leaves a few KB of caches; the first run measured, and a run just after a full collection,
  // may still leave one world (V8 resets some feedback then): 4 of these 24 do (session 8). The
  // bounds leave room for a full collection more or less, and none for every run leaving its world.
  const sorted = [...promoted].sort((a, b) => a - b);
  const median = sorted[12] as number;
  const heavy = promoted.filter((bytes) => bytes > 64 * 1024);
  expect(median, `bytes promoted after each run: ${promoted.join(", ")}`).toBeLessThan(32 * 1024);
  expect(heavy.length, `bytes promoted after each run: ${promoted.join(", ")}`).toBeLessThanOrEqual(8);
});
