/**
 * Writing the reports: every file atomically (written to `<file>.tmp-<pid>`, then renamed over the
 * target), so a reader never sees a half-written report, even if the writer dies midway.
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { threadId } from "node:worker_threads";
import { toHtml } from "./html.ts";
import { toResultsJson } from "./json.ts";
import { toJunitXml } from "./junit.ts";
import { toMarkdownSummary } from "./markdown.ts";
import type { RunSet } from "./types.ts";

/**
 * Writes `content` to `path` atomically: to `<path>.tmp-<pid>` (plus `-<threadId>` in a worker
 * thread), then a rename. On failure the temporary file is removed and the error rethrown.
 */
export function writeFileAtomic(path: string, content: string): void {
  const tmp = `${path}.tmp-${process.pid}${threadId === 0 ? "" : `-${threadId}`}`;
  try {
    writeFileSync(tmp, content, "utf8");
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

export type ReportPaths = {
  /** results.json: the whole RunSet. */
  readonly results: string;
  /** junit.xml: one test case per run. */
  readonly junit: string;
  /** summary.md: for CI step summaries. */
  readonly summary: string;
  /** index.html: the self-contained report. */
  readonly html: string;
};

/** Writes results.json, junit.xml, summary.md and index.html into `dir` (created if needed). */
export function writeReports(dir: string, set: RunSet): ReportPaths {
  mkdirSync(dir, { recursive: true });
  const paths: ReportPaths = {
    results: join(dir, "results.json"),
    junit: join(dir, "junit.xml"),
    summary: join(dir, "summary.md"),
    html: join(dir, "index.html"),
  };
  writeFileAtomic(paths.results, toResultsJson(set));
  writeFileAtomic(paths.junit, toJunitXml(set));
  writeFileAtomic(paths.summary, toMarkdownSummary(set));
  writeFileAtomic(paths.html, toHtml(set));
  return paths;
}
