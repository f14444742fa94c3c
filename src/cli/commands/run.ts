/**
 * `streamsim run <scenario>`: runs one scenario (a file or a built-in name), prints the seed and
 * settings, the checkpoint statistics table, the verdict and the trace hash, and writes the
 * reports to reports/<run-id>/ (or --out).
 */
import { computeTotals } from "../../report/index.ts";
import type { RunRecord, RunSet } from "../../report/index.ts";
import { checkLines, checkpointTableLines, keyValueLines, settingsLines, verdictLine } from "../format.ts";
import { judgeSafely } from "../generate.ts";
import type { Console, ExitCode } from "../io.ts";
import { EXIT_FAILED, EXIT_OK, UsageError } from "../io.ts";
import { ScenarioError } from "../../engine/cluster/job.ts";
import { chooseOutDir, shownPaths, writeReportSet } from "../output-dir.ts";
import { errorRecord, expectationMismatches, toRunRecord } from "../../report/record.ts";
import { resolveScenario } from "../scenarios.ts";
import { fileReplayCommand } from "../task.ts";

export type RunCommandOptions = {
  readonly out?: string;
  readonly report: boolean;
  readonly command: string;
};

export function runCommand(arg: string, opts: RunCommandOptions, con: Console): ExitCode {
  const { scenario, file } = resolveScenario(arg);
  const c = con.color;
  for (const l of keyValueLines(settingsLines(scenario, file), c)) con.line(l);
  if (scenario.description !== undefined) con.line(`${c.dim("about".padEnd(10))}  ${scenario.description}`);
  con.line();

  const outcome = judgeSafely(scenario);
  if (outcome.error instanceof ScenarioError) throw new UsageError(`${file}: ${outcome.error.message}`);
  const recordOpts = { id: scenario.name, timeline: true, replayCommand: fileReplayCommand(file) };
  const record: RunRecord =
    outcome.checked !== undefined
      ? toRunRecord(outcome.checked, { ...recordOpts, wallMs: outcome.wallMs })
      : errorRecord(scenario, outcome.error, { ...recordOpts, wallMs: outcome.wallMs });
  const mismatches = outcome.checked !== undefined ? expectationMismatches(scenario.expect, outcome.checked) : ["the run threw"];

  for (const l of checkpointTableLines(record.checkpoints, c)) con.line(l);
  con.line();
  const verdict = verdictLine(record, scenario.config.checkpoint.tolerableFailures);
  con.line(`${c.bold("verdict:")} ${record.verdict === "pass" ? c.green(verdict) : c.red(verdict)}`);
  for (const l of checkLines(record, c)) con.line(`  ${l}`);
  if (scenario.expect !== undefined) {
    con.line(mismatches.length === 0 ? `${c.bold("expected:")} ${c.green("as declared")}` : `${c.bold("expected:")} ${c.red(`NOT as declared: ${mismatches.join("; ")}`)}`);
  }
  con.line(`${c.bold("trace hash")} ${record.traceHash || "(none: the run threw)"}`);

  let reports: ReturnType<typeof shownPaths> | undefined;
  let outShown: string | undefined;
  if (opts.report) {
    const dir = chooseOutDir(opts.out, scenario.name.replace(/[^A-Za-z0-9_.-]/g, "_"));
    const set: RunSet = {
      runId: dir.runId,
      createdAt: new Date().toISOString(),
      command: opts.command,
      seed: scenario.seed,
      runs: [record],
      totals: computeTotals([record]),
    };
    reports = shownPaths(writeReportSet(dir, set));
    outShown = dir.shown;
    con.line(`${c.bold("report")}     ${reports.html}  (and results.json, junit.xml, summary.md in ${dir.shown})`);
  }
  con.line(`${c.bold("replay")}     ${record.replayCommand}`);

  const ok = mismatches.length === 0;
  if (con.json) {
    con.printJson({
      scenario: scenario.name,
      file,
      seed: scenario.seed,
      verdict: record.verdict,
      expected: scenario.expect?.verdict ?? null,
      asExpected: ok,
      mismatches,
      status: record.status,
      endTimeMs: record.durationMs,
      traceHash: record.traceHash,
      checks: record.checks,
      checkpoints: record.checkpoints,
      summary: record.summary,
      replayCommand: record.replayCommand,
      reportDir: outShown ?? null,
      reports: reports ?? null,
    });
  }
  return ok ? EXIT_OK : EXIT_FAILED;
}
