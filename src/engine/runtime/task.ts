/**
 * A subtask: a single-threaded mailbox around one operator.
 *
 * The mailbox runs one step at a time: a mailbox action (timer, checkpoint trigger, notification)
 * or one input buffer's worth of elements. A step's records cost simulated time; the task is busy
 * until the step's end, and only then are its outputs handed to the channels. Output channels use
 * credits, so a slow consumer backpressures its producers, and aligned barriers wait behind the
 * data before them, as in Flink.
 *
 * Barriers: with EXACTLY_ONCE and several input channels a barrier blocks its channel until the
 * barrier has come on every channel (alignment); with AT_LEAST_ONCE it is only counted. A newer
 * barrier during an alignment subsumes the older checkpoint; an older barrier is ignored; a second
 * barrier with the same id on one channel is a corrupt stream.
 */
import type { Simulation } from "../../sim/simulation.ts";
import type { SimNode, Timer } from "../../sim/scheduler.ts";
import type { JsonValue } from "../../sim/trace.ts";
import type { CheckpointingMode } from "../config.ts";
import { MAX_WATERMARK, MIN_WATERMARK, type Value } from "../plan/functions.ts";
import type { PlanNode } from "../plan/plan.ts";
import { InputChannel, OutputChannel, type BacklogCount, type ChannelMessage } from "./channels.ts";
import {
  BARRIER,
  CANCEL,
  END,
  REC,
  WM,
  isMarker,
  subtaskForKey,
  subtaskName,
  type Element,
  type OutputSpec,
  type RecordEl,
  type SubtaskRef,
} from "./graph.ts";
import type { Operator, Output } from "./operator.ts";
import type { KeySelector } from "../plan/functions.ts";

export type TaskCallbacks = {
  /** The task failed: the TaskManager reports it to the JobManager. */
  failed(reason: string): void;
  /** Snapshot written: acknowledge to the coordinator. */
  acknowledge(id: number, stateName: string, bytes: number, alignmentMs: number): void;
  decline(id: number, reason: string): void;
  /** Every input has ended and the operator has finished its data. */
  endOfData(): void;
  /** Data ended and the last checkpoint after it completed: the task is done. */
  finished(): void;
  /** Write this task's state for checkpoint `id` to checkpoint storage. */
  writeState(id: number, name: string, data: string, done: (error?: string) => void): void;
};

export type TaskOptions = {
  readonly sim: Simulation;
  readonly tm: SimNode;
  readonly ref: SubtaskRef;
  readonly node: PlanNode;
  readonly execId: string;
  readonly mode: CheckpointingMode;
  /** Unaligned checkpoints (EXACTLY_ONCE only): barriers overtake data, in-flight data is snapshotted. */
  readonly unaligned: boolean;
  readonly costMsPerRecord: number;
  readonly bufferRecords: number;
  /**
   * Flink's buffer timeout: a partly filled output buffer is sent at most this long after the end
   * of the step that wrote into it (0: at the end of every step). Full buffers go at once; barriers
   * and the end of data flush every buffer.
   */
  readonly bufferTimeoutMs: number;
  readonly channelCredits: number;
  readonly outputs: readonly OutputSpec[];
  /** Key selectors of hash output edges, by output index. */
  readonly outputKeys: ReadonlyArray<KeySelector | undefined>;
  /** Number of input channels (0 for sources). */
  readonly inputCount: number;
  readonly checkpointing: boolean;
  /** Current per-vertex slowdown factor (fault injection). */
  readonly slowFactor: () => number;
  readonly callbacks: TaskCallbacks;
};

type Alignment = { id: number; seen: Set<number>; startMs: number };

/** Checkpoints an AT_LEAST_ONCE task counts barriers of at once (Flink's CheckpointBarrierTracker keeps 50). */
const MAX_TRACKED_CHECKPOINTS = 50;

/** An unaligned checkpoint being collected: operator state taken, in-flight input still arriving. */
type Unaligned = {
  id: number;
  startMs: number;
  op: JsonValue | (() => JsonValue);
  /** Per input channel: the data before its barrier that the snapshot did not include. */
  input: Element[][];
  /** Channels whose barrier has not arrived yet. */
  waiting: Set<number>;
  output: Element[][][];
};

