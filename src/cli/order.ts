/**
 * A sweep's runs in report order as their results arrive, without holding them all.
 *
 * The reports list runs sorted by id (naturalCompare: run-2 before run-10). A sweep's tasks are its
 * named scenarios (`start`'s built-ins) and then its generated cases in index order, whose ids
 * run-<index> already sort in that order; the pool hands tasks out in order and results come back
 * nearly in order (a few batches are in flight at once). So `RunOrder` keeps a small reorder buffer
 * keyed by task index, holds the few scenario runs, and merges them into the cases where they sort:
 * the same order as sorting every run by id (a stable sort, scenarios first among equal ids), which
 * is what the sweep did when it kept every run.
 */
import type { RunRecord } from "../report/index.ts";
import { naturalCompare } from "../report/index.ts";

export class RunOrder {
  /** Results that came before an earlier task's, by task index. */
  private readonly pending = new Map<number, RunRecord>();
  private next = 0;
  /** The scenario runs, sorted by id once all have come (they are the first tasks). */
  private held: RunRecord[] = [];
  private heldSorted = false;
  private heldAt = 0;
  /** Most results waiting at once (for tests and the bench). */
  maxPending = 0;

  /**
   * @param scenarioTasks how many of the first tasks are named scenarios (the rest: generated cases, ids run-<index> in increasing index)
   * @param emit receives every run once, in report order
   */
  constructor(
    private readonly scenarioTasks: number,
    private readonly emit: (r: RunRecord) => void,
  ) {}

  /** The record of task `index` (each task once, in any order). */
  add(index: number, r: RunRecord): void {
    if (index < this.next || this.pending.has(index)) throw new RangeError(`task ${index} reported twice`);
    this.pending.set(index, r);
    this.maxPending = Math.max(this.maxPending, this.pending.size);
    for (let x = this.pending.get(this.next); x !== undefined; x = this.pending.get(this.next)) {
      this.pending.delete(this.next);
      this.route(this.next++, x);
    }
  }

  private route(index: number, r: RunRecord): void {
    if (index < this.scenarioTasks) {
      this.held.push(r);
      return;
    }
    this.sortHeld();
    for (let h = this.held[this.heldAt]; h !== undefined && naturalCompare(h.id, r.id) <= 0; h = this.held[this.heldAt]) {
      this.heldAt++;
      this.emit(h);
    }
    this.emit(r);
  }

  private sortHeld(): void {
    if (this.heldSorted) return;
    this.held.sort((a, b) => naturalCompare(a.id, b.id));
    this.heldSorted = true;
  }

  /**
   * Emits what is left (the scenario runs that sort after every case). The tasks that ran must be
   * the first ones (a time budget stops handing out tasks; it never skips one): throws otherwise.
   */
  finish(): void {
    if (this.pending.size > 0) throw new Error(`sweep results out of order: task ${this.next} never reported, ${this.pending.size} later ones did`);
    this.sortHeld();
    for (let h = this.held[this.heldAt]; h !== undefined; h = this.held[this.heldAt]) {
      this.heldAt++;
      this.emit(h);
    }
    this.held = [];
    this.heldAt = 0;
  }
}
