/**
 * Instructions per generated run, counted by valgrind's callgrind: a cost figure that does not move
 * with the load of this shared VM (wall-clock figures swing by 10-30% between runs here; counts
 * repeat to within 0.01%). It is what to compare across commits and sessions; the runs bench says
 * what that means in runs per second on the day.
 *
 * The workload is the runs bench's: the default property suites' scenarios (seed 7), each run and
 * judged by the oracle. The counted child is the bench bundled into one file by esbuild (no loader
 * thread) and run with V8's --predictable: single-threaded, and no heuristic driven by the clock,
 * which under valgrind's slowdown otherwise moved the collector's schedule and the count by 2-4%
 * between identical runs (the compiler's and collector's work is counted). A child is counted twice,
 * after WARM and after WARM + RUNS runs; the difference divided by RUNS is the cost of a run past
 * start-up. The baseline, counted the same way in the same bench: the oracle's reference
 * interpreter evaluating the same plans over the same inputs directly (no cluster, no simulated
 * network or disk, no checkpoints, no faults), so the ratio is what simulating a run costs over
 * computing its answer.
 *
 *   npm run bench instructions          RUNS=200 WARM=50 npm run bench instructions
 *
 * Needs valgrind (Debian: apt-get install valgrind). Takes 3-7 minutes (two counts at a time).
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { buildSync } from "esbuild";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { interpret } from "../src/oracle/reference.ts";
import { scenarioArb } from "../src/gen/index.ts";
import { runAndJudge } from "../src/runner/check.ts";
import { benchHeader, formatTable } from "./stats.ts";

type Mode = "runs" | "reference";
type Job = { readonly mode: Mode; readonly n: number };

const CHILD = "STREAMSIM_BENCH_INSTRUCTIONS_CHILD";
const SAMPLES = 150;

/** The child's side: `n` runs (or reference evaluations) of the runs bench's scenarios, cycled. */
export function child(job: Job): void {
  const samples = fc.sample(scenarioArb({ faults: "normal" }), { seed: 7, numRuns: SAMPLES });
  let sink = 0;
  for (let i = 0; i < job.n; i++) {
    const s = samples[i % SAMPLES] as (typeof samples)[number];
    if (job.mode === "runs") sink += runAndJudge(s).result.events;
    else sink += interpret(s.plan, s.inputs).sinks.length;
  }
  console.log(`${job.mode} ${job.n} ${sink}`);
}

/** The child as one JavaScript file (dependencies stay in node_modules), written to `dir`. */
function bundleChild(dir: string): string {
  const outfile = join(dir, "child.mjs");
  buildSync({
    stdin: {
      contents: `import { child } from ${JSON.stringify(new URL("./instructions.ts", import.meta.url).pathname)};\nchild(JSON.parse(process.env.${CHILD}));\n`,
      resolveDir: new URL(".", import.meta.url).pathname,
      loader: "ts",
    },
    bundle: true,
    format: "esm",
    platform: "node",
    target: `node${process.versions.node}`,
    packages: "external",
    outfile,
    logLevel: "error",
  });
  return outfile;
}

/** Instructions of one child process under callgrind. */
function count(bundle: string, job: Job): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "streamsim-bench-instructions-"));
  const args = ["--tool=callgrind", `--callgrind-out-file=${join(dir, "callgrind.out")}`, "--smc-check=all-non-file", process.execPath, "--predictable", bundle];
  return new Promise((resolve, reject) => {
    const p = spawn("valgrind", args, { env: { ...process.env, [CHILD]: JSON.stringify(job) }, stdio: ["ignore", "pipe", "pipe"] });
    let err = "";
    p.stderr.on("data", (d: Buffer) => (err += d.toString()));
    p.on("error", reject);
    p.on("close", (code) => {
      rmSync(dir, { recursive: true, force: true });
      const m = /Collected : (\d+)/.exec(err);
      if (code !== 0 || m === null) reject(new Error(`valgrind counting ${job.mode} x${job.n} exited with ${code}: ${err.trim().split("\n").slice(-3).join(" | ")}`));
      else resolve(Number(m[1]));
    });
  });
}

export async function main(): Promise<void> {
  console.log(benchHeader("instructions"));
  if (spawnSync("valgrind", ["--version"]).status !== 0) {
    console.error("bench instructions: valgrind is not installed; install it (Debian: apt-get install valgrind) and run again");
    process.exitCode = 2;
    return;
  }
  const warm = Number(process.env["WARM"] ?? 30);
  const runs = Number(process.env["RUNS"] ?? 100);
  if (!(Number.isInteger(warm) && warm >= 0 && Number.isInteger(runs) && runs >= 1)) {
    console.error(`bench instructions: WARM must be an integer >= 0 and RUNS an integer >= 1, got WARM=${warm} RUNS=${runs}`);
    process.exitCode = 2;
    return;
  }
  // The bundle goes beside the sources, so that its bare imports resolve in node_modules.
  const dir = mkdtempSync(join(new URL("..", import.meta.url).pathname, ".bench-instructions-"));
  let engine: { start: number; per: number };
  let reference: { start: number; per: number };
  try {
    const bundle = bundleChild(dir);
    const perRun = async (mode: Mode): Promise<{ start: number; per: number }> => {
      const [a, b] = await Promise.all([count(bundle, { mode, n: warm }), count(bundle, { mode, n: warm + runs })]);
      return { start: a, per: (b - a) / runs };
    };
    engine = await perRun("runs");
    reference = await perRun("reference");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const m = (x: number): string => `${(x / 1e6).toFixed(2)} M`;
  console.log(
    formatTable(
      ["measure", "instructions"],
      [
        [`a generated run, executed and judged (runs ${warm + 1}-${warm + runs})`, m(engine.per)],
        ["the same plans evaluated by the reference interpreter (baseline)", m(reference.per)],
        [`start-up and the first ${warm} runs`, `${(engine.start / 1e9).toFixed(2)} G`],
      ],
    ),
  );
  console.log(`a simulated run costs ${(engine.per / reference.per).toFixed(0)}x the instructions of computing its answer directly`);
}