/** What a task writes to checkpoint storage: its operator's state and, for unaligned checkpoints, channel state. */
export type TaskSnapshot = { op: JsonValue; in?: Element[][]; out?: Element[][][] };

export type TaskState = "DEPLOYING" | "RUNNING" | "FINISHED_DATA" | "FAILED" | "CANCELED";

export class Task implements Output {
  state: TaskState = "DEPLOYING";
  /** FAILED or CANCELED (the states in which the task is not alive). */
  private stopped = false;
  operator!: Operator;
  readonly inputs: InputChannel[] = [];
  /** Output channels grouped by output edge. */
  readonly outputChannels: OutputChannel[][] = [];
  private readonly rebalanceNext: number[] = [];
  /** Output channels with buffers waiting for credit (kept by the channels). */
  private readonly backlogged: BacklogCount = { n: 0 };
  private readonly mailbox: Array<() => void> = [];
  private busy = false;
  private scheduled = false;
  private opened = false;
  private rr = 0;
  private alignment: Alignment | undefined;
  /** AT_LEAST_ONCE with several inputs: the checkpoints whose barriers are being counted, oldest first. */
  private readonly tracked: Alignment[] = [];
  private unalignedCp: Unaligned | undefined;
  /** Unaligned barriers that arrived before the operator was open, in arrival order. */
  /** Priority barriers that arrived while the operator was opening, with how many buffers were queued ahead of each. */
  private heldBarriers: Array<{ ch: InputChannel; id: number; queued: number }> = [];
  /** Highest checkpoint id this task has snapshotted or abandoned; older barriers are ignored. */
  private lastBarrierId = 0;
  private stepRecords = 0;
  /**
   * Most records a step takes: a channel's credits' worth of full buffers. Without it a source's
   * whole fetch (256 records, say) went into one step, and a checkpoint barrier waited behind all
   * of it at the source although Flink's source emits only while its output has buffers free.
   */
  private readonly stepCap: number;
  /**
   * The record element being processed: an operator that emits it unchanged (a source, a filter)
   * sends this same (immutable) element on instead of a copy.
   */
  private currentRecord: RecordEl | undefined;
  private inputWatermark = MIN_WATERMARK;
  private endedInputs = 0;
  private endSent = false;
  /** Barrier id at the moment data ended; a completed checkpoint above it lets the task finish. */
  private endBarrierMark = -1;
  private notifiedUpTo = 0;
  finished = false;
  private readonly name: string;
  /** The output flusher's pending run (buffer timeout > 0), if any. */
  private flushTimer: Timer | undefined;
  /** Every output buffer goes out at the end of this step (the end of data was written, or the flusher came due mid-step). */
  private flushAtStepEnd = false;

  constructor(readonly opts: TaskOptions) {
    this.wakeEvent = Task.wakeEventOf(this);
    this.stepEndEvent = Task.stepEndEventOf(this);
    this.flushEvent = Task.flushEventOf(this);
    this.name = subtaskName(opts.ref);
    this.stepCap = opts.bufferRecords * Math.max(1, opts.channelCredits);
    for (let i = 0; i < opts.inputCount; i++) this.inputs.push(new InputChannel(i, `${this.name}/in${i}`));
    opts.outputs.forEach((o, oi) => {
      this.outputChannels.push(o.targets.map((t) => new OutputChannel(`${this.name}->${subtaskName(t)}`, this.backlogged)));
      this.rebalanceNext.push(opts.ref.subtask % Math.max(1, o.targets.length));
      void oi;
    });
  }

  /** Asked after every element: a flag rather than three state comparisons. */
  get alive(): boolean {
    return !this.stopped && this.opts.tm.alive;
  }

  // ---- lifecycle --------------------------------------------------------------------------

