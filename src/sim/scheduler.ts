/**
 * The virtual clock and event queue.
 *
 * Events are ordered by (time, sequence number): two events due at the same time run in the order
 * they were scheduled, never by object identity or hash order. Time only moves forward. Every run
 * is bounded by `maxEvents` and `maxTimeMs`; exceeding a bound throws a `BoundExceeded` liveness
 * error that names the bound.
 *
 * Nodes (simulated processes) own timers. Crashing a node drops every timer it owns (its
 * incarnation changes, and stale events are skipped when they come due) and runs its crash hooks;
 * restarting it runs its restart hooks, which rebuild the process.
 */
import { assert } from "./assert.ts";

export type NodeId = string & { readonly __brand: "NodeId" };
export const nodeId = (s: string): NodeId => s as NodeId;

export type SchedulerOptions = {
  /** Hard bound on processed events per run. */
  readonly maxEvents: number;
  /** Hard bound on simulated time, in milliseconds. */
  readonly maxTimeMs: number;
};

export const defaultSchedulerOptions: SchedulerOptions = { maxEvents: 50_000_000, maxTimeMs: 24 * 3600_000 };

export function validateSchedulerOptions(o: SchedulerOptions): string | undefined {
  if (!Number.isInteger(o.maxEvents) || o.maxEvents < 1) return `scheduler.maxEvents must be an integer >= 1, got ${o.maxEvents}`;
  if (!Number.isFinite(o.maxTimeMs) || o.maxTimeMs <= 0) return `scheduler.maxTimeMs must be a finite number > 0, got ${o.maxTimeMs}`;
  return undefined;
}

/** A run hit one of its hard bounds: the system did not finish (liveness), or the bound is too low. */
export class BoundExceeded extends Error {
  override readonly name = "BoundExceeded";
  constructor(
    readonly bound: "maxEvents" | "maxTimeMs",
    readonly limit: number,
    readonly timeMs: number,
    readonly events: number,
  ) {
    super(`simulation exceeded ${bound} (${limit}) at ${timeMs} ms after ${events} events`);
  }
}

/** A scheduled callback. Opaque to callers except for its due time; pass it to `cancel`. */
export interface Timer {
  readonly time: number;
}

class Event implements Timer {
  constructor(
    readonly time: number,
    readonly seq: number,
    readonly fn: () => void,
    readonly owner: SimNode | null,
    readonly incarnation: number,
  ) {}
  cancelled = false;
}

export class SimNode {
  alive = true;
  /** Increases at every crash; timers scheduled in an older incarnation never fire. */
  incarnation = 0;
  private readonly crashHooks: Array<() => void> = [];
  private readonly restartHooks: Array<() => void> = [];

  constructor(readonly id: NodeId) {}

  /** Called when this node crashes (after its timers are dropped). */
  onCrash(hook: () => void): void {
    this.crashHooks.push(hook);
  }
  /** Called when this node restarts: rebuild the process here. */
  onRestart(hook: () => void): void {
    this.restartHooks.push(hook);
  }

  /** @internal used by Scheduler */
  _crash(): void {
    this.alive = false;
    this.incarnation++;
    for (const h of this.crashHooks) h();
  }
  /** @internal used by Scheduler */
  _restart(): void {
    this.alive = true;
    for (const h of this.restartHooks) h();
  }
}

export type RunOutcome = {
  /** Why the run stopped: nothing left to do, the time limit of this call, or the predicate held. */
  readonly reason: "quiescent" | "time" | "predicate";
  readonly timeMs: number;
  readonly events: number;
};

/** Bound on nested `tail` calls run inline (deeper ones are scheduled), so the stack stays shallow. */
const MAX_INLINE_DEPTH = 16;

export class Scheduler {
  private nowMs = 0;
  private seq = 0;
  private processed = 0;
  /** Events scheduled for a later time than the clock read when they were scheduled. */
  private heap: Event[] = [];
  /**
   * Events scheduled for the current time (about half of all), in scheduling order: a FIFO is
   * cheaper than the heap. They come after the heap's events due now (scheduled earlier, so with
   * smaller sequence numbers) and the clock only moves on once they have all run.
   */
  private nowQueue: Array<Event | undefined> = [];
  private nowHead = 0;
  /** Events in the FIFO: slots [nowHead, nowLength) of `nowQueue` (the array keeps its capacity between instants). */
  private nowLength = 0;
  /** Inside `run`: its predicate, if any (`tail` checks it where `run` would). */
  private running = false;
  private runPred: (() => boolean) | undefined;
  private inlineDepth = 0;
  private readonly nodes = new Map<NodeId, SimNode>();
  private readonly nodeOrder: SimNode[] = [];
  readonly options: SchedulerOptions;

