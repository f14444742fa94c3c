/**
 * `streamsim sweep`: runs generated cases (and, for `start`, the built-in scenarios) on a pool of
 * worker threads, saves every counterexample as a scenario file, and writes the reports.
 *
 * Run i of a sweep with seed S is generated from caseSeed(S, i) alone, so the same seed gives the
 * same cases and verdicts whatever the worker count, the shard or the order runs finish in.
 */
import type { FaultIntensity } from "../../gen/index.ts";
import type { ReportPaths, RunRecord } from "../../report/index.ts";
import { runAnchor } from "../../report/index.ts";
import { fileLines } from "../../report/json.ts";
import { ReportSpool } from "../../report/spool.ts";
import type { RunSetHead, RunSetView } from "../../report/view.ts";
import { serializeScenario } from "../../scenario-schema.ts";
import { caseSeed, shardIndexAt, shardSize } from "../generate.ts";
import type { Console, ExitCode } from "../io.ts";
import { EXIT_FAILED, EXIT_OK, UsageError } from "../io.ts";
import { RunOrder } from "../order.ts";
import type { OutDir } from "../output-dir.ts";
import { chooseOutDir, dateTag, shownPaths, writeTextFile } from "../output-dir.ts";
import type { TaskList } from "../pool.ts";
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
  /** Makes the pool the tasks run on (tests: a pool that stops midway); default a TaskPool. */
  readonly makePool?: (workers: number) => SweepPool;
};

/** What a sweep needs of its pool. */
export type SweepPool = Pick<TaskPool, "run" | "close">;

export type SweepOutcome = {
  /** What the reports were made from: totals and the runs they show (not every run: see results.json). */
  readonly view: RunSetView;
  readonly paths: ReportPaths;
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
  const cases = shardSize(opts.runs, opts.shard);
  const tag = dateTag();
  const scenarioTasks: Task[] = [];
  const ids = new Map<string, number>();
  for (const s of opts.scenarios ?? []) {
    const n = (ids.get(s.scenario.name) ?? 0) + 1;
    ids.set(s.scenario.name, n);
    scenarioTasks.push({ kind: "scenario", id: n === 1 ? s.scenario.name : `${s.scenario.name}-${n}`, scenario: s.scenario, file: s.file, timeline: true });
  }
  // The generated cases are made as the pool hands them out: a million of them need no array.
  const caseTask = (k: number): Task => {
    const i = shardIndexAt(k, opts.shard);
    return { kind: "case", index: i, seed: caseSeed(opts.seed, i), faults: opts.faults, shrinkRuns: opts.shrinkRuns, outDir: dir.shown, dateTag: tag, sweepSeed: opts.seed };
  };
  const tasks: TaskList = {
    length: scenarioTasks.length + cases,
    at: (t) => (t < scenarioTasks.length ? scenarioTasks[t] : t < scenarioTasks.length + cases ? caseTask(t - scenarioTasks.length) : undefined),
  };

  // Each run goes to the reports' spill files as soon as the runs before it are in (RunOrder), and
  // each counterexample to its file as soon as it arrives: a sweep's memory does not grow with its
  // runs, and one stopped midway leaves its counterexamples. Opened first: an --out that cannot be
  // written is said before anything else.
  const spool = openSpool(dir);

  // Interrupted (Ctrl-C, a CI job cancelled): the spill files go, the counterexamples stay, and the
  // signal then ends the process as it would have.
  const onSignal = (signal: NodeJS.Signals): void => {
    spool.discard();
    process.kill(process.pid, signal);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    const c = con.color;
    const parts = [
      `seed ${opts.seed}${opts.seedChosen ? " (chosen at random; pass --seed to repeat)" : ""}`,
      opts.shard !== undefined ? `${plural(cases, "generated run")} (shard ${opts.shard.index}/${opts.shard.count} of ${opts.runs})` : plural(cases, "generated run"),
    ];
    if ((opts.scenarios ?? []).length > 0) parts.push(plural(opts.scenarios?.length ?? 0, "built-in scenario"));
    parts.push(`faults ${opts.faults}`, opts.workers === 0 ? "no worker threads" : plural(opts.workers, "worker"));
    if (opts.timeBudgetMs !== undefined) parts.push(`time budget ${(opts.timeBudgetMs / 1000).toFixed(opts.timeBudgetMs % 1000 === 0 ? 0 : 1)} s`);
    parts.push(`shrink up to ${plural(opts.shrinkRuns, "run")}`);
    con.line(`${c.bold(`streamsim ${opts.label}:`)} ${parts.join(", ")}`);
    con.line(`reports go to ${dir.shown}/`);

    const order = new RunOrder(scenarioTasks.length, (r) => spool.add(r));
    const progress = new Progress(con, tasks.length, opts.label);
    const pool = opts.makePool?.(opts.workers) ?? new TaskPool(opts.workers);
    let run;
    try {
      run = await pool.run(tasks, {
        ...(opts.timeBudgetMs !== undefined ? { timeBudgetMs: opts.timeBudgetMs } : {}),
        keepResults: false,
        onResult: (r: TaskResult, index: number) => {
          progress.tick(r.record);
          if (r.counterexample !== undefined) writeCounterexample(dir, r.counterexample.path, serializeScenario(r.counterexample.scenario));
          order.add(index, r.record);
        },
      });
    } finally {
      progress.finish();
      await pool.close();
    }
    order.finish();
    const head: RunSetHead = {
      runId: dir.runId,
      createdAt: new Date().toISOString(),
      command: opts.command,
      seed: opts.seed,
      ...(opts.shard !== undefined ? { shard: `${opts.shard.index}/${opts.shard.count}` } : {}),
    };
    let done;
    try {
      done = spool.finish(head);
    } catch (e) {
      throw new UsageError(`--out ${dir.shown}: cannot write the reports: ${(e as { code?: string }).code ?? String(e)}`);
    }
    return { view: done.view, paths: done.paths, dir, notStarted: run.notStarted, wallMs: run.wallMs };
  } finally {
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
    spool.discard();
  }
}