  /** Restore and open the operator; processing starts once `start()` has also been called. */
  init(operator: Operator, restored: JsonValue | null): void {
    this.operator = operator;
    try {
      if (restored !== null) {
        const snap = restored as unknown as TaskSnapshot;
        operator.restore(snap.op);
        // Unaligned checkpoints: in-flight data is replayed before anything new on its channel.
        snap.in?.forEach((els, c) => {
          const ch = this.inputs[c];
          if (ch === undefined || els.length === 0) return;
          const buf = els.slice();
          ch.restored.add(buf);
          ch.buffers.unshift(buf);
        });
        snap.out?.forEach((chans, o) =>
          chans.forEach((els, c) => {
            const ch = this.outputChannels[o]?.[c];
            if (ch !== undefined && els.length > 0) ch.requeue(els.slice());
          }),
        );
      }
    } catch (e) {
      return this.fail(`restore failed: ${(e as Error).message}`);
    }
    operator.open((err) => {
      if (!this.alive) return;
      if (err !== undefined) return this.fail(err);
      this.opened = true;
      const held = this.heldBarriers;
      this.heldBarriers = [];
      for (const b of held) if (this.alive) this.onUnalignedBarrier(b.ch, b.id, b.queued);
      this.wake();
    });
  }

  /** Deployment of the whole job is done: channels are connected, processing may begin. */
  start(): void {
    if (!this.alive) return;
    this.state = "RUNNING";
    for (const chans of this.outputChannels) for (const c of chans) c.pump();
    this.wake();
  }

  fail(reason: string): void {
    if (!this.alive) return;
    this.state = "FAILED";
    this.stopped = true;
    this.closeAll();
    this.opts.callbacks.failed(reason);
  }

  cancel(): void {
    if (this.state === "CANCELED" || this.state === "FAILED") return;
    this.state = "CANCELED";
    this.stopped = true;
    this.closeAll();
  }

  private closeAll(): void {
    for (const chans of this.outputChannels) for (const c of chans) c.conn?.close();
    for (const i of this.inputs) i.conn?.close();
    try {
      this.operator?.close?.();
    } catch {
      // closing after a failure must not throw further
    }
  }

  // ---- channel plumbing (called by the TaskManager when connections are made) ---------------

  /** A message from a producer arrived on input channel `i` (a network delivery: the last action of its event). */
  onInputMessage(i: number, msg: ChannelMessage): void {
    if (this.receive(i, msg)) this.wakeTail();
  }

  /** Takes in a message; true when the mailbox has new input to process. */
  private receive(i: number, msg: ChannelMessage): boolean {
    if (!this.alive) return false;
    if ("ub" in msg) {
      // A priority barrier overtakes queued data, but never an operator that is still opening.
      if (!this.opened) this.heldBarriers.push({ ch: this.inputs[i] as InputChannel, id: msg.ub, queued: (this.inputs[i] as InputChannel).buffers.length });
      else this.onUnalignedBarrier(this.inputs[i] as InputChannel, msg.ub);
      return false;
    }
    if (!("b" in msg)) return false;
    (this.inputs[i] as InputChannel).buffers.push(msg.b);
    // Data arriving before this channel's barrier of a pending unaligned checkpoint belongs to it.
    const u = this.unalignedCp;
    if (u !== undefined && u.waiting.has(i)) for (const e of msg.b) if (!isMarker(e)) (u.input[i] as Element[]).push(e);
    return true;
  }

  /** A credit arrived from the consumer of output channel (o, c) (a network delivery: the last action of its event). */
  onCredit(o: number, c: number, msg: ChannelMessage): void {
    if (!this.alive || !("credit" in msg)) return;
    const ch = (this.outputChannels[o] as OutputChannel[])[c] as OutputChannel;
    ch.credits += msg.credit;
    ch.pump();
    this.wakeTail();
  }

  // ---- mailbox ----------------------------------------------------------------------------

  /** Run `action` in the task's thread, between steps. */
  enqueue(action: () => void): void {
    if (!this.alive) return;
    this.mailbox.push(action);
    this.wake();
  }

  /** Run the mailbox loop in a new event now (after the events already due now). */
  private wake(): void {
    if (this.scheduled || this.busy || !this.alive) return;
    this.scheduled = true;
    this.opts.sim.scheduler.schedule(0, this.wakeEvent, this.opts.tm);
  }

  /** `wake`, as the last action of the current event (see Scheduler.tail). */
  private wakeTail(): void {
    if (this.scheduled || this.busy || !this.alive) return;
    this.scheduled = true;
    this.opts.sim.scheduler.tail(this.wakeEvent, this.opts.tm);
  }

