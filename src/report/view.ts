/**
 * What summary.md, index.html and junit.xml's header read of a run set, without every run: the
 * set's own fields, the totals, the checkpoint statistics over all runs, and the few runs the
 * reports show in full (every run with details, then the first others up to MAX_LISTED_RUNS).
 *
 * `viewOfSet` makes it from a RunSet in memory (`streamsim report`, tests); a sweep builds it run
 * by run with `RunSetBuilder` (see spool.ts), so that its memory does not grow with the runs.
 */
import type { CheckpointSummary, RunRecord, RunSet, RunTotals } from "./types.ts";
import { checkpointOutcome, maxAlignment } from "./types.ts";

/** Whether a run gets a detail section: it did not behave as expected, it failed, or it carries a timeline. */
export function hasDetails(r: RunRecord): boolean {
  return !r.asExpected || r.verdict === "fail" || r.timeline !== undefined;
}

/**
 * Most rows index.html's runs table lists. Failing, unexpected and chosen runs are always listed,
 * passing runs up to the rest: a row per run of a 100,000-run sweep made a 45 MB page.
 */
export const MAX_LISTED_RUNS = 10_000;

/** A run set's own fields (results.json's first line, without the totals). */
export type RunSetHead = {
  readonly runId: string;
  readonly createdAt: string;
  readonly command: string;
  readonly seed?: number;
  readonly shard?: string;
};

export type RunSetView = RunSetHead & {
  readonly totals: RunTotals;
  /** Runs in the set (totals.runs, unless a results.json was edited by hand). */
  readonly runCount: number;
  /** Runs that did not behave as expected. */
  readonly unexpectedCount: number;
  /** The runs' wall times added up in set order (junit.xml's time). */
  readonly wallMsTotal: number;
  /** Checkpoint statistics over every run. */
  readonly checkpoints: CheckpointSummary;
  /**
   * In set order: every run with details (hasDetails: failing, unexpected, chosen), and the first
   * other runs, MAX_LISTED_RUNS of them at most: what index.html and summary.md show.
   */
  readonly kept: readonly RunRecord[];
};

/** The head of a set (its own fields, in results.json's order). */
export function headOf(set: RunSet): RunSetHead {
  return {
    runId: set.runId,
    createdAt: set.createdAt,
    command: set.command,
    ...(set.seed !== undefined ? { seed: set.seed } : {}),
    ...(set.shard !== undefined ? { shard: set.shard } : {}),
  };
}

/** Whether a run is kept in a view: it has details, or is among the first `plain` others. */
function keeps(r: RunRecord, plainSoFar: number): boolean {
  return hasDetails(r) || plainSoFar < MAX_LISTED_RUNS;
}

/** A builder (durations in memory) that has taken `runs`. */
function builtFrom(runs: readonly RunRecord[]): RunSetBuilder {
  const b = new RunSetBuilder();
  for (const r of runs) b.add(r);
  return b;
}

/** The view of a run set held in memory (with the totals the set states, as a hand-edited file has them). */
export function viewOfSet(set: RunSet): RunSetView {
  return { ...builtFrom(set.runs).view(headOf(set)), totals: set.totals };
}

/** Checkpoint statistics over many runs (RunSetBuilder's, for runs in memory). */
export function summarizeCheckpoints(runs: readonly RunRecord[]): CheckpointSummary {
  return builtFrom(runs).checkpoints();
}

/**
 * Where a builder keeps the durations of completed checkpoints until their median and 95th
 * percentile are picked (the only statistics that need every value).
 */
export interface DurationStore {
  add(ms: number): void;
  readonly count: number;
  /** The value of 0-based rank `k` in ascending order (k < count). */
  select(k: number): number;
}

/** Durations in an array (tests; small sets). */
export class MemoryDurations implements DurationStore {
  private readonly values: number[] = [];
  private sorted = true;
  add(ms: number): void {
    this.values.push(ms);
    this.sorted = false;
  }
  get count(): number {
    return this.values.length;
  }
  select(k: number): number {
    if (!this.sorted) this.values.sort((a, b) => a - b);
    this.sorted = true;
    return this.values[k] as number;
  }
}

/**
 * Builds a RunSetView from runs given one at a time in set order (computeTotals' totals, the
 * checkpoint statistics, the runs the reports list), with memory for the kept runs and the
 * per-outcome counts only (durations go to the DurationStore).
 */
export class RunSetBuilder {
  private runs = 0;
  private passed = 0;
  private unexpected = 0;
  private wallMs = 0;
  private plain = 0;
  private readonly kept: RunRecord[] = [];
  private cpTotal = 0;
  private cpCompleted = 0;
  private readonly failed = new Map<string, number>();
  private alignmentMsMax: number | null = null;
  private stateBytesMax: number | null = null;
  private durationMsMax: number | null = null;

  constructor(private readonly durations: DurationStore = new MemoryDurations()) {}

  add(r: RunRecord): void {
    this.runs++;
    if (r.verdict === "pass") this.passed++;
    if (!r.asExpected) this.unexpected++;
    this.wallMs += r.wallMs ?? 0;
    if (keeps(r, this.plain)) {
      this.kept.push(r);
      if (!hasDetails(r)) this.plain++;
    }
    for (const c of r.checkpoints) {
      this.cpTotal++;
      if (c.status === "COMPLETED") this.cpCompleted++;
      const o = checkpointOutcome(c);
      if (o === "completed") {
        if (c.durationMs !== null) {
          this.durations.add(c.durationMs);
          if (this.durationMsMax === null || c.durationMs >= this.durationMsMax) this.durationMsMax = c.durationMs;
        }
      } else this.failed.set(o, (this.failed.get(o) ?? 0) + 1);
      const a = maxAlignment(c);
      if (a !== null && (this.alignmentMsMax === null || a.ms > this.alignmentMsMax)) this.alignmentMsMax = a.ms;
      if (c.stateBytes !== null && (this.stateBytesMax === null || c.stateBytes > this.stateBytesMax)) this.stateBytesMax = c.stateBytes;
    }
  }

  /** Runs added so far. */
  get count(): number {
    return this.runs;
  }

  /** The checkpoint statistics of the runs added so far: counts, the median, 95th percentile and maximum completion time, the largest alignment and state. */
  checkpoints(): CheckpointSummary {
    const n = this.durations.count;
    const pick = (q: number): number | null => (n === 0 ? null : this.durations.select(Math.min(n - 1, Math.ceil(q * n) - 1)));
    return {
      total: this.cpTotal,
      completed: this.cpCompleted,
      failedByOutcome: [...this.failed.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)),
      durationMsMedian: pick(0.5),
      durationMsP95: pick(0.95),
      durationMsMax: n === 0 ? null : this.durationMsMax,
      alignmentMsMax: this.alignmentMsMax,
      stateBytesMax: this.stateBytesMax,
    };
  }

  view(head: RunSetHead): RunSetView {
    const totals: RunTotals = { runs: this.runs, passed: this.passed, failed: this.runs - this.passed, unexpected: this.unexpected };
    return { ...head, totals, runCount: this.runs, unexpectedCount: this.unexpected, wallMsTotal: this.wallMs, checkpoints: this.checkpoints(), kept: this.kept };
  }
}
