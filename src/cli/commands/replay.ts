/**
 * `streamsim replay <file|dir|name>...`: reruns saved scenarios and says whether each behaves as
 * recorded (verdict, failing check, job status) and whether its trace hash matches the recorded
 * `expect.traceHash`.
 *
 * `streamsim replay --seed N [--path P] [--faults level]`: regenerates the generated case of case
 * seed N as a sweep does (and, with P, the shrunk case that fast-check path leads to) and runs it.
 */
import { readFileSync } from "node:fs";
import { ScenarioError } from "../../engine/cluster/job.ts";
import type { FaultIntensity } from "../../gen/index.ts";
import { computeTotals } from "../../report/index.ts";
import type { RunRecord, RunSet } from "../../report/index.ts";
import { CHECK_NAMES, serializeScenario } from "../../scenario-schema.ts";
import type { CheckName, Scenario } from "../../scenario.ts";
import { checkLines, verdictPhrase } from "../format.ts";
import type { Outcome } from "../generate.ts";
import { generateCase, judgeSafely } from "../generate.ts";
import type { Console, ExitCode } from "../io.ts";
import { EXIT_FAILED, EXIT_OK, UsageError } from "../io.ts";
import { chooseOutDir, shownPaths, writeReportSet, writeTextFile } from "../output-dir.ts";
import { errorRecord, expectationMismatches, toRunRecord } from "../../report/record.ts";
import { displayPath, expandScenarioArgs, resolveScenario } from "../scenarios.ts";
import { fileReplayCommand, seedReplayCommand } from "../task.ts";

export type ReplayOptions = {
  readonly seed?: number;
  readonly path?: string;
  readonly faults: FaultIntensity;
  readonly out?: string;
  /** Save the regenerated case (--seed) as a scenario file recording what it did. */
  readonly save?: string;
  /** Rewrite expect.traceHash in files that behave as recorded but for the hash. */
  readonly updateHash?: boolean;
  readonly command: string;
};

type Replayed = {
  readonly file: string | null;
  readonly record: RunRecord;
  readonly mismatches: string[];
  readonly recorded: Scenario["expect"];
  readonly sentence: string;
};

/**
 * Sets expect.traceHash in a scenario file, keeping the rest of its text as it is. Returns false
 * when the file has no "expect" object to put it in.
 */