  // The three events are made by static functions, not `this.x = () => ...` (see
  // `oldGenerationShapes` in eslint.config.js).
  private static wakeEventOf(t: Task): () => void {
    return () => {
      t.scheduled = false;
      t.loop();
    };
  }
  private static stepEndEventOf(t: Task): () => void {
    return () => {
      t.busy = false;
      if (!t.alive) return;
      t.stepOutputs();
      t.wakeTail();
    };
  }
  private static flushEventOf(t: Task): () => void {
    return () => {
      t.flushTimer = undefined;
      if (!t.alive) return;
      // A step in progress has not produced its output yet: it goes out when the step ends.
      if (t.busy) t.flushAtStepEnd = true;
      else t.flushOutputs();
    };
  }

  /** The mailbox loop as an event (made once, in the constructor). */
  private readonly wakeEvent: () => void;
  /** The end of a step as an event: the task is free again, its outputs go to the channels. */
  private readonly stepEndEvent: () => void;
  /** The output flusher as an event (made once, in the constructor). */
  private readonly flushEvent: () => void;

  /** Feed elements into input channel 0 (a source's fetched records). */
  feed(elements: Element[]): void {
    if (this.receive(0, { b: elements })) this.wake();
  }

  now(): number {
    return this.opts.sim.now;
  }

  /** Run `fn` in the task's thread at `timeMs` (or now, if that has passed), unless the task died. */
  wakeAt(timeMs: number, fn: () => void): void {
    this.opts.sim.scheduler.at(
      Math.max(timeMs, this.opts.sim.now),
      () => {
        if (!this.alive) return;
        this.mailbox.push(fn);
        this.wakeTail();
      },
      this.opts.tm,
    );
  }

  hasPendingInput(): boolean {
    for (const c of this.inputs) if (c.hasData()) return true;
    return false;
  }

  backpressured(): boolean {
    return this.backlogged.n > 0;
  }

  private loop(): void {
    if (!this.alive || this.busy || this.state === "DEPLOYING" || !this.opened) return;
    this.stepRecords = 0;
    let did = false;
    if (this.mailbox.length > 0) {
      (this.mailbox.shift() as () => void)();
      did = true;
    } else if (!this.backpressured()) {
      did = this.processOneBuffer();
    }
    if (!this.alive) return;
    if (!did) {
      // Woken (e.g. by returning credit) with nothing queued: a source must fetch again now, or it
      // would wait for the next checkpoint trigger to run a step.
      if (!this.backpressured()) this.operator.idle?.();
      return;
    }
    this.operator.afterStep?.();
    const cost = this.stepRecords * this.opts.costMsPerRecord * this.opts.slowFactor();
    this.busy = true;
    this.opts.sim.scheduler.schedule(cost, this.stepEndEvent, this.opts.tm);
  }

  /** Process elements of one input buffer (round robin over unblocked channels). */
  private processOneBuffer(): boolean {
    const n = this.inputs.length;
    for (let k = 0; k < n; k++) {
      const idx = (this.rr + k) % n;
      const ch = this.inputs[idx] as InputChannel;
      if (ch.blocked || !ch.hasData()) continue;
      this.rr = (idx + 1) % n;
      this.consume(ch);
      return true;
    }
    return false;
  }

  private consume(ch: InputChannel): void {
    const buf = ch.buffers[0] as Element[];
    const cap = this.stepCap;
    while (ch.pos < buf.length) {
      const el = buf[ch.pos] as Element;
      // A step takes at most what its output can take without waiting for credit (see stepCap);
      // the rest of a larger input buffer (a source's fetch, restored channel state) waits for
      // the next step, which runs after the mailbox (a checkpoint trigger goes in between) and
      // only once the output has room, as Flink checks its output's availability between records.
      if (el.k === REC && this.stepRecords >= cap) break;
      ch.pos++;
      switch (el.k) {
        case REC:
          this.stepRecords++;
          this.currentRecord = el;
          this.operator.processRecord(el.v, el.ts);
          break;
        case WM:
          if (el.wm > ch.watermark) {
            ch.watermark = el.wm;
            this.advanceWatermark();
          }
          break;
        case BARRIER:
          this.onBarrier(ch, el.id);
          break;
        case END:
          this.onEnd(ch);
          break;
        case CANCEL:
          this.onCancel(el.id);
          break;
      }
      if (!this.alive) return;
      if (ch.blocked) break;
    }
    if (ch.pos >= buf.length) {
      ch.buffers.shift();
      ch.pos = 0;
      if (!ch.restored.delete(buf)) ch.returnCredit();
    }
  }

