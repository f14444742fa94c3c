/**
 * results.json: the whole RunSet, for machines and for `streamsim report` (which rebuilds the
 * other reports from it) and `streamsim report --merge` (which joins the shards of a sweep).
 */
import { closeSync, openSync, readFileSync, readSync } from "node:fs";
import { z } from "zod";
import { describeJsonError, formatIssue } from "../scenario-schema.ts";
import type { RunRecord, RunSet } from "./types.ts";
import { computeTotals, naturalCompare } from "./types.ts";

/**
 * results.json's text as lines: the set's own fields on the first line (ending in `"runs":[`),
 * then one run per line, then `]}`. Valid JSON, and never one string of the whole file: a sweep of
 * 100,000 runs made a JSON.stringify of the set exceed V8's longest string. `readRunSet` reads
 * this layout line by line, whatever the file's size.
 */
export function* resultsJsonLines(set: RunSet): Generator<string> {
  // Made one at a time: the lines of a million runs would not fit in the heap at once.
  const { runs, ...head } = set;
  const first = JSON.stringify(head);
  yield `${first.slice(0, -1)},"runs":[`;
  for (let i = 0; i < runs.length; i++) yield JSON.stringify(runs[i]) + (i < runs.length - 1 ? "," : "");
  yield "]}";
  yield "";
}

/** results.json's text (see resultsJsonLines). */
export function toResultsJson(set: RunSet): string {
  return [...resultsJsonLines(set)].join("\n");
}

// Loose on purpose where the engine may add fields (checkpoint statistics, timeline events):
// a report written by a newer streamsim still reads. Required fields are checked.
const num = z.number();
const str = z.string();
const checkpointStats = z.looseObject({
  id: num,
  status: z.enum(["IN_PROGRESS", "COMPLETED", "FAILED"]),
  triggerTimeMs: num,
  durationMs: num.nullable(),
  stateBytes: num.nullable(),
  alignmentMs: z.record(z.string(), num),
  acknowledged: num,
  total: num,
  failureReason: str.nullable(),
  attempt: num,
});
const timelineEvent = z.looseObject({
  timeMs: num,
  lane: str,
  kind: str,
  label: str,
  id: num.optional(),
  endMs: num.optional(),
  outcome: str.optional(),
});
const runRecord = z.looseObject({
  id: str,
  name: str,
  seed: num,
  verdict: z.enum(["pass", "fail"]),
  expected: z.enum(["pass", "fail"]).optional(),
  asExpected: z.boolean(),
  summary: str,
  checks: z.array(z.looseObject({ check: str, ok: z.boolean(), message: str })),
  traceHash: str,
  status: str,
  durationMs: num,
  wallMs: num.optional(),
  checkpoints: z.array(checkpointStats),
  faults: z.array(z.looseObject({ fault: str, target: str, startMs: num, endMs: num.nullable(), detail: str })),
  restores: z.array(z.looseObject({ timeMs: num, checkpointId: num.nullable(), attempt: num })),
  timeline: z.array(timelineEvent).optional(),
  outputDiff: z
    .array(z.looseObject({ sink: str, missing: z.array(z.json()), duplicated: z.array(z.json()), unexpected: z.array(z.json()) }))
    .optional(),
  counterexamplePath: str.optional(),
  replayCommand: str,
});
const runSetSchema = z.looseObject({
  runId: str,
  createdAt: str,
  command: str,
  seed: num.optional(),
  shard: str.optional(),
  runs: z.array(runRecord),
  totals: z.looseObject({ runs: num, passed: num, failed: num, unexpected: num }),
});

// Compile-time: what the schema accepts is a RunSet.
const _isRunSet = (s: z.output<typeof runSetSchema>): RunSet => s;
void _isRunSet;

export type ParseRunSetResult = { readonly ok: true; readonly runSet: RunSet } | { readonly ok: false; readonly error: string };

/** Parses results.json text; `error` is one line naming the file and the field. */
export function parseRunSet(text: string, fileLabel: string): ParseRunSetResult {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, error: `${fileLabel}: not a results.json file: ${describeJsonError(text)}` };
  }
  return checkRunSet(raw, fileLabel);
}