function writeHash(file: string, hash: string): boolean {
  const text = readFileSync(file, "utf8");
  const existing = /("traceHash"\s*:\s*)"[^"]*"/;
  let next: string;
  if (existing.test(text)) next = text.replace(existing, `$1"${hash}"`);
  else if (/"expect"\s*:\s*\{/.test(text)) next = text.replace(/("expect"\s*:\s*\{)(\s*)/, `$1$2"traceHash": "${hash}",$2`);
  else return false;
  writeTextFile(file, next);
  return true;
}

function isCheckName(s: string): s is CheckName {
  return (CHECK_NAMES as readonly string[]).includes(s);
}

function recordOf(o: Outcome, id: string, replayCommand: string): RunRecord {
  return o.checked !== undefined
    ? toRunRecord(o.checked, { id, timeline: true, replayCommand, wallMs: o.wallMs })
    : errorRecord(o.scenario, o.error, { id, replayCommand, wallMs: o.wallMs });
}

/** "exactly-once VIOLATED (as recorded); trace hash 9f3c...e1 matches the recording". */
function sentenceOf(record: RunRecord, recorded: Scenario["expect"], mismatches: readonly string[], generated = false): string {
  const phrase = verdictPhrase(record);
  const verdictNote = generated
    ? ""
    : recorded === undefined
      ? " (nothing recorded)"
      : record.verdict === recorded.verdict
        ? " (as recorded)"
        : ` (recorded: ${recorded.verdict === "pass" ? "held" : "failed"})`;
  const hash =
    record.traceHash === ""
      ? "no trace hash (the run threw)"
      : recorded?.traceHash === undefined
        ? `trace hash ${record.traceHash}${generated ? "" : " (no recorded hash to compare)"}`
        : recorded.traceHash === record.traceHash
          ? `trace hash ${record.traceHash} matches the recording`
          : `trace hash ${record.traceHash} does NOT match the recorded ${recorded.traceHash}`;
  const other = mismatches.filter((m) => !m.startsWith("verdict ") && !m.startsWith("trace hash "));
  return `${phrase}${verdictNote}; ${hash}${other.length > 0 ? `; ${other.join("; ")}` : ""}`;
}

function replayOne(scenario: Scenario, file: string | null, id: string, replayCommand: string): Replayed {
  const o = judgeSafely(scenario);
  if (o.error instanceof ScenarioError) throw new UsageError(`${file ?? scenario.name}: ${o.error.message}`);
  const record = recordOf(o, id, replayCommand);
  const mismatches = o.checked !== undefined ? expectationMismatches(scenario.expect, o.checked) : ["the run threw"];
  return { file, record, mismatches, recorded: scenario.expect, sentence: sentenceOf(record, scenario.expect, mismatches, file === null) };
}

export function replayCommand(files: readonly string[], opts: ReplayOptions, con: Console): ExitCode {
  if (files.length > 0 && opts.seed !== undefined) throw new UsageError("replay: give scenario files or --seed, not both");
  if (files.length === 0 && opts.seed === undefined)
    throw new UsageError("replay: give a scenario file (or folder, or built-in name), or --seed N; see streamsim replay --help");
  if (opts.path !== undefined && opts.seed === undefined) throw new UsageError("--path needs --seed (the case seed the path starts from)");
  if (opts.save !== undefined && opts.seed === undefined) throw new UsageError("--save needs --seed (it saves the regenerated case)");
  if (opts.updateHash === true && opts.seed !== undefined) throw new UsageError("--update-hash works on scenario files, not --seed (use --save to record a generated case)");

  const replayed: Replayed[] = [];
  if (opts.seed !== undefined) {
    let scenario: Scenario;
    try {
      scenario = generateCase(opts.seed, opts.faults, opts.path);
    } catch (e) {
      throw new UsageError(`--path ${opts.path ?? ""}: ${(e as Error).message}; give the path a sweep printed for this seed and fault level`);
    }
    // A generated case declares that every check holds; it records no trace hash.
    const r = replayOne(scenario, null, `seed-${opts.seed}`, seedReplayCommand(opts.seed, opts.faults, opts.path));
    replayed.push(r);
    if (opts.save !== undefined) {
      const failing = r.record.checks.find((c) => !c.ok)?.check;
      const saved: Scenario = {
        ...scenario,
        description: `Generated case seed ${opts.seed} (faults ${opts.faults}${opts.path !== undefined ? `, fast-check path ${opts.path}` : ""}), saved by streamsim replay --save; it records what the run did.`,
        expect: {
          verdict: r.record.verdict,
          ...(failing !== undefined && isCheckName(failing) ? { failingCheck: failing } : {}),
          ...(r.record.traceHash !== "" ? { traceHash: r.record.traceHash } : {}),
        },
      };
      writeTextFile(opts.save, serializeScenario(saved));
    }
  } else {
    const paths = expandScenarioArgs(files);
    const loaded = paths.map((p) => resolveScenario(p));
    const ids = new Map<string, number>();
    for (const { scenario, file } of loaded) {
      const n = (ids.get(scenario.name) ?? 0) + 1;
      ids.set(scenario.name, n);
      replayed.push(replayOne(scenario, file, n === 1 ? scenario.name : `${scenario.name}-${n}`, fileReplayCommand(file)));
    }
  }

  const updated: string[] = [];
  if (opts.updateHash === true) {
    for (const [i, r] of replayed.entries()) {
      const onlyHash = r.mismatches.every((m) => m.startsWith("trace hash "));
      if (r.file === null || r.record.traceHash === "" || !onlyHash || r.recorded?.traceHash === r.record.traceHash) continue;
      if (!writeHash(r.file, r.record.traceHash)) continue;
      updated.push(r.file);
      replayed[i] = { ...r, mismatches: [], recorded: { ...(r.recorded ?? { verdict: r.record.verdict }), traceHash: r.record.traceHash } };
      replayed[i] = { ...(replayed[i] as Replayed), sentence: sentenceOf(r.record, replayed[i]?.recorded, []) + " (updated)" };
    }
  }

  const c = con.color;
  const bad = replayed.filter((r) => r.mismatches.length > 0);
  if (replayed.length === 0) {
    con.line(`replayed 0 runs: no scenario files in ${files.join(", ")}`);
  } else if (replayed.length === 1) {
    const r = replayed[0] as Replayed;
    const what = r.file === null ? `replayed 1 run (generated case seed ${opts.seed}${opts.path !== undefined ? `, path ${opts.path}` : ""})` : "replayed 1 run";
    con.line(`${what}: ${bad.length === 0 ? r.sentence : c.red(r.sentence)}`);
    if (r.record.verdict === "fail" || bad.length > 0) for (const l of checkLines(r.record, c)) con.line(`  ${l}`);
  } else {
    for (const r of replayed) {
      const mark = r.mismatches.length === 0 ? c.green("ok  ") : c.red("FAIL");
      con.line(`${mark} ${r.file ?? r.record.id}: ${r.sentence}`);
    }
    con.line(
      bad.length === 0
        ? `replayed ${replayed.length} runs: all as recorded`
        : c.red(`replayed ${replayed.length} runs: ${bad.length} not as recorded`),
    );
  }
  if (opts.updateHash === true)
    con.line(updated.length === 0 ? "no recorded trace hash needed updating" : `updated the recorded trace hash in ${updated.length} ${updated.length === 1 ? "file" : "files"}: ${updated.join(", ")}`);
  if (opts.save !== undefined) con.line(`saved the case to ${displayPath(opts.save)} (replay it with ${fileReplayCommand(displayPath(opts.save))})`);

  let reportDir: string | undefined;
  if (opts.out !== undefined) {
    const dir = chooseOutDir(opts.out);
    const runs = replayed.map((r) => r.record);
    const set: RunSet = { runId: dir.runId, createdAt: new Date().toISOString(), command: opts.command, runs, totals: computeTotals(runs) };
    const p = shownPaths(writeReportSet(dir, set));
    reportDir = dir.shown;
    con.line(`report: ${p.html}`);
  }

  if (con.json) {
    con.printJson({
      runs: replayed.map((r) => ({
        file: r.file,
        name: r.record.name,
        seed: r.record.seed,
        verdict: r.record.verdict,
        recordedVerdict: r.recorded?.verdict ?? null,
        status: r.record.status,
        traceHash: r.record.traceHash,
        recordedTraceHash: r.recorded?.traceHash ?? null,
        hashMatches: r.recorded?.traceHash === undefined ? null : r.recorded.traceHash === r.record.traceHash,
        asRecorded: r.mismatches.length === 0,
        mismatches: r.mismatches,
        sentence: r.sentence,
        checks: r.record.checks,
      })),
      asRecorded: bad.length === 0,
      reportDir: reportDir ?? null,
    });
  }
  return bad.length === 0 ? EXIT_OK : EXIT_FAILED;
}