  // ---- watermarks and end of input ----------------------------------------------------------

  private advanceWatermark(): void {
    let min = MAX_WATERMARK;
    for (const c of this.inputs) min = Math.min(min, c.ended ? MAX_WATERMARK : c.watermark);
    if (min > this.inputWatermark) {
      this.inputWatermark = min;
      this.operator.processWatermark(min);
      this.emitWatermark(min);
    }
  }

  private onEnd(ch: InputChannel): void {
    if (ch.ended) return;
    ch.ended = true;
    this.endedInputs++;
    this.advanceWatermark();
    if (this.endedInputs === this.inputs.length) this.finishData();
  }

  /** All input has ended: let the operator finish, tell downstream, tell the JobManager. */
  finishData(): void {
    if (this.endSent) return;
    this.endSent = true;
    this.operator.endOfInput();
    this.broadcastElement({ k: END });
    this.flushAtStepEnd = true;
    this.state = "FINISHED_DATA";
    this.endBarrierMark = this.lastBarrierId;
    this.opts.callbacks.endOfData();
    this.maybeFinish();
  }

  /**
   * A task whose data has ended finishes once a checkpoint taken after the end has completed (so
   * the sink's last transaction is committed), or at once without checkpointing.
   */
  maybeFinish(): void {
    if (this.finished || this.state !== "FINISHED_DATA") return;
    const checkpointed = !this.opts.checkpointing || (this.notifiedUpTo > this.endBarrierMark && this.lastBarrierId > this.endBarrierMark);
    if (!checkpointed) return;
    if (this.operator.isFinished !== undefined && !this.operator.isFinished()) return;
    this.finished = true;
    this.opts.callbacks.finished();
  }

  // ---- barriers -----------------------------------------------------------------------------

  private onBarrier(ch: InputChannel, id: number): void {
    if (id <= this.lastBarrierId) return; // older barrier (of an abandoned or done checkpoint): ignored
    const n = this.inputs.length;
    if (this.opts.mode === "AT_LEAST_ONCE" && n > 1) return this.trackBarrier(ch, id, n);
    let a = this.alignment;
    // An older barrier than the one being aligned belongs to a checkpoint this task has given up
    // (its barrier was overtaken on another channel): ignored, as Flink's SingleCheckpointBarrierHandler does.
    if (a !== undefined && id < a.id) return;
    if (a !== undefined && id > a.id) {
      // A newer barrier subsumes the checkpoint being aligned.
      this.abandonAlignment(a, "subsumed by a newer barrier");
      a = undefined;
    }
    if (a === undefined) {
      a = { id, seen: new Set(), startMs: this.opts.sim.now };
      this.alignment = a;
      if (n > 1) this.opts.sim.trace.emit(this.opts.tm.id, "alignment-started", { task: this.name, id });
    }
    if (a.seen.has(ch.index)) return this.fail(`corrupt stream: barrier ${id} twice on channel ${ch.name}`);
    a.seen.add(ch.index);
    if (this.opts.mode === "EXACTLY_ONCE" && n > 1) ch.blocked = true;
    if (a.seen.size === n) {
      const alignmentMs = this.opts.sim.now - a.startMs;
      if (n > 1) this.opts.sim.trace.emit(this.opts.tm.id, "alignment-completed", { task: this.name, id, durationMs: alignmentMs });
      this.endAlignment();
      this.performCheckpoint(id, alignmentMs);
    }
  }