function checkRunSet(raw: unknown, fileLabel: string): ParseRunSetResult {
  const parsed = runSetSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const message = issue === undefined ? "is not a run set" : formatIssue(issue, raw, "the file");
    return { ok: false, error: `${fileLabel}: not a results.json file: ${message}`.replace(/[\r\n]+/g, " ") };
  }
  return { ok: true, runSet: parsed.data };
}

/** The first line of the layout of resultsJsonLines. */
const RUNS_OPEN = ',"runs":[';
/** Bytes read at a time by the line reader. */
const READ_CHUNK_BYTES = 16 * 1024 * 1024;

/** The lines of a file, one at a time, read in chunks of `chunkBytes` (no string of the whole file). */
export function* fileLines(path: string, chunkBytes = READ_CHUNK_BYTES): Generator<string> {
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.alloc(chunkBytes);
    // Bytes after the last newline read so far (a copy: `buf` is reused), decoded only once a
    // newline ends them, so that no multi-byte character is cut.
    let rest: Buffer = Buffer.alloc(0);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      const chunk = buf.subarray(0, n);
      const cut = chunk.lastIndexOf(10);
      if (cut < 0) {
        rest = Buffer.concat([rest, chunk]);
        continue;
      }
      const text = Buffer.concat([rest, chunk.subarray(0, cut)]).toString("utf8");
      rest = Buffer.from(chunk.subarray(cut + 1));
      yield* text.split("\n");
    }
    if (rest.length > 0) yield rest.toString("utf8");
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads the layout resultsJsonLines writes: yields each run, parsed and checked, as its line is
 * read (the text of a million runs is never held at once), then returns the set's own fields and
 * totals (no runs), or one line on what is wrong; undefined (before any run) when the file has
 * another layout. Stop early with `return()`: the file is closed.
 */
function* layoutRuns(path: string, chunkBytes: number): Generator<RunRecord, ParseRunSetResult | undefined, undefined> {
  const lines = fileLines(path, chunkBytes);
  try {
    const first = lines.next();
    if (first.done === true || !first.value.endsWith(RUNS_OPEN)) return undefined;
    const bad = (why: string): ParseRunSetResult => ({ ok: false, error: `${path}: not a results.json file: ${why}`.replace(/[\r\n]+/g, " ") });
    let count = 0;
    let closed = false;
    let lineNo = 1;
    for (const line of lines) {
      lineNo++;
      if (closed) {
        if (line !== "") return bad(`line ${lineNo} follows the closing "]}"`);
        continue;
      }
      if (line === "]}") {
        closed = true;
        continue;
      }
      const text = line.endsWith(",") ? line.slice(0, -1) : line;
      let raw: unknown;
      try {
        raw = JSON.parse(text);
      } catch {
        return bad(`line ${lineNo} is not a run: ${describeJsonError(text)}`);
      }
      const parsed = runRecord.safeParse(raw);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const i = count;
        return bad(issue === undefined ? `runs[${i}] is not a run` : formatIssue(issue, { runs: { [i]: raw } }, "the file", ["runs", i]));
      }
      count++;
      yield parsed.data;
    }
    if (!closed) return bad('it does not end with "]}" (cut short?)');
    const headText = `${first.value.slice(0, -RUNS_OPEN.length)},"runs":[]}`;
    let head: unknown;
    try {
      head = JSON.parse(headText);
    } catch {
      return bad(`line 1: ${describeJsonError(headText)}`);
    }
    return checkRunSet(head, path);
  } finally {
    lines.return(undefined);
  }
}

/** layoutRuns with every run handed to `onRun`. */
function streamLayout(path: string, chunkBytes: number, onRun: (r: RunRecord) => void): ParseRunSetResult | undefined {
  const runs = layoutRuns(path, chunkBytes);
  for (;;) {
    const step = runs.next();
    if (step.done === true) return step.value;
    onRun(step.value);
  }
}

/** A read error as results-file bad input (one line). */
function cannotRead(path: string, e: unknown): ParseRunSetResult {
  const code = (e as { code?: unknown }).code;
  const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : typeof code === "string" ? code : String(e);
  return { ok: false, error: `${path}: cannot read results: ${why}` };
}