/** The sweep's spool in its report folder; a folder that cannot be written is bad input (one line), found before any run. */
function openSpool(dir: OutDir): ReportSpool {
  try {
    return new ReportSpool(dir.abs);
  } catch (e) {
    throw new UsageError(`--out ${dir.shown}: cannot write the reports: ${(e as { code?: string }).code ?? String(e)}`);
  }
}

function writeCounterexample(dir: OutDir, path: string, text: string): void {
  try {
    writeTextFile(path, text);
  } catch (e) {
    throw new UsageError(`--out ${dir.shown}: cannot write ${path}: ${(e as { code?: string }).code ?? String(e)}`);
  }
}

/** Prints what a sweep found; the exit code: 1 when a run did not behave as expected. */
export function printSweep(o: SweepOutcome, con: Console): ExitCode {
  const c = con.color;
  const t = o.view.totals;
  const seconds = o.wallMs / 1000;
  const rate = seconds > 0 ? t.runs / seconds : 0;
  if (o.notStarted > 0) con.line(c.yellow(`time budget spent: ${t.runs} of ${t.runs + o.notStarted} runs done; the other ${o.notStarted} did not start`));
  const head = `ran ${plural(t.runs, "run")} in ${seconds.toFixed(1)} s (${rate.toFixed(1)} runs/s): ${t.runs - t.unexpected} as expected, ${t.unexpected} not`;
  con.line(t.unexpected === 0 ? c.green(head) : c.red(head));
  // Every run that did not behave as expected has details: the view keeps it.
  const bad = o.view.kept.filter((r) => !r.asExpected);
  const html = join(o.dir.shown, "index.html");
  for (const r of bad.slice(0, 20)) printFailure(r, html, con);
  if (bad.length > 20) con.line(`... and ${bad.length - 20} more: see ${join(o.dir.shown, "summary.md")}`);
  const p = shownPaths(o.paths);
  con.line(`reports    ${p.html}  ${p.summary}  ${p.junit}  ${p.results}`);
  if (con.json) {
    const doc = {
      runId: o.view.runId,
      seed: o.view.seed ?? null,
      shard: o.view.shard ?? null,
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
      runs: [] as unknown[],
    };
    con.printJsonText(jsonWithRuns(doc, o.view.runCount > 0 ? runsOf(o.paths.results) : []));
  }
  return t.unexpected === 0 ? EXIT_OK : EXIT_FAILED;
}

/** Each run of a results.json the sweep wrote, as --json lists it (read a line at a time). */
function* runsOf(results: string): Generator<unknown> {
  let first = true;
  for (const line of fileLines(results)) {
    if (first || line === "]}" || line === "") {
      first = false;
      continue;
    }
    const r = JSON.parse(line.endsWith(",") ? line.slice(0, -1) : line) as RunRecord;
    yield { id: r.id, seed: r.seed, verdict: r.verdict, asExpected: r.asExpected, traceHash: r.traceHash };
  }
}

/**
 * The text of JSON.stringify(doc, null, 2) with `runs` (doc's last field, given empty) holding
 * `runs`, made a piece at a time: the runs of a long sweep are never one string or one array.
 */
export function* jsonWithRuns(doc: { readonly runs: readonly unknown[] }, runs: Iterable<unknown>): Generator<string> {
  const text = JSON.stringify(doc, null, 2);
  const empty = '"runs": []\n}';
  if (!text.endsWith(empty)) throw new Error("jsonWithRuns: runs must be the document's last field, and empty");
  let n = 0;
  for (const r of runs) {
    yield (n === 0 ? `${text.slice(0, -empty.length)}"runs": [\n` : ",\n") + JSON.stringify(r, null, 2).replace(/^/gm, "    ");
    n++;
  }
  yield n === 0 ? text : "\n  ]\n}";
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