  /**
   * AT_LEAST_ONCE on several inputs, as Flink's CheckpointBarrierTracker: nothing is blocked, and
   * several checkpoints are tracked at once (a newer barrier does not abandon an older checkpoint);
   * when every channel has delivered barrier n, the task snapshots n and stops tracking the older
   * ones (subsumed). A barrier older than the newest tracked one that is not tracked itself cannot
   * complete here and is ignored.
   */
  private trackBarrier(ch: InputChannel, id: number, n: number): void {
    const tracked = this.tracked;
    let pos = -1;
    for (let i = 0; i < tracked.length; i++) if ((tracked[i] as Alignment).id === id) pos = i;
    let a: Alignment;
    if (pos >= 0) a = tracked[pos] as Alignment;
    else {
      const newest = tracked[tracked.length - 1];
      if (newest !== undefined && id < newest.id) return;
      a = { id, seen: new Set(), startMs: this.opts.sim.now };
      tracked.push(a);
      pos = tracked.length - 1;
      if (tracked.length > MAX_TRACKED_CHECKPOINTS) {
        tracked.shift();
        pos--;
      }
      this.opts.sim.trace.emit(this.opts.tm.id, "alignment-started", { task: this.name, id });
    }
    if (a.seen.has(ch.index)) return this.fail(`corrupt stream: barrier ${id} twice on channel ${ch.name}`);
    a.seen.add(ch.index);
    if (a.seen.size < n) return;
    tracked.splice(0, pos + 1);
    const alignmentMs = this.opts.sim.now - a.startMs;
    this.opts.sim.trace.emit(this.opts.tm.id, "alignment-completed", { task: this.name, id, durationMs: alignmentMs });
    this.performCheckpoint(id, alignmentMs);
  }

  /** No checkpoint is being aligned any more: every input flows again. */
  private endAlignment(): void {
    this.alignment = undefined;
    for (const c of this.inputs) c.blocked = false;
  }

  private abandonAlignment(a: Alignment, reason: string): void {
    this.endAlignment();
    this.lastBarrierId = Math.max(this.lastBarrierId, a.id);
    this.opts.callbacks.decline(a.id, reason);
    this.broadcastCancel(a.id);
  }

  /**
   * A cancellation marker on an input (Flink's CancelCheckpointMarker): an upstream task gave up
   * checkpoint `id`, so that channel will not bring its barrier. An alignment of `id` ends at once,
   * its channels unblocked (the checkpoint was declined where it was given up); an alignment of an
   * older checkpoint is subsumed; barriers of `id` that still come are ignored; and the marker goes
   * on downstream once. Without it a downstream task aligning `id` kept its other channels blocked
   * for good: their producers backpressured, and when one of them fed the task that gave `id` up,
   * the next checkpoint's barrier could not pass either (a deadlock; sweep seed 21, run 338804).
   */
  private onCancel(id: number): void {
    if (id <= this.lastBarrierId) return; // finished, given up or cancelled here already
    const a = this.alignment;
    if (a !== undefined && a.id > id) return; // aligning a newer checkpoint: barriers of id are ignored anyway
    if (a !== undefined && a.id < id) this.abandonAlignment(a, "subsumed by a newer cancellation");
    else if (a !== undefined) {
      this.endAlignment();
      this.opts.sim.trace.emit(this.opts.tm.id, "alignment-cancelled", { task: this.name, id });
    }
    this.lastBarrierId = id;
    this.broadcastCancel(id);
  }

  /** Tell every downstream task that checkpoint `id` was given up here (sent at once, like a barrier). */
  private broadcastCancel(id: number): void {
    this.broadcastElement({ k: CANCEL, id });
    this.flushOutputs();
  }

  /** Source tasks are triggered by the coordinator instead of barriers. */
  triggerCheckpoint(id: number): void {
    this.enqueue(() => {
      if (id <= this.lastBarrierId) return;
      if (this.opts.unaligned) this.startUnaligned(id, false);
      else this.performCheckpoint(id, 0);
    });
  }

  // ---- unaligned checkpoints ----------------------------------------------------------------

