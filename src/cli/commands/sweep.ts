/**
 * `streamsim sweep`: runs generated cases (and, for `start`, the built-in scenarios) on a pool of
 * worker threads, saves every counterexample as a scenario file, and writes the reports.
 *
 * Run i of a sweep with seed S is generated from caseSeed(S, i) alone, so the same seed gives the
 * same cases and verdicts whatever the worker count, the shard or the order runs finish in.
 */
import type { FaultIntensity } from "../../gen/index.ts";
import type { RunRecord, RunSet } from "../../report/index.ts";
import { computeTotals, naturalCompare, runAnchor } from "../../report/index.ts";
import { serializeScenario } from "../../scenario-schema.ts";
import { caseSeed, shardIndexes } from "../generate.ts";
import type { Console, ExitCode } from "../io.ts";
import { EXIT_FAILED, EXIT_OK } from "../io.ts";
import type { OutDir } from "../output-dir.ts";
import { chooseOutDir, dateTag, shownPaths, writeReportSet, writeTextFile } from "../output-dir.ts";
import { TaskPool } from "../pool.ts";
import { Progress } from "../progress.ts";
import type { LoadedScenario } from "../scenarios.ts";
import type { Task, TaskResult } from "../task.ts";
import { join } from "node:path";

export type Shard = { readonly index: number; readonly count: number };

export type SweepOptions = {
  /** Generated runs in the whole sweep (a shard takes its share). */
  readonly runs: number;
  readonly seed: number;
  /** Whether the seed was chosen at random (printed so the sweep can be repeated). */
  readonly seedChosen: boolean;
  readonly workers: number;
  readonly shard?: Shard;
  readonly timeBudgetMs?: number;
  readonly out?: string;
  readonly faults: FaultIntensity;
  readonly shrinkRuns: number;
  readonly command: string;
  /** Scenarios to run besides the generated cases (`start`: the built-ins). */
  readonly scenarios?: readonly LoadedScenario[];
  /** Folder name suffix under reports/ ("sweep", "start"). */
  readonly label: string;
};

export type SweepOutcome = {
  readonly set: RunSet;
  readonly dir: OutDir;
  readonly notStarted: number;
  readonly wallMs: number;
};

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Runs the tasks of a sweep and writes its reports and counterexamples. */
export async function executeSweep(opts: SweepOptions, con: Console): Promise<SweepOutcome> {
  const dir = chooseOutDir(opts.out, opts.label);
  const indexes = shardIndexes(opts.runs, opts.shard);
  const tag = dateTag();
  const tasks: Task[] = [];
  const ids = new Map<string, number>();
  for (const s of opts.scenarios ?? []) {
    const n = (ids.get(s.scenario.name) ?? 0) + 1;
    ids.set(s.scenario.name, n);
    tasks.push({ kind: "scenario", id: n === 1 ? s.scenario.name : `${s.scenario.name}-${n}`, scenario: s.scenario, file: s.file, timeline: true });
  }
  for (const i of indexes) {
    tasks.push({
      kind: "case",
      index: i,
      seed: caseSeed(opts.seed, i),
      faults: opts.faults,
      shrinkRuns: opts.shrinkRuns,
      outDir: dir.shown,
      dateTag: tag,
      sweepSeed: opts.seed,
    });
  }

  const c = con.color;
  const parts = [
    `seed ${opts.seed}${opts.seedChosen ? " (chosen at random; pass --seed to repeat)" : ""}`,
    opts.shard !== undefined ? `${plural(indexes.length, "generated run")} (shard ${opts.shard.index}/${opts.shard.count} of ${opts.runs})` : plural(indexes.length, "generated run"),
  ];
  if ((opts.scenarios ?? []).length > 0) parts.push(plural(opts.scenarios?.length ?? 0, "built-in scenario"));
  parts.push(`faults ${opts.faults}`, opts.workers === 0 ? "no worker threads" : plural(opts.workers, "worker"));
  if (opts.timeBudgetMs !== undefined) parts.push(`time budget ${(opts.timeBudgetMs / 1000).toFixed(opts.timeBudgetMs % 1000 === 0 ? 0 : 1)} s`);
  parts.push(`shrink up to ${plural(opts.shrinkRuns, "run")}`);
  con.line(`${c.bold(`streamsim ${opts.label}:`)} ${parts.join(", ")}`);
  con.line(`reports go to ${dir.shown}/`);

  const progress = new Progress(con, tasks.length, opts.label);
  const pool = new TaskPool(opts.workers);
  let run;
  try {
    run = await pool.run(tasks, {
      ...(opts.timeBudgetMs !== undefined ? { timeBudgetMs: opts.timeBudgetMs } : {}),
      onResult: (r: TaskResult) => progress.tick(r.record),
    });
  } finally {
    progress.finish();
    await pool.close();
  }

  for (const r of run.results) if (r.counterexample !== undefined) writeTextFile(r.counterexample.path, serializeScenario(r.counterexample.scenario));
  const runs = run.results.map((r) => r.record).sort((a, b) => naturalCompare(a.id, b.id));
  const set: RunSet = {
    runId: dir.runId,
    createdAt: new Date().toISOString(),
    command: opts.command,
    seed: opts.seed,
    ...(opts.shard !== undefined ? { shard: `${opts.shard.index}/${opts.shard.count}` } : {}),
    runs,
    totals: computeTotals(runs),
  };
  writeReportSet(dir, set);
  return { set, dir, notStarted: run.notStarted, wallMs: run.wallMs };
}