  constructor(options: Partial<SchedulerOptions> = {}) {
    this.options = { ...defaultSchedulerOptions, ...options };
    const err = validateSchedulerOptions(this.options);
    assert(err === undefined, err ?? "");
  }

  /** Current simulated time in milliseconds. */
  get now(): number {
    return this.nowMs;
  }
  /** Events processed so far. */
  get eventCount(): number {
    return this.processed;
  }
  /** Events waiting (cancelled ones included until they come due). */
  get pendingCount(): number {
    return this.heap.length + this.nowLength - this.nowHead;
  }

  // ---- nodes ------------------------------------------------------------------------------

  addNode(id: NodeId | string): SimNode {
    const nid = id as NodeId;
    assert(!this.nodes.has(nid), `node ${nid} already exists`);
    const n = new SimNode(nid);
    this.nodes.set(nid, n);
    this.nodeOrder.push(n);
    return n;
  }
  node(id: NodeId | string): SimNode {
    const n = this.nodes.get(id as NodeId);
    assert(n !== undefined, `unknown node ${id}`);
    return n;
  }
  hasNode(id: NodeId | string): boolean {
    return this.nodes.has(id as NodeId);
  }
  /** Nodes in creation order. */
  allNodes(): readonly SimNode[] {
    return this.nodeOrder;
  }
  /** Crash a node: its timers are dropped and its crash hooks run. Crashing a dead node is a no-op. */
  crash(id: NodeId | string): void {
    const n = this.node(id);
    if (n.alive) n._crash();
  }
  /** Restart a crashed node: its restart hooks run. Restarting a live node is a no-op. */
  restart(id: NodeId | string): void {
    const n = this.node(id);
    if (!n.alive) n._restart();
  }

  // ---- timers -----------------------------------------------------------------------------

  /** Run `fn` after `delayMs` (>= 0). If `owner` is given, the timer dies with the owner's incarnation. */
  schedule(delayMs: number, fn: () => void, owner: SimNode | null = null): Timer {
    // Guarded so the message (number formatting) is only built on failure: this is the hot path.
    if (!(delayMs >= 0)) assert(false, `delay must be >= 0, got ${delayMs}`);
    return this.push(this.nowMs + delayMs, fn, owner);
  }

  /** Run `fn` at absolute time `timeMs` (>= now). */
  at(timeMs: number, fn: () => void, owner: SimNode | null = null): Timer {
    if (!(timeMs >= this.nowMs)) assert(false, `cannot schedule in the past: ${timeMs} < ${this.nowMs}`);
    return this.push(timeMs, fn, owner);
  }

  /**
   * Same as `schedule(0, fn, owner)`, for the LAST action of an event's callback (nothing may run
   * after it in that callback). When no other live event is due now, the new event would be the
   * next to run anyway, so it runs at once, inline, counted as an event; otherwise it is queued.
   * The order of events, their count, the clock and the bounds are exactly those of `schedule(0)`:
   * this only saves the queue round trip on hot paths (a task waking its own mailbox).
   */
  tail(fn: () => void, owner: SimNode | null = null): void {
    if (owner !== null && !owner.alive) return; // a dead process schedules nothing
    if (
      !this.running ||
      this.inlineDepth >= MAX_INLINE_DEPTH ||
      this.processed >= this.options.maxEvents ||
      (this.runPred !== undefined && this.runPred())
    ) {
      this.push(this.nowMs, fn, owner);
      return;
    }
    const next = this.peekLive();
    if (next !== undefined && next.time <= this.nowMs) {
      this.push(this.nowMs, fn, owner);
      return;
    }
    this.processed++;
    this.inlineDepth++;
    try {
      fn();
    } finally {
      this.inlineDepth--;
    }
  }

  cancel(timer: Timer | undefined | null): void {
    if (timer) (timer as Event).cancelled = true;
  }