/**
 * Reads a results.json file of resultsJsonLines' layout run by run: each checked run goes to
 * `onRun` in file order, and the result is the set's own fields and totals (no runs), or one line
 * on what is wrong. undefined when the file has another layout (readRunSet reads those whole).
 * `onRun` may have been called before a later line turns out bad: a caller writing reports from
 * the runs keeps them out of sight until the result is ok.
 */
export function streamRunSet(path: string, onRun: (r: RunRecord) => void, chunkBytes = READ_CHUNK_BYTES): ParseRunSetResult | undefined {
  try {
    return streamLayout(path, chunkBytes, onRun);
  } catch (e) {
    if ((e as { code?: unknown }).code === undefined) throw e; // not a read error: onRun's own
    return cannotRead(path, e);
  }
}

/**
 * Reads and checks a results.json file; a missing, unreadable or malformed file gives one line.
 * `chunkBytes` (tests): how much the line reader reads at a time.
 */
export function readRunSet(path: string, chunkBytes = READ_CHUNK_BYTES): ParseRunSetResult {
  try {
    const runs: RunRecord[] = [];
    const layout = streamLayout(path, chunkBytes, (r) => runs.push(r));
    if (layout !== undefined) return layout.ok ? { ok: true, runSet: { ...layout.runSet, runs } } : layout;
    // Another layout (an older streamsim's, or edited by hand): parsed whole.
    return parseRunSet(readFileSync(path, "utf8"), path);
  } catch (e) {
    return cannotRead(path, e);
  }
}

export type MergeOptions = {
  /** runId of the merged set; default "merged". */
  readonly runId?: string;
  /** createdAt of the merged set; default the latest of the inputs'. */
  readonly createdAt?: string;
  /** command of the merged set; default the inputs' commands joined with " ; ". */
  readonly command?: string;
};

/**
 * Joins run sets (the shards of a sweep) into one: runs concatenated and sorted by id (run-2 before
 * run-10), totals recomputed, the seed kept when every set has the same one. A run id present in
 * two sets is an error (the same shard merged twice, or shards that overlap): throws a RangeError
 * with one line naming the id and both sets.
 */
export function mergeRunSets(sets: readonly RunSet[], options: MergeOptions = {}): RunSet {
  const owner = new Map<string, string>();
  const runs: RunRecord[] = [];
  for (const [i, set] of sets.entries()) {
    const label = setLabel(i, set.runId, set.shard);
    for (const r of set.runs) {
      const other = owner.get(r.id);
      if (other !== undefined) throw duplicateRun(r.id, other, label);
      owner.set(r.id, label);
      runs.push(r);
    }
  }
  runs.sort((a, b) => naturalCompare(a.id, b.id));
  return { ...mergedFields(sets, options), runs, totals: computeTotals(runs) };
}

/** How merge messages name the i-th set. */
function setLabel(i: number, runId: unknown, shard: unknown): string {
  return `set ${i + 1} (runId ${JSON.stringify(runId)}${typeof shard === "string" ? `, shard ${shard}` : ""})`;
}

/** A run id found in two sets (or twice in one): the same shard merged twice, or overlapping shards. */
export class DuplicateRunError extends RangeError {
  override readonly name = "DuplicateRunError";
}

function duplicateRun(id: string, first: string, second: string): DuplicateRunError {
  return new DuplicateRunError(`run id ${JSON.stringify(id)} appears in both ${first} and ${second}; merge each shard once`);
}

/** The merged set's own fields: the latest createdAt, the seed when every set has the same one, the commands joined. */
function mergedFields(sets: readonly RunSet[], options: MergeOptions): Omit<RunSet, "runs" | "totals"> {
  const seeds = new Set(sets.map((s) => s.seed));
  const seed = seeds.size === 1 ? sets[0]?.seed : undefined;
  const createdAt = options.createdAt ?? sets.map((s) => s.createdAt).sort().at(-1) ?? "";
  const commands = [...new Set(sets.map((s) => s.command))];
  return {
    runId: options.runId ?? "merged",
    createdAt,
    command: options.command ?? commands.join(" ; "),
    ...(seed !== undefined ? { seed } : {}),
  };
}

