/**
 * results.json: the whole RunSet, for machines and for `streamsim report` (which rebuilds the
 * other reports from it) and `streamsim report --merge` (which joins the shards of a sweep).
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import { describeJsonError, formatIssue } from "../scenario-schema.ts";
import type { RunRecord, RunSet } from "./types.ts";
import { computeTotals, naturalCompare } from "./types.ts";

/** results.json's text: the RunSet with 2-space indentation and a final newline. */
export function toResultsJson(set: RunSet): string {
  return JSON.stringify(set, null, 2) + "\n";
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
  const parsed = runSetSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const message = issue === undefined ? "is not a run set" : formatIssue(issue, raw, "the file");
    return { ok: false, error: `${fileLabel}: not a results.json file: ${message}`.replace(/[\r\n]+/g, " ") };
  }
  return { ok: true, runSet: parsed.data };
}

/** Reads and checks a results.json file; a missing, unreadable or malformed file gives one line. */
export function readRunSet(path: string): ParseRunSetResult {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : typeof code === "string" ? code : String(e);
    return { ok: false, error: `${path}: cannot read results: ${why}` };
  }
  return parseRunSet(text, path);
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
    const label = `set ${i + 1} (runId ${JSON.stringify(set.runId)}${set.shard !== undefined ? `, shard ${set.shard}` : ""})`;
    for (const r of set.runs) {
      const other = owner.get(r.id);
      if (other !== undefined)
        throw new RangeError(`run id ${JSON.stringify(r.id)} appears in both ${other} and ${label}; merge each shard once`);
      owner.set(r.id, label);
      runs.push(r);
    }
  }
  runs.sort((a, b) => naturalCompare(a.id, b.id));
  const seeds = new Set(sets.map((s) => s.seed));
  const seed = seeds.size === 1 ? sets[0]?.seed : undefined;
  const createdAt = options.createdAt ?? sets.map((s) => s.createdAt).sort().at(-1) ?? "";
  const commands = [...new Set(sets.map((s) => s.command))];
  return {
    runId: options.runId ?? "merged",
    createdAt,
    command: options.command ?? commands.join(" ; "),
    ...(seed !== undefined ? { seed } : {}),
    runs,
    totals: computeTotals(runs),
  };
}
