/**
 * Where a command writes: reports/<run-id>/ by default (a timestamp, made unique), or --out.
 */
import { existsSync, mkdirSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { ReportPaths, RunSet } from "../report/index.ts";
import { writeFileAtomic, writeReports } from "../report/index.ts";
import { UsageError } from "./io.ts";
import { displayPath } from "./scenarios.ts";

/** "2026-11-24T10-31-07" (UTC): sorts by time, safe in file names. */
export function timestampId(now: Date = new Date()): string {
  return now.toISOString().slice(0, 19).replace(/:/g, "-");
}

/** "2026-11-24" (UTC). */
export function dateTag(now: Date = new Date()): string {
  return now.toISOString().slice(0, 10);
}

export type OutDir = {
  /** The run id (the folder's name). */
  readonly runId: string;
  readonly abs: string;
  /** As printed and written into replay commands: relative to the working directory when inside it. */
  readonly shown: string;
};

/** --out, or reports/<timestamp>[-<suffix>] (with -2, -3 ... when taken). */
export function chooseOutDir(out: string | undefined, suffix?: string, now: Date = new Date()): OutDir {
  if (out !== undefined) {
    if (out.trim() === "") throw new UsageError("--out: the folder name is empty; give a folder such as reports/mine");
    const abs = resolve(out);
    if (existsSync(abs) && !isDir(abs)) throw new UsageError(`--out ${out}: is a file, expected a folder for the reports`);
    return { runId: abs.split(/[\\/]/).filter((p) => p !== "").at(-1) ?? "report", abs, shown: displayPath(abs) };
  }
  const base = `${timestampId(now)}${suffix !== undefined ? `-${suffix}` : ""}`;
  let runId = base;
  for (let n = 2; n < 1000 && existsSync(resolve("reports", runId)); n++) runId = `${base}-${n}`;
  const abs = resolve("reports", runId);
  return { runId, abs, shown: displayPath(abs) };
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Writes the four reports; a folder that cannot be written is bad input (one line). */
export function writeReportSet(dir: OutDir, set: RunSet): ReportPaths {
  try {
    return writeReports(dir.abs, set);
  } catch (e) {
    throw new UsageError(`--out ${dir.shown}: cannot write the reports: ${(e as { code?: string }).code ?? String(e)}`);
  }
}

/** Writes a counterexample (or any) file atomically, creating its folder. */
export function writeTextFile(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileAtomic(path, text);
}

/** Relative report paths, for printing. */
export function shownPaths(p: ReportPaths): { results: string; junit: string; summary: string; html: string } {
  return { results: displayPath(p.results), junit: displayPath(p.junit), summary: displayPath(p.summary), html: displayPath(p.html) };
}
