/**
 * Runs tasks on a pool of worker threads (piscina), or in this thread when `workers` is 0.
 *
 * Tasks are handed out in order; results come back in task order whatever the worker count or the
 * order runs finish in (or, with `keepResults: false`, only to `onResult`, with their task index,
 * so that a long sweep holds none of them). Each task is a pure function of its input, so the same
 * tasks give the same records (bar wall times). A time budget stops handing out new tasks once
 * spent; tasks already running finish, so the tasks that ran are always the first ones.
 */
import { Piscina } from "piscina";
import type { Task, TaskResult } from "./task.ts";
import { runTasks } from "./task.ts";

export type PoolRunOptions = {
  /** Stop starting tasks after this long (wall clock); unset: no limit. */
  readonly timeBudgetMs?: number;
  /** Tasks a worker gets at a time (default: `guidedBatchSize`, shrinking towards the end). */
  readonly batchSize?: number;
  /** Called as each task's result arrives (in completion order), with the task's index. */
  readonly onResult?: (result: TaskResult, index: number) => void;
  /** Keep every result for `results` (default); false: results go to onResult only. */
  readonly keepResults?: boolean;
};

/** The tasks of a run: an array, or anything that makes task i on demand (a long sweep's cases). */
export type TaskList = {
  readonly length: number;
  at(index: number): Task | undefined;
};

export type PoolRun = {
  /** Results of the tasks that ran, in task order (empty with `keepResults: false`). */
  readonly results: TaskResult[];
  /** Tasks not started because the time budget ran out. */
  readonly notStarted: number;
  readonly wallMs: number;
};

const ENTRY = new URL("./worker-entry.mjs", import.meta.url).href;

/** Most tasks in one batch. */
const MAX_BATCH = 8;
/** A batch is at most this fraction of a worker's share of the tasks not yet handed out. */
const GUIDE = 4;

/**
 * Tasks handed to a worker at a time, given how many are not handed out yet (guided scheduling):
 * each hand-off costs the main thread a message, a promise and a structured clone each way (a fifth
 * of a core with one task per message; bench/sweep.ts), so most of a long sweep goes out up to 8
 * tasks at a time, and the batches shrink to single tasks towards the end, so that no worker sits
 * idle while another finishes a long batch. Results still arrive per batch, in task order.
 */
export function guidedBatchSize(remaining: number, workers: number): number {
  return Math.max(1, Math.min(MAX_BATCH, Math.floor(remaining / (Math.max(1, workers) * GUIDE))));
}

export class TaskPool {
  private readonly piscina: Piscina | undefined;

  /** `workers` threads; 0 runs every task in this thread. */
  constructor(readonly workers: number) {
    if (!(Number.isInteger(workers) && workers >= 0)) throw new RangeError(`workers must be an integer >= 0, got ${workers}`);
    this.piscina = workers === 0 ? undefined : new Piscina({ filename: ENTRY, minThreads: workers, maxThreads: workers, idleTimeout: 60_000 });
  }

  /** Starts every thread and loads the engine in it (so timings leave out start-up). */
  async warmup(): Promise<void> {
    const p = this.piscina;
    if (p === undefined) return;
    await Promise.all(Array.from({ length: this.workers }, () => p.run([])));
  }

  async run(tasks: TaskList, opts: PoolRunOptions = {}): Promise<PoolRun> {
    const t0 = performance.now();
    const budgetOver = (): boolean => opts.timeBudgetMs !== undefined && performance.now() - t0 >= opts.timeBudgetMs;
    const keep = opts.keepResults !== false;
    const slots: Array<TaskResult | undefined> = keep ? new Array<TaskResult | undefined>(tasks.length) : [];
    const taskAt = (i: number): Task => {
      const t = tasks.at(i);
      if (t === undefined) throw new RangeError(`no task ${i} of ${tasks.length}`);
      return t;
    };
    const done = (r: TaskResult, index: number): void => {
      if (keep) slots[index] = r;
      opts.onResult?.(r, index);
    };
    let next = 0;
    const p = this.piscina;
    if (p === undefined) {
      while (next < tasks.length && !budgetOver()) {
        const [result] = runTasks([taskAt(next)]);
        if (result !== undefined) done(result, next);
        next++;
      }
    } else {
      const maxInFlight = this.workers * 2;
      const inFlight = new Set<Promise<void>>();
      while (next < tasks.length || inFlight.size > 0) {
        while (next < tasks.length && inFlight.size < maxInFlight && !budgetOver()) {
          const start = next;
          const size = Math.max(1, opts.batchSize ?? guidedBatchSize(tasks.length - next, this.workers));
          const batch: Task[] = [];
          for (let i = start; i < Math.min(tasks.length, start + size); i++) batch.push(taskAt(i));
          next += batch.length;
          const job: Promise<void> = (p.run(batch) as Promise<TaskResult[]>).then((results) => {
            inFlight.delete(job);
            results.forEach((r, k) => done(r, start + k));
          });
          // A failing batch (or onResult) fails the run through the race below; the batches still in
          // flight then may fail too (the pool is closed), with nobody left to await them.
          job.catch(() => undefined);
          inFlight.add(job);
        }
        if (inFlight.size === 0) break;
        await Promise.race(inFlight);
      }
    }
    const results = slots.filter((r): r is TaskResult => r !== undefined);
    return { results, notStarted: tasks.length - next, wallMs: performance.now() - t0 };
  }

  async close(): Promise<void> {
    await this.piscina?.destroy();
  }
}