  /**
   * A priority barrier: handled on arrival, overtaking the data queued before it. A barrier held
   * while the operator was opening (`queued` given) overtakes only the `queued` buffers that were
   * ahead of it when it arrived: data that arrived after it belongs to the next checkpoint.
   */
  private onUnalignedBarrier(ch: InputChannel, id: number, queued?: number): void {
    if (id <= this.lastBarrierId && this.unalignedCp?.id !== id) return; // older: ignored
    let u = this.unalignedCp;
    if (u !== undefined && id > u.id) {
      this.unalignedCp = undefined;
      this.opts.callbacks.decline(u.id, "subsumed by a newer barrier");
      u = undefined;
    }
    if (u === undefined) {
      u = this.startUnaligned(id, true);
      if (u === undefined) return;
    }
    if (queued !== undefined && u.waiting.has(ch.index)) {
      // Nothing is processed while an operator opens: the head buffer is untouched unless it was restored and partly read.
      const before: Element[] = [];
      ch.buffers.forEach((b, i) => {
        if (i < queued) for (let j = i === 0 ? ch.pos : 0; j < b.length; j++) if (!isMarker(b[j] as Element)) before.push(b[j] as Element);
      });
      u.input[ch.index] = before;
    }
    if (!u.waiting.delete(ch.index)) return this.fail(`corrupt stream: barrier ${id} twice on channel ${ch.name}`);
    if (u.waiting.size === 0) this.finishUnaligned(u);
  }

  /**
   * Snapshot the operator now, capture the output not yet sent, send the barrier ahead of it, and
   * start collecting the input that arrived before each channel's barrier.
   */
  private startUnaligned(id: number, hasInputs: boolean): Unaligned | undefined {
    this.lastBarrierId = id;
    const op = this.snapshotOperator(id);
    if (op === undefined) return undefined;
    const output = this.outputChannels.map((chans) => chans.map((c) => c.inflight().filter((e) => !isMarker(e))));
    for (const chans of this.outputChannels) for (const c of chans) c.sendPriority({ ub: id });
    const u: Unaligned = {
      id,
      startMs: this.opts.sim.now,
      op,
      output,
      input: this.inputs.map((c) => (hasInputs ? c.unprocessed().filter((e) => !isMarker(e)) : [])),
      waiting: new Set(hasInputs ? this.inputs.map((c) => c.index) : []),
    };
    if (!hasInputs) {
      this.finishUnaligned(u);
      return undefined;
    }
    this.unalignedCp = u;
    return u;
  }

  private finishUnaligned(u: Unaligned): void {
    if (this.unalignedCp === u) this.unalignedCp = undefined;
    const durationMs = this.opts.sim.now - u.startMs;
    this.persist(u.id, durationMs, () => ({
      op: typeof u.op === "function" ? u.op() : u.op,
      in: u.input,
      out: u.output,
    }));
  }

  /**
   * Snapshot synchronously, forward the barrier, then (asynchronously) flush external writes,
   * write the state and acknowledge.
   */
  private performCheckpoint(id: number, alignmentMs: number): void {
    this.lastBarrierId = id;
    const state = this.snapshotOperator(id);
    if (state === undefined) return;
    this.broadcastElement({ k: BARRIER, id });
    this.flushOutputs();
    this.persist(id, alignmentMs, () => ({ op: typeof state === "function" ? state() : state }));
  }

  /** The operator's snapshot, or undefined after declining the checkpoint because it threw. */
  private snapshotOperator(id: number): JsonValue | (() => JsonValue) | undefined {
    try {
      return this.operator.snapshot(id);
    } catch (e) {
      this.opts.callbacks.decline(id, `snapshot failed: ${(e as Error).message}`);
      return undefined;
    }
  }

  /** Flush external writes, then write the snapshot to checkpoint storage and acknowledge. */
  private persist(id: number, alignmentMs: number, snapshot: () => TaskSnapshot): void {
    if (this.operator.flush === undefined) this.writeSnapshot(id, alignmentMs, snapshot);
    else
      this.operator.flush(id, (err) => {
        if (!this.alive) return;
        if (err !== undefined) return this.fail(`flush for checkpoint ${id} failed: ${err}`);
        this.writeSnapshot(id, alignmentMs, snapshot);
      });
  }

