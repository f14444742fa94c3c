/**
 * `streamsim report <results.json>`: rebuilds junit.xml, summary.md and index.html (and
 * results.json) from saved results, next to them or in --out.
 * `streamsim report --merge <results.json...> --out dir`: joins the shards of a sweep into one report.
 */
import { dirname } from "node:path";
import type { RunSet } from "../../report/index.ts";
import { mergeRunSets, readRunSet } from "../../report/index.ts";
import type { Console, ExitCode } from "../io.ts";
import { EXIT_FAILED, EXIT_OK, UsageError } from "../io.ts";
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

export function reportCommand(files: readonly string[], opts: ReportOptions, con: Console): ExitCode {
  if (files.length === 0) throw new UsageError("report: give a results.json file (or several with --merge); see streamsim report --help");
  if (!opts.merge && files.length > 1)
    throw new UsageError(`report: got ${files.length} files; to join the shards of a sweep, add --merge (and --out for the merged report)`);
  const sets = files.map(load);
  let set: RunSet;
  let out: string | undefined = opts.out;
  if (opts.merge) {
    const dir = chooseOutDir(out, "merged");
    try {
      set = mergeRunSets(sets, { runId: dir.runId, command: `streamsim report --merge ${files.join(" ")}` });
    } catch (e) {
      throw new UsageError(`report --merge: ${(e as Error).message}`);
    }
    out = dir.abs;
  } else {
    set = sets[0] as RunSet;
    out ??= dirname(files[0] as string);
  }
  const dir = chooseOutDir(out);
  const p = shownPaths(writeReportSet(dir, set));
  const t = set.totals;
  const c = con.color;
  const head = `${opts.merge ? `merged ${files.length} result ${files.length === 1 ? "file" : "files"}` : "rebuilt the reports"}: ${t.runs} runs, ${t.runs - t.unexpected} as expected, ${t.unexpected} not`;
  con.line(t.unexpected === 0 ? c.green(head) : c.red(head));
  con.line(`reports    ${p.html}  ${p.summary}  ${p.junit}  ${p.results}`);
  if (con.json) con.printJson({ runId: set.runId, totals: t, reportDir: dir.shown, reports: p });
  return t.unexpected === 0 ? EXIT_OK : EXIT_FAILED;
}