/** Prints what a sweep found; the exit code: 1 when a run did not behave as expected. */
export function printSweep(o: SweepOutcome, con: Console): ExitCode {
  const c = con.color;
  const t = o.set.totals;
  const seconds = o.wallMs / 1000;
  const rate = seconds > 0 ? t.runs / seconds : 0;
  if (o.notStarted > 0) con.line(c.yellow(`time budget spent: ${t.runs} of ${t.runs + o.notStarted} runs done; the other ${o.notStarted} did not start`));
  const head = `ran ${plural(t.runs, "run")} in ${seconds.toFixed(1)} s (${rate.toFixed(1)} runs/s): ${t.runs - t.unexpected} as expected, ${t.unexpected} not`;
  con.line(t.unexpected === 0 ? c.green(head) : c.red(head));
  const bad = o.set.runs.filter((r) => !r.asExpected);
  const html = join(o.dir.shown, "index.html");
  for (const r of bad.slice(0, 20)) printFailure(r, html, con);
  if (bad.length > 20) con.line(`... and ${bad.length - 20} more: see ${join(o.dir.shown, "summary.md")}`);
  const p = shownPaths({
    results: join(o.dir.abs, "results.json"),
    junit: join(o.dir.abs, "junit.xml"),
    summary: join(o.dir.abs, "summary.md"),
    html: join(o.dir.abs, "index.html"),
  });
  con.line(`reports    ${p.html}  ${p.summary}  ${p.junit}  ${p.results}`);
  if (con.json) {
    con.printJson({
      runId: o.set.runId,
      seed: o.set.seed ?? null,
      shard: o.set.shard ?? null,
      totals: t,
      notStarted: o.notStarted,
      wallMs: Math.round(o.wallMs),
      reportDir: o.dir.shown,
      reports: p,
      unexpected: bad.map((r) => ({
        id: r.id,
        name: r.name,
        seed: r.seed,
        verdict: r.verdict,
        summary: r.summary,
        counterexample: r.counterexamplePath ?? null,
        replayCommand: r.replayCommand,
      })),
      runs: o.set.runs.map((r) => ({ id: r.id, seed: r.seed, verdict: r.verdict, asExpected: r.asExpected, traceHash: r.traceHash })),
    });
  }
  return t.unexpected === 0 ? EXIT_OK : EXIT_FAILED;
}

/** Journey 1's failure block: the sentence, then counterexample, replay and timeline. */
function printFailure(r: RunRecord, html: string, con: Console): void {
  const c = con.color;
  con.line("");
  con.line(`${c.red("FAIL")} ${r.id} (${r.name}, seed ${r.seed}): ${r.summary}`);
  if (r.counterexamplePath !== undefined) con.line(`  counterexample  ${r.counterexamplePath}`);
  con.line(`  replay          ${r.replayCommand}`);
  con.line(`  timeline        ${html}#${runAnchor(r.id)}`);
}

export async function sweepCommand(opts: SweepOptions, con: Console): Promise<ExitCode> {
  const outcome = await executeSweep(opts, con);
  return printSweep(outcome, con);
}