  private writeSnapshot(id: number, alignmentMs: number, snapshot: () => TaskSnapshot): void {
    const stateName = `${this.opts.ref.vertex}-${this.opts.ref.subtask}`;
    const data = JSON.stringify(snapshot());
    this.opts.sim.trace.emit(this.opts.tm.id, "snapshot", { task: this.name, id, bytes: data.length });
    this.opts.callbacks.writeState(id, stateName, data, (err) => {
      if (!this.alive) return;
      if (err !== undefined) this.opts.callbacks.decline(id, `state write failed: ${err}`);
      else this.opts.callbacks.acknowledge(id, stateName, data.length, alignmentMs);
    });
  }

  /**
   * The coordinator aborted checkpoint `id` (Flink's notifyCheckpointAborted). With aligned
   * EXACTLY_ONCE checkpoints the task treats it as a cancellation marker: an alignment of it ends,
   * its barrier is ignored if it still comes, and downstream tasks hear of it. A task whose input
   * never brings the barrier (a source that missed the trigger, a path that gave the checkpoint up)
   * would otherwise leave downstream channels blocked until a newer barrier got through, and
   * backpressure can keep a newer barrier from getting through (sweep seed 21, run 247848).
   */
  notifyCheckpointAborted(id: number): void {
    if (this.opts.mode !== "EXACTLY_ONCE" || this.opts.unaligned) return;
    this.enqueue(() => this.onCancel(id));
  }

  notifyCheckpointComplete(id: number): void {
    this.enqueue(() => {
      this.notifiedUpTo = Math.max(this.notifiedUpTo, id);
      this.operator.notifyCheckpointComplete?.(id);
      this.maybeFinish();
    });
  }

  // ---- output -----------------------------------------------------------------------------

  emit(value: Value, ts: number): void {
    const outs = this.opts.outputs;
    // Elements are immutable: one with the same value and timestamp is shared (by every output).
    const cur = this.currentRecord;
    const same = cur !== undefined && cur.v === value && cur.ts === ts && (ts !== 0 || Object.is(cur.ts, ts));
    const el: RecordEl = same ? cur : { k: REC, v: value, ts };
    for (let o = 0; o < outs.length; o++) {
      const spec = outs[o] as OutputSpec;
      const chans = this.outputChannels[o] as OutputChannel[];
      switch (spec.edge.partition) {
        case "forward":
          this.append(chans[0] as OutputChannel, el);
          break;
        case "hash": {
          const key = (this.opts.outputKeys[o] as KeySelector)(value);
          this.append(chans[subtaskForKey(key, spec.consumerParallelism)] as OutputChannel, el);
          break;
        }
        case "rebalance": {
          const i = this.rebalanceNext[o] as number;
          this.rebalanceNext[o] = (i + 1) % chans.length;
          this.append(chans[i] as OutputChannel, el);
          break;
        }
        case "broadcast":
          for (const c of chans) this.append(c, el);
          break;
      }
    }
  }

  emitWatermark(wm: number): void {
    this.broadcastElement({ k: WM, wm });
  }

  private append(c: OutputChannel, el: Element): void {
    if (c.add(el) >= this.opts.bufferRecords) c.seal();
  }

  private broadcastElement(el: Element): void {
    for (const chans of this.outputChannels) for (const c of chans) c.add(el);
  }

  /**
   * The end of a step: with no buffer timeout (or a flush due), every non-empty buffer goes to its
   * channel; otherwise only full buffers are sent, and the flusher comes back for partly filled ones
   * after the buffer timeout (Flink's OutputFlusher).
   */
  private stepOutputs(): void {
    if (this.opts.bufferTimeoutMs === 0 || this.flushAtStepEnd) return this.flushOutputs();
    let partial = false;
    for (const chans of this.outputChannels)
      for (const c of chans) {
        c.pump();
        if (c.buffered > 0) partial = true;
      }
    if (partial && this.flushTimer === undefined) this.flushTimer = this.opts.sim.scheduler.schedule(this.opts.bufferTimeoutMs, this.flushEvent, this.opts.tm);
  }

  /** Hand every non-empty buffer to its channel and send what credits allow. */
  flushOutputs(): void {
    this.flushAtStepEnd = false;
    if (this.flushTimer !== undefined) {
      this.opts.sim.scheduler.cancel(this.flushTimer);
      this.flushTimer = undefined;
    }
    for (const chans of this.outputChannels)
      for (const c of chans) {
        c.seal();
        c.pump();
      }
  }
}
