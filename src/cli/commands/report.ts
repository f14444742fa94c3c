/**
 * `streamsim report <results.json>`: rebuilds junit.xml, summary.md and index.html (and
 * results.json) from saved results, next to them or in --out.
 * `streamsim report --merge <results.json...> --out dir`: joins the shards of a sweep into one report.
 */
import { dirname } from "node:path";
import type { ReportPaths, RunSet, RunTotals } from "../../report/index.ts";
import { mergeRunSets, readRunSet } from "../../report/index.ts";
import { streamRunSet } from "../../report/json.ts";
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

/**
 * Rebuilds the reports of one results.json run by run through a report spool (as a sweep writes
 * them), so that the memory does not grow with the runs; undefined when the file has another
 * layout (read whole instead). A bad line discards the spool: no report is half written.
 */
function rebuildStreamed(path: string, dir: OutDir): { readonly paths: ReportPaths; readonly totals: RunTotals; readonly runId: string } | undefined {
  let spool: ReportSpool;
  try {
    spool = new ReportSpool(dir.abs);
  } catch (e) {
    throw new UsageError(`--out ${dir.shown}: cannot write the reports: ${(e as { code?: string }).code ?? String(e)}`);
  }
  try {
    const read = streamRunSet(path, (r) => spool.add(r));
    if (read === undefined) return undefined;
    if (!read.ok) throw new UsageError(read.error);
    let done;
    try {
      done = spool.finish(headOf(read.runSet));
    } catch (e) {
      throw new UsageError(`--out ${dir.shown}: cannot write the reports: ${(e as { code?: string }).code ?? String(e)}`);
    }
    return { paths: done.paths, totals: done.view.totals, runId: read.runSet.runId };
  } finally {
    spool.discard();
  }
}

export function reportCommand(files: readonly string[], opts: ReportOptions, con: Console): ExitCode {
  if (files.length === 0) throw new UsageError("report: give a results.json file (or several with --merge); see streamsim report --help");
  if (!opts.merge && files.length > 1)
    throw new UsageError(`report: got ${files.length} files; to join the shards of a sweep, add --merge (and --out for the merged report)`);
  let written: { readonly paths: ReportPaths; readonly totals: RunTotals; readonly runId: string } | undefined;
  let dir: OutDir;
  if (opts.merge) {
    const sets = files.map(load);
    const mergedDir = chooseOutDir(opts.out, "merged");
    let set: RunSet;
    try {
      set = mergeRunSets(sets, { runId: mergedDir.runId, command: `streamsim report --merge ${files.join(" ")}` });
    } catch (e) {
      throw new UsageError(`report --merge: ${(e as Error).message}`);
    }
    dir = chooseOutDir(mergedDir.abs);
    written = { paths: writeReportSet(dir, set), totals: set.totals, runId: set.runId };
  } else {
    const file = files[0] as string;
    dir = chooseOutDir(opts.out ?? dirname(file));
    written = rebuildStreamed(file, dir);
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