  private push(time: number, fn: () => void, owner: SimNode | null): Event {
    if (!Number.isFinite(time)) assert(false, `event time must be finite, got ${time}`);
    if (owner !== null && !owner.alive) {
      // A dead process schedules nothing: return an already-cancelled timer.
      const dead = new Event(time, this.seq++, fn, owner, owner.incarnation);
      dead.cancelled = true;
      return dead;
    }
    const e = new Event(time, this.seq++, fn, owner, owner === null ? 0 : owner.incarnation);
    if (time === this.nowMs) {
      const q = this.nowQueue;
      if (this.nowLength < q.length) q[this.nowLength] = e;
      else q.push(e);
      this.nowLength++;
      return e;
    }
    const h = this.heap;
    let i = h.length;
    h.push(e);
    // sift up
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pe = h[p] as Event;
      if (pe.time < time || (pe.time === time && pe.seq < e.seq)) break;
      h[i] = pe;
      i = p;
    }
    h[i] = e;
    return e;
  }

  private pop(): Event {
    const h = this.heap;
    const top = h[0] as Event;
    const last = h.pop() as Event;
    const n = h.length;
    if (n > 0) {
      let i = 0;
      // Bounded by the heap's depth: l at least doubles each round.
      for (let l = 1; l < n; l = 2 * i + 1) {
        const r = l + 1;
        let c = l;
        let ce = h[l] as Event;
        if (r < n) {
          const re = h[r] as Event;
          if (re.time < ce.time || (re.time === ce.time && re.seq < ce.seq)) {
            c = r;
            ce = re;
          }
        }
        if (last.time < ce.time || (last.time === ce.time && last.seq < ce.seq)) break;
        h[i] = ce;
        i = c;
      }
      h[i] = last;
    }
    return top;
  }

  /** Time of the next live event, or undefined when the queue is empty. */
  peekTime(): number | undefined {
    return this.peekLive()?.time;
  }

  /**
   * The next live event, left in place (`take` removes it), or undefined when none is left.
   * Dead events (cancelled, or of an older incarnation) met on the way are dropped.
   */
  private peekLive(): Event | undefined {
    const h = this.heap;
    // Bounded by the heap's size: each round pops one event or leaves.
    while (h.length > 0) {
      const e = h[0] as Event;
      if (e.cancelled || (e.owner !== null && e.owner.incarnation !== e.incarnation)) {
        this.pop();
        continue;
      }
      if (e.time <= this.nowMs) return e; // scheduled before anything in the FIFO
      break;
    }
    const q = this.nowQueue;
    // Bounded by the FIFO's length: each round moves the head or leaves.
    while (this.nowHead < this.nowLength) {
      const e = q[this.nowHead] as Event;
      if (!e.cancelled && (e.owner === null || e.owner.incarnation === e.incarnation)) return e;
      q[this.nowHead++] = undefined;
    }
    this.nowHead = 0;
    this.nowLength = 0;
    return h.length > 0 ? (h[0] as Event) : undefined;
  }

  /** Remove `e`, the event `peekLive` returned. */
  private take(e: Event): void {
    if (this.heap[0] === e) this.pop();
    else this.nowQueue[this.nowHead++] = undefined;
  }

  /**
   * Process events until the queue is empty, `untilTimeMs` is reached (events due at exactly that
   * time run; the clock then stands at `untilTimeMs`), or `until()` holds after an event.
   * Throws `BoundExceeded` if a hard bound is crossed.
   */
  run(opts: { untilTimeMs?: number; until?: () => boolean } = {}): RunOutcome {
    const wasRunning = this.running;
    const outerPred = this.runPred;
    this.running = true;
    this.runPred = opts.until;
    try {
      return this.runLoop(opts);
    } finally {
      this.running = wasRunning;
      this.runPred = outerPred;
    }
  }

  private runLoop(opts: { untilTimeMs?: number; until?: () => boolean }): RunOutcome {
    const limitTime = opts.untilTimeMs ?? Infinity;
    const pred = opts.until;
    const { maxEvents, maxTimeMs } = this.options;
    if (pred !== undefined && pred()) return { reason: "predicate", timeMs: this.nowMs, events: this.processed };
    // Bounded by maxEvents (checked below) and the queue running dry.
    for (;;) {
      const e = this.peekLive();
      if (e === undefined || e.time > limitTime) break;
      if (e.time > maxTimeMs) throw new BoundExceeded("maxTimeMs", maxTimeMs, this.nowMs, this.processed);
      if (this.processed >= maxEvents) throw new BoundExceeded("maxEvents", maxEvents, this.nowMs, this.processed);
      this.take(e);
      this.nowMs = e.time;
      this.processed++;
      e.fn();
      if (pred !== undefined && pred()) return { reason: "predicate", timeMs: this.nowMs, events: this.processed };
    }
    if (limitTime !== Infinity && this.pendingCount > 0) {
      if (limitTime > this.nowMs) this.nowMs = Math.min(limitTime, maxTimeMs);
      return { reason: "time", timeMs: this.nowMs, events: this.processed };
    }
    if (limitTime !== Infinity && limitTime > this.nowMs && limitTime <= maxTimeMs) this.nowMs = limitTime;
    return { reason: "quiescent", timeMs: this.nowMs, events: this.processed };
  }

  /** Process exactly one live event; false when there is none. */
  step(): boolean {
    const e = this.peekLive();
    if (e === undefined) return false;
    if (e.time > this.options.maxTimeMs) throw new BoundExceeded("maxTimeMs", this.options.maxTimeMs, this.nowMs, this.processed);
    if (this.processed >= this.options.maxEvents) throw new BoundExceeded("maxEvents", this.options.maxEvents, this.nowMs, this.processed);
    this.take(e);
    this.nowMs = e.time;
    this.processed++;
    e.fn();
    return true;
  }
}
