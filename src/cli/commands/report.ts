/**
 * `streamsim report <results.json>`: rebuilds junit.xml, summary.md and index.html (and
 * results.json) from saved results, next to them or in --out.
 * `streamsim report --merge <results.json...> --out dir`: joins the shards of a sweep into one report.
 */
import { dirname } from "node:path";
import type { ReportPaths, RunRecord, RunSet, RunTotals } from "../../report/index.ts";
import { mergeRunSets, readRunSet } from "../../report/index.ts";
import type { StreamMergeResult } from "../../report/json.ts";
import { DuplicateRunError, streamMergeRunSets, streamRunSet } from "../../report/json.ts";
import { ReportSpool } from "../../report/spool.ts";
import { headOf } from "../../report/view.ts";
import type { Console, ExitCode } from "../io.ts";
import { EXIT_FAILED, EXIT_OK, UsageError } from "../io.ts";
import type { OutDir } from "../output-dir.ts";
import { chooseOutDir, shownPaths, writeReportSet } from "../output-dir.ts";

export type ReportOptions = {
  readonly merge: boolean;
  readonly out?: string;
};

function load(path: string): RunSet {
  const r = readRunSet(path);
  if (!r.ok) throw new UsageError(r.error);
  return r.runSet;
}

type Written = { readonly paths: ReportPaths; readonly totals: RunTotals; readonly runId: string };

function cannotWrite(dir: OutDir, e: unknown): UsageError {
  return new UsageError(`--out ${dir.shown}: cannot write the reports: ${(e as { code?: string }).code ?? String(e)}`);
}

/**
 * Writes the reports of the runs `read` hands over, run by run, through a report spool (as a
 * sweep writes them), so that the memory does not grow with the runs. undefined when `read` says
 * the input cannot be streamed (the caller reads it whole instead); bad input is one line, and
 * whatever the spool got is discarded: no report is half written.
 */
function throughSpool(dir: OutDir, read: (add: (r: RunRecord) => void) => StreamMergeResult | undefined): Written | undefined {
  let spool: ReportSpool;
  try {
    spool = new ReportSpool(dir.abs);
  } catch (e) {
    throw cannotWrite(dir, e);
  }
  try {
    const result = read((r) => spool.add(r));
    if (result === undefined || result.ok === "fallback") return undefined;
    if (!result.ok) throw new UsageError(result.error);
    let done;
    try {
      done = spool.finish(headOf(result.runSet));
    } catch (e) {
      throw cannotWrite(dir, e);
    }
    return { paths: done.paths, totals: done.view.totals, runId: result.runSet.runId };
  } finally {
    spool.discard();
  }
}

export function reportCommand(files: readonly string[], opts: ReportOptions, con: Console): ExitCode {
  if (files.length === 0) throw new UsageError("report: give a results.json file (or several with --merge); see streamsim report --help");
  if (!opts.merge && files.length > 1)
    throw new UsageError(`report: got ${files.length} files; to join the shards of a sweep, add --merge (and --out for the merged report)`);
  let written: Written | undefined;
  let dir: OutDir;
  if (opts.merge) {
    const mergedDir = chooseOutDir(opts.out, "merged");
    dir = chooseOutDir(mergedDir.abs);
    // The shards (sorted by id, as sweeps write them) read side by side; unsorted ones or another layout: in memory.
    const options = { runId: mergedDir.runId, command: `streamsim report --merge ${files.join(" ")}` };
    try {
      written = throughSpool(dir, (add) => streamMergeRunSets(files, add, options));
      if (written === undefined) {
        const set = mergeRunSets(files.map(load), options);
        written = { paths: writeReportSet(dir, set), totals: set.totals, runId: set.runId };
      }
    } catch (e) {
      if (e instanceof DuplicateRunError) throw new UsageError(`report --merge: ${e.message}`);
      throw e;
    }
  } else {
    const file = files[0] as string;
    dir = chooseOutDir(opts.out ?? dirname(file));
    written = throughSpool(dir, (add) => streamRunSet(file, add));
    if (written === undefined) {
      const set = load(file);
      written = { paths: writeReportSet(dir, set), totals: set.totals, runId: set.runId };
    }
  }
  const p = shownPaths(written.paths);
  const t = written.totals;
  const c = con.color;
  const head = `${opts.merge ? `merged ${files.length} result ${files.length === 1 ? "file" : "files"}` : "rebuilt the reports"}: ${t.runs} runs, ${t.runs - t.unexpected} as expected, ${t.unexpected} not`;
  con.line(t.unexpected === 0 ? c.green(head) : c.red(head));
  con.line(`reports    ${p.html}  ${p.summary}  ${p.junit}  ${p.results}`);
  if (con.json) con.printJson({ runId: written.runId, totals: t, reportDir: dir.shown, reports: p });
  return t.unexpected === 0 ? EXIT_OK : EXIT_FAILED;
}
