/**
 * Writing the reports: every file atomically (written to `<file>.tmp-<pid>`, then renamed over the
 * target), so a reader never sees a half-written report, even if the writer dies midway.
 */
import { closeSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { threadId } from "node:worker_threads";
import { htmlLines } from "./html.ts";
import { resultsJsonLines } from "./json.ts";
import { JUNIT_TAIL, junitCaseLines, junitHeadLines } from "./junit.ts";
import { toMarkdownSummary } from "./markdown.ts";
import type { RunSet } from "./types.ts";
import { viewOfSet } from "./view.ts";

/** The temporary file `path` is written to before the rename: `<path>.tmp-<pid>` (plus `-<threadId>` in a worker thread). */
function tmpPath(path: string): string {
  return `${path}.tmp-${process.pid}${threadId === 0 ? "" : `-${threadId}`}`;
}

/**
 * Writes `path` atomically: `write` fills the temporary file (tmpPath), which is then renamed over
 * `path`. On failure the temporary file is removed and the error rethrown.
 */
function atomically(path: string, write: (fd: number) => void): void {
  const tmp = tmpPath(path);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, "w");
    write(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** Writes `content` to `path` atomically (see atomically). */
export function writeFileAtomic(path: string, content: string): void {
  atomically(path, (fd) => writeSync(fd, content, null, "utf8"));
}

/** Characters written at a time by writeLinesAtomic. */
const WRITE_BATCH_CHARS = 4 * 1024 * 1024;

/**
 * Writes `lines` joined by newlines to `path` atomically, in batches: the reports of a long sweep
 * are larger than the longest string V8 can make.
 */
export function writeLinesAtomic(path: string, lines: Iterable<string>): void {
  atomically(path, (fd) => {
    let batch: string[] = [];
    let size = 0;
    let first = true;
    for (const line of lines) {
      // A newline between lines, none after the last.
      batch.push(first ? line : "\n" + line);
      first = false;
      size += line.length + 1;
      if (size >= WRITE_BATCH_CHARS) {
        writeSync(fd, batch.join(""));
        batch = [];
        size = 0;
      }
    }
    if (batch.length > 0) writeSync(fd, batch.join(""));
  });
}

/**
 * Writes `chunks` one after the other to `path` atomically (as writeLinesAtomic, without adding
 * newlines); each chunk is written before the next is taken, so a chunk may reuse a buffer.
 */
export function writeChunksAtomic(path: string, chunks: Iterable<string | Uint8Array>): void {
  atomically(path, (fd) => {
    for (const chunk of chunks) {
      if (typeof chunk === "string") writeSync(fd, chunk);
      else for (let at = 0; at < chunk.length; ) at += writeSync(fd, chunk, at);
    }
  });
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

/** The four reports' paths in `dir`. */
export function reportPaths(dir: string): ReportPaths {
  return {
    results: join(dir, "results.json"),
    junit: join(dir, "junit.xml"),
    summary: join(dir, "summary.md"),
    html: join(dir, "index.html"),
  };
}

/**
 * Writes results.json, junit.xml, summary.md and index.html into `dir` (created if needed), for a
 * run set held in memory; a sweep writes the same files from its runs as they come (spool.ts).
 */
export function writeReports(dir: string, set: RunSet): ReportPaths {
  mkdirSync(dir, { recursive: true });
  const paths = reportPaths(dir);
  const view = viewOfSet(set);
  writeLinesAtomic(paths.results, resultsJsonLines(set));
  writeLinesAtomic(paths.junit, junitLines(view, set));
  writeFileAtomic(paths.summary, toMarkdownSummary(view));
  writeLinesAtomic(paths.html, htmlLines(view));
  return paths;
}

/** junit.xml's lines one at a time (junitXmlLines without the array of them all). */
function* junitLines(view: ReturnType<typeof viewOfSet>, set: RunSet): Generator<string> {
  yield* junitHeadLines(view);
  for (const r of set.runs) yield* junitCaseLines(r);
  yield* JUNIT_TAIL;
}
