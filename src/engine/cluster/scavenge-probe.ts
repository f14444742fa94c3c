/**
 * Measures what finished runs leave for V8's scavenger (run by scavenge.test.ts in a child process
 * with `node --no-opt --expose-gc`, so optimised code does not blur the figure): warms up on
 * generated runs, then for each of `count` runs prints the bytes that a second young-generation
 * collection after the run still promotes. A run that leaves nothing behind gives a few KB (caches);
 * a run whose objects stay reachable from old-generation garbage gives its whole world (250-600 KB).
 *
 *   node --no-opt --expose-gc --import ./bin/typescript.js src/engine/cluster/scavenge-probe.ts [count]
 */
import fc from "fast-check";
import v8 from "node:v8";
import { scenarioArb } from "../../gen/index.ts";
import { runScenario } from "./job.ts";

const gc = (globalThis as { gc?: (options?: { type: "major" | "minor" }) => void }).gc;
if (gc === undefined) throw new Error("run with node --expose-gc");
const oldSpaceUsed = (): number => v8.getHeapSpaceStatistics().find((s) => s.space_name === "old_space")?.space_used_size ?? 0;

const count = Number(process.argv[2] ?? 12);
const samples = fc.sample(scenarioArb({ faults: "normal" }), { seed: 7, numRuns: 40 });
for (const s of samples) runScenario(s); // load and warm every code path once
gc();
const promoted = samples.slice(0, count).map((s) => {
  gc({ type: "minor" });
  gc({ type: "minor" });
  runScenario(s);
  gc({ type: "minor" }); // what is still held is copied once ...
  const before = oldSpaceUsed();
  gc({ type: "minor" }); // ... and promoted now
  return oldSpaceUsed() - before;
});
console.log(JSON.stringify(promoted));