/** One shard being merged: its runs as they are read, the one up next, and how it is named in messages. */
type MergeInput = {
  readonly path: string;
  readonly runs: Generator<RunRecord, ParseRunSetResult | undefined, undefined>;
  next: RunRecord | undefined;
  result: ParseRunSetResult | undefined;
  label: string;
};

/** What streamMergeRunSets gives: the merged set's own fields and totals, one line on what is wrong, or why it cannot stream. */
export type StreamMergeResult = ParseRunSetResult | { readonly ok: "fallback"; readonly why: "layout" | "unsorted" };

/**
 * mergeRunSets run by run: the shards' results.json files (each sorted by id, as sweeps write
 * them) are read side by side and their runs handed to `onRun` in merged order, so the memory does
 * not grow with the runs; then the merged set's fields (totals recomputed by the caller's reports).
 * The same order, fields and errors as reading every shard and calling mergeRunSets. A shard of
 * another layout, or one whose runs are not sorted, cannot be merged this way: the result says so
 * ("fallback"), and the caller (which may have received runs already) merges in memory instead.
 * A run id in two shards throws the RangeError mergeRunSets throws.
 */
export function streamMergeRunSets(paths: readonly string[], onRun: (r: RunRecord) => void, options: MergeOptions = {}, chunkBytes = READ_CHUNK_BYTES): StreamMergeResult {
  const inputs: MergeInput[] = [];
  try {
    for (const [i, path] of paths.entries()) {
      // The shard's runId and shard, for messages, from its first line (checked in full at its end).
      let label = `set ${i + 1}`;
      try {
        const firstLine = fileLines(path, chunkBytes).next();
        if (firstLine.done !== true && firstLine.value.endsWith(RUNS_OPEN)) {
          const head = JSON.parse(`${firstLine.value.slice(0, -RUNS_OPEN.length)}}`) as { runId?: unknown; shard?: unknown };
          label = setLabel(i, head.runId, head.shard);
        }
      } catch (e) {
        if ((e as { code?: unknown }).code !== undefined) return cannotRead(path, e);
        // An unreadable first line is reported by the reader below.
      }
      const runs = layoutRuns(path, chunkBytes);
      const first = runs.next();
      const input: MergeInput = { path, runs, next: first.done === true ? undefined : first.value, result: first.done === true ? first.value : undefined, label };
      inputs.push(input);
      if (first.done === true) {
        if (first.value === undefined) return { ok: "fallback", why: "layout" };
        if (!first.value.ok) return first.value;
      }
    }
    let previous: RunRecord | undefined;
    /** Ids (with their shard) of the current run of ids that compare equal: duplicates are among them. */
    const group = new Map<string, string>();
    for (;;) {
      let pick: MergeInput | undefined;
      for (const input of inputs) if (input.next !== undefined && (pick === undefined || naturalCompare(input.next.id, (pick.next as RunRecord).id) < 0)) pick = input;
      if (pick === undefined) break;
      const r = pick.next as RunRecord;
      if (previous !== undefined && naturalCompare(previous.id, r.id) !== 0) group.clear();
      const other = group.get(r.id);
      if (other !== undefined) throw duplicateRun(r.id, other, pick.label);
      group.set(r.id, pick.label);
      onRun(r);
      previous = r;
      const step = pick.runs.next();
      if (step.done === true) {
        pick.next = undefined;
        pick.result = step.value;
        if (step.value !== undefined && !step.value.ok) return step.value;
      } else {
        if (naturalCompare(step.value.id, r.id) < 0) return { ok: "fallback", why: "unsorted" };
        pick.next = step.value;
      }
    }
    const sets = inputs.map((i) => (i.result as Extract<ParseRunSetResult, { ok: true }>).runSet);
    return { ok: true, runSet: { ...mergedFields(sets, options), runs: [], totals: computeTotals([]) } };
  } catch (e) {
    if ((e as { code?: unknown }).code === undefined) throw e;
    return { ok: false, error: `cannot read results: ${String((e as { code?: unknown }).code)}` };
  } finally {
    for (const i of inputs) i.runs.return(undefined);
  }
}
