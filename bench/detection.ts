/**
 * Detection benchmark: does each bug of the catalog (bench/bugs/catalog.ts) make the default
 * property suites fail? For every bug, several fast-check seeds: detected or not within MAX_RUNS
 * runs, runs and wall-clock seconds to the first failure, and the size of the shrunk
 * counterexample (records, operators, faults). Prints the table and the detection rate, writes
 * reports/bugs/detection.{json,md} and each bug's smallest counterexample as a scenario file
 * (reports/bugs/<bug>.json, replayable with `streamsim run`).
 *
 *   npm run bench detection
 *   SEEDS=3 MAX_RUNS=300 SHRINK_RUNS=500 SHRINK_SECONDS=10 MINIMIZE_RUNS=800 MINIMIZE_SECONDS=25 JOBS=1 BUGS=alignment-skipped,min-pause-ignored npm run bench detection
 *   SUITE=<targeted arbitrary of bench/bugs/targeted.ts> BUGS=state-not-fsynced npm run bench detection
 *   OUT=detection-partial ...   (the name of the files written under reports/bugs/)
 *
 * A detection counts only when the unmodified engine passes the same scenario (differential: see
 * bench/bugs/detect.ts); the "control" row runs the unmodified engine alone and shows the suites'
 * own failure rate.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { PROJECT_ROOT } from "./bugs/apply.ts";
import { BUGS, type Bug } from "./bugs/catalog.ts";
import type { SeedResult } from "./bugs/detect.ts";
import { runDetection, type BugOutcome } from "./bugs/runner.ts";
import { benchHeader, formatTable, median } from "./stats.ts";

/** Targets of issue 6. */
const TARGET_RUNS = 100;
const TARGET_SECONDS = 10;
const TARGET_FAULTS = 3;
const TARGET_RECORDS = 20;

const env = (name: string, fallback: number): number => {
  const v = process.env[name];
  if (v === undefined || v === "") return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a number >= 0, got ${JSON.stringify(v)}`);
  return n;
};

type Row = {
  readonly id: string;
  readonly seeds: number;
  readonly detected: number;
  /** Medians over all seeds, an undetected seed counting as infinitely many runs / seconds. */
  readonly medianRuns: number;
  readonly medianSeconds: number;
  /** Medians over detected seeds. */
  readonly records: number | null;
  readonly operators: number | null;
  readonly faults: number | null;
  readonly maxFaults: number | null;
  readonly checks: string;
  readonly suites: string;
  readonly controlFailures: number;
  readonly error: string | null;
};

const fmtMedian = (v: number, digits: number, maxRuns: number): string =>
  Number.isFinite(v) ? v.toFixed(digits) : `>${maxRuns}`;

function tally(values: ReadonlyArray<string | null>): string {
  const counts = new Map<string, number>();
  for (const v of values) if (v !== null) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([k, n]) => (n > 1 ? `${k} x${n}` : k))
    .join(", ");
}

function rowOf(id: string, outcome: BugOutcome): Row {
  if (!outcome.ok)
    return { id, seeds: 0, detected: 0, medianRuns: Infinity, medianSeconds: Infinity, records: null, operators: null, faults: null, maxFaults: null, checks: "", suites: "", controlFailures: 0, error: outcome.error };
  const seeds = outcome.report.seeds;
  const hit = seeds.filter((s) => s.detected);
  const shrunk = hit.map((s) => s.shrunk).filter((x): x is NonNullable<SeedResult["shrunk"]> => x !== null);
  const med = (f: (x: NonNullable<SeedResult["shrunk"]>) => number): number | null => (shrunk.length === 0 ? null : median(shrunk.map(f)));
  return {
    id,
    seeds: seeds.length,
    detected: hit.length,
    medianRuns: median(seeds.map((s) => s.runsToFailure ?? Infinity)),
    medianSeconds: median(seeds.map((s) => s.secondsToFailure ?? Infinity)),
    records: med((x) => x.records),
    operators: med((x) => x.operators),
    faults: med((x) => x.faults),
    maxFaults: shrunk.length === 0 ? null : Math.max(...shrunk.map((x) => x.faults)),
    checks: tally(hit.map((s) => s.shrunkCheck)),
    suites: tally(hit.map((s) => s.suite)),
    controlFailures: seeds.reduce((a, s) => a + s.controlFailures, 0),
    error: null,
  };
}

function tableRows(rows: readonly Row[], maxRuns: number): string[][] {
  return rows.map((r) => [
    r.id,
    r.error !== null ? "error" : `${r.detected}/${r.seeds}`,
    fmtMedian(r.medianRuns, 0, maxRuns),
    Number.isFinite(r.medianSeconds) ? r.medianSeconds.toFixed(1) : "-",
    r.records === null ? "-" : `${r.records}/${r.operators}/${r.faults}`,
    r.error ?? r.checks,
  ]);
}

const HEADERS = ["bug", "detected", "median runs", "median s", "shrunk rec/ops/faults", "failing check (shrunk)"];

function markdown(rows: readonly Row[], bugs: readonly Bug[], maxRuns: number): string {
  const byId = new Map(bugs.map((b) => [b.id, b]));
  const lines = [
    "| bug | models | detected | median runs | median s | shrunk records / operators / faults | failing check |",
    "|---|---|---|---|---|---|---|",
  ];
  for (const r of rows) {
    const b = byId.get(r.id);
    const models = (b?.models ?? "the unmodified engine").replaceAll("|", "\\|");
    const shrunk = r.records === null ? "-" : `${r.records} / ${r.operators} / ${r.faults}`;
    const det = r.error !== null ? `error: ${r.error}` : `${r.detected}/${r.seeds}`;
    lines.push(`| \`${r.id}\` | ${models} | ${det} | ${fmtMedian(r.medianRuns, 0, maxRuns)} | ${Number.isFinite(r.medianSeconds) ? r.medianSeconds.toFixed(1) : "-"} | ${shrunk} | ${r.checks} |`);
  }
  return lines.join("\n");
}

export async function main(): Promise<void> {
  console.log(benchHeader("detection"));
  const seedCount = env("SEEDS", 5);
  const maxRuns = env("MAX_RUNS", 300);
  const shrinkRuns = env("SHRINK_RUNS", 500);
  const shrinkSeconds = env("SHRINK_SECONDS", 10);
  const minimizeRuns = env("MINIMIZE_RUNS", 800);
  const minimizeSeconds = env("MINIMIZE_SECONDS", 25);
  const jobs = env("JOBS", 2);
  const suite = process.env["SUITE"] || undefined;
  const only = (process.env["BUGS"] ?? "").split(",").filter((s) => s !== "");
  const unknown = only.filter((id) => id !== "control" && !BUGS.some((b) => b.id === id));
  if (unknown.length > 0) throw new Error(`unknown bug ${unknown.join(", ")}; the catalog has ${BUGS.map((b) => b.id).join(", ")}`);
  const selected: Array<Bug | null> = only.length === 0 ? [null, ...BUGS] : [...(only.includes("control") ? [null] : []), ...BUGS.filter((b) => only.includes(b.id))];
  const seeds = Array.from({ length: seedCount }, (_, i) => i + 1);
  console.log(
    `${selected.length} runs of the default suites${suite !== undefined ? ` (targeted: ${suite})` : ""}: ${seedCount} seeds each, at most ${maxRuns} runs per seed, ` +
      `shrinking bounded by ${shrinkRuns} runs / ${shrinkSeconds} s, then ${minimizeRuns} runs / ${minimizeSeconds} s, ${jobs} at a time`,
  );
  const t0 = performance.now();
  const outcomes = await runDetection(selected, {
    root: PROJECT_ROOT,
    seeds,
    maxRuns,
    shrinkRuns,
    shrinkSeconds,
    minimizeRuns,
    minimizeSeconds,
    jobs,
    childTimeoutMs: 30 * 60_000,
    ...(suite !== undefined ? { suite } : {}),
    onDone: (id, o) => {
      const r = rowOf(id, o);
      console.log(
        `  ${id}: ${o.ok ? `${r.detected}/${r.seeds} detected, median ${fmtMedian(r.medianRuns, 0, maxRuns)} runs (${o.wallSeconds.toFixed(0)} s wall)` : `error: ${o.error}`}`,
      );
    },
  });
  const rows = [...outcomes.entries()].map(([id, o]) => rowOf(id, o));
  console.log("");
  console.log(formatTable(HEADERS, tableRows(rows, maxRuns)));

  const bugRows = rows.filter((r) => r.id !== "control");
  const control = rows.find((r) => r.id === "control");
  if (bugRows.length > 0) {
    const detectedBugs = bugRows.filter((r) => r.detected > 0);
    const allSeeds = bugRows.reduce((a, r) => a + r.seeds, 0);
    const hitSeeds = bugRows.reduce((a, r) => a + r.detected, 0);
    const runsMed = median(bugRows.map((r) => r.medianRuns));
    const secMed = median(bugRows.map((r) => r.medianSeconds));
    const withShrunk = bugRows.filter((r) => r.records !== null);
    console.log("");
    console.log(
      `detection rate: ${detectedBugs.length}/${bugRows.length} bugs detected by at least one seed, ${hitSeeds}/${allSeeds} (bug, seed) pairs; ` +
        `median over bugs of the median runs ${fmtMedian(runsMed, 0, maxRuns)} (target <= ${TARGET_RUNS}), seconds ${Number.isFinite(secMed) ? secMed.toFixed(1) : "-"} (target <= ${TARGET_SECONDS})`,
    );
    const over = (pred: (r: Row) => boolean): string => bugRows.filter(pred).map((r) => r.id).join(", ") || "none";
    console.log(`missed entirely: ${over((r) => r.detected === 0)}`);
    console.log(`median runs > ${TARGET_RUNS}: ${over((r) => r.medianRuns > TARGET_RUNS)}`);
    console.log(`median seconds > ${TARGET_SECONDS}: ${over((r) => r.medianSeconds > TARGET_SECONDS)}`);
    console.log(
      `shrunk beyond ${TARGET_FAULTS} faults or ${TARGET_RECORDS} records (median): ${over((r) => r.records !== null && ((r.faults ?? 0) > TARGET_FAULTS || r.records > TARGET_RECORDS))}` +
        ` (of ${withShrunk.length} with a counterexample)`,
    );
    const controlHits = bugRows.reduce((a, r) => a + r.controlFailures, 0);
    if (controlHits > 0) console.log(`runs that failed on the unmodified engine too (skipped, not counted as detections): ${controlHits}`);
  }
  if (control !== undefined && control.error === null)
    console.log(`control (unmodified engine): ${control.detected}/${control.seeds} seeds found a failure within ${maxRuns} runs${control.checks !== "" ? ` (${control.checks})` : ""}`);
  console.log(`wall time ${((performance.now() - t0) / 1000).toFixed(0)} s`);

  const dir = path.join(PROJECT_ROOT, "reports", "bugs");
  mkdirSync(dir, { recursive: true });
  const raw: Record<string, unknown> = {};
  for (const [id, o] of outcomes) {
    raw[id] = o.ok ? { ...o.report, seeds: o.report.seeds.map(({ shrunkScenario: _s, ...rest }) => rest) } : { error: o.error };
    if (!o.ok) continue;
    const smallest = o.report.seeds
      .filter((s) => s.shrunkScenario !== null)
      .sort((a, b) => (a.shrunk?.faults ?? 0) - (b.shrunk?.faults ?? 0) || (a.shrunk?.records ?? 0) - (b.shrunk?.records ?? 0))[0];
    if (smallest?.shrunkScenario != null)
      writeFileSync(
        path.join(dir, suite === undefined ? `${id}.json` : `${id}.${suite}.json`),
        JSON.stringify({ ...smallest.shrunkScenario, name: `bug-${id}`, description: `shrunk counterexample for catalog bug ${id}: ${smallest.shrunkSummary}` }, null, 2) + "\n",
      );
  }
  const stem = process.env["OUT"] || (suite === undefined ? "detection" : `detection-${suite}`);
  writeFileSync(path.join(dir, `${stem}.json`), JSON.stringify({ seeds, maxRuns, shrinkRuns, shrinkSeconds, minimizeRuns, minimizeSeconds, suite: suite ?? "default", bugs: raw }, null, 2) + "\n");
  writeFileSync(path.join(dir, `${stem}.md`), markdown(rows, BUGS, maxRuns) + "\n");
  console.log(`wrote ${path.relative(PROJECT_ROOT, dir)}/${stem}.{json,md} and the shrunk counterexamples`);
}
