/**
 * Sources and sinks: the operators that talk to the log broker.
 *
 * Source (as Flink's Kafka source): reads its partitions by offset, keeps the offsets of the
 * records it has emitted in its state, derives per-partition bounded-out-of-orderness watermarks,
 * and commits the checkpointed offsets to the broker when the checkpoint completes (monitoring
 * only; restore uses the offsets in the checkpoint).
 *
 * Two-phase-commit sink (TwoPhaseCommitSinkFunction + Kafka transactions): writes into the open
 * transaction; on the barrier pre-commits it (flushes) and remembers it as pending in the
 * snapshot, then begins the next; on notifyCheckpointComplete(n) commits every pending
 * transaction up to n in order; on restore commits the pending ones (idempotently) and fences and
 * aborts every transaction the previous attempt may have left open. Transactional ids are
 * `<vertex>-<subtask>-<k>` with k counting up, so "every id after the restored one" is a
 * contiguous range a zombie cannot hide in.
 *
 * Upsert sink: idempotent writes keyed by the upsert key; plain sink: non-transactional appends.
 * Both flush on the barrier, which makes them at-least-once.
 */
import { assert } from "../../sim/assert.ts";
import type { JsonValue } from "../../sim/trace.ts";
import type { KeySelector, Value } from "../plan/functions.ts";
import { MAX_WATERMARK, MIN_WATERMARK } from "../plan/functions.ts";
import type { SinkNode, SourceNode } from "../plan/plan.ts";
import { END, REC, type Element } from "./graph.ts";
import type { Operator, Output } from "./operator.ts";

/** What connectors need from the broker (callbacks; errors carry a code such as PRODUCER_FENCED or ECONNRESET). */
export interface BrokerPort {
  /** End offset of every partition of a topic (its length is the partition count). */
  endOffsets(topic: string, cb: (err: BrokerErr | null, ends?: readonly number[]) => void): void;
  /**
   * Up to `max` records from `offset` (read_uncommitted: none is skipped, so values[i] is the record
   * at offset + i), as parallel arrays of values and timestamps.
   */
  fetch(topic: string, partition: number, offset: number, max: number, cb: (err: BrokerErr | null, res?: FetchedValues) => void): void;
  append(topic: string, partition: number, records: Array<{ value: JsonValue; ts: number }>, cb: (err: BrokerErr | null) => void): void;
  upsert(topic: string, entries: Array<{ key: string; value: JsonValue }>, cb: (err: BrokerErr | null) => void): void;
  initTransactions(tid: string, cb: (err: BrokerErr | null, res?: { epoch: number; txnSeq: number }) => void): void;
  /** A transactional write of records as parallel arrays of values and timestamps, handed over (not changed afterwards). */
  write(
    tid: string,
    epoch: number,
    topic: string,
    partition: number,
    values: JsonValue[],
    timestamps: number[],
    cb: (err: BrokerErr | null) => void,
  ): void;
  commit(tid: string, epoch: number, txnSeq: number, checkpointId: number, cb: (err: BrokerErr | null) => void): void;
  commitOffsets(group: string, offsets: Array<{ topic: string; partition: number; offset: number }>, checkpointId: number, cb: (err: BrokerErr | null) => void): void;
  close(): void;
}
export type BrokerErr = { readonly code: string; readonly message: string };
/** Fetched records as parallel arrays (no object per record). */
export type FetchedValues = { readonly values: readonly JsonValue[]; readonly timestamps: readonly number[] };

const errText = (e: BrokerErr): string => `${e.code}: ${e.message}`;

/** The task side a source needs: feed fetched elements into its input, emit watermarks, know backpressure. */
export interface SourceHost extends Output {
  feed(elements: Element[]): void;
  emitWatermark(wm: number): void;
  backpressured(): boolean;
  /** Unprocessed fetched elements are waiting. */
  hasPendingInput(): boolean;
  fail(reason: string): void;
  /** Simulated time, and a callback at a later time (cancelled with the task). */
  now(): number;
  wakeAt(timeMs: number, fn: () => void): void;
}

/** A fetched batch of one partition, fed to the task: its `count` records, from `offset` on, are processed in this order. */
type Feed = { readonly p: number; readonly offset: number; readonly count: number; next: number };

export class SourceOperator implements Operator {
  private partitions: number[] = [];
  private readonly offsets = new Map<number, number>();
  private readonly ends = new Map<number, number>();
  /** Offsets already fetched (ahead of `offsets` while fetched records wait to be processed). */
  private readonly fetched = new Map<number, number>();
  /** The highest timestamp emitted per partition (kept only when the source derives watermarks). */
  private readonly maxTs = new Map<number, number>();
  private fetching = false;
  private endFed = false;
  private lastWatermark = MIN_WATERMARK;
  private rr = 0;
  private readonly snapshots = new Map<number, Array<{ topic: string; partition: number; offset: number }>>();
  /** Event-time pacing: the arrival time of the next unfetched record of a partition, once known. */
  private readonly notBefore = new Map<number, number>();
  /** Event-time pacing: the running maximum timestamp fetched per partition (arrival times never go back). */
  private readonly arrivalMax = new Map<number, number>();
  private wakeAtMs: number | undefined;
  /**
   * Batches fed to the task's input and not yet processed, oldest first. The input holds exactly
   * their records in this order, so `processRecord` learns each record's partition and offset here
   * instead of from a wrapper object per record.
   */
  private readonly feeds: Feed[] = [];

  constructor(
    private readonly node: SourceNode,
    private readonly subtask: number,
    private readonly broker: BrokerPort,
    private readonly host: SourceHost,
    private readonly fetchMax: number,
    private readonly pacing: "none" | "eventTime" = "none",
    /** Periodic watermark emission every this many ms; 0: after every step (see JobConfigData.autoWatermarkIntervalMs). */
    private readonly watermarkIntervalMs = 0,
  ) {}

  /** When the source opened: its periodic watermark timer ticks at multiples of the interval after it. */
  private openedAtMs = 0;
  /** A watermark tick is scheduled. */
  private watermarkTick = false;

  restore(state: JsonValue): void {
    for (const [p, off] of (state as { offsets: Array<[number, number]> }).offsets) this.offsets.set(p, off);
  }

  open(done: (e?: string) => void): void {
    this.openedAtMs = this.host.now();
    this.broker.endOffsets(this.node.topic, (err, ends) => {
      if (err || ends === undefined) return done(`source ${this.node.id}: ${err ? errText(err) : "no end offsets"}`);
      this.partitions = [];
      for (let p = this.subtask; p < ends.length; p += this.node.parallelism) {
        this.partitions.push(p);
        this.ends.set(p, ends[p] ?? 0);
        if (!this.offsets.has(p)) this.offsets.set(p, 0);
        this.fetched.set(p, this.offsets.get(p) ?? 0);
      }
      done();
      this.kick();
    });
  }

  /** Fetch more if there is room; feed end of data once everything is processed. */
  kick(): void {
    if (this.fetching || this.endFed) return;
    if (this.host.hasPendingInput()) return;
    // Counted in loops, not filtered into arrays: this runs after every step of the source.
    const now = this.host.now();
    let unread = 0;
    let open = 0;
    let next = Infinity;
    for (const p of this.partitions) {
      if ((this.fetched.get(p) ?? 0) >= (this.ends.get(p) ?? 0)) continue;
      unread++;
      const arrives = this.notBefore.get(p);
      if ((arrives ?? -Infinity) <= now) open++;
      next = Math.min(next, arrives ?? now);
    }
    if (unread > 0 && open === 0) {
      // Event-time pacing: nothing has arrived yet; come back when the earliest next record does.
      if (this.wakeAtMs === undefined || next < this.wakeAtMs) {
        this.wakeAtMs = next;
        this.host.wakeAt(next, () => {
          if (this.wakeAtMs === next) this.wakeAtMs = undefined;
          this.kick();
        });
      }
      return;
    }
    if (open === 0) {
      const allDone = this.partitions.every((p) => (this.offsets.get(p) ?? 0) >= (this.ends.get(p) ?? 0));
      if (allDone) {
        this.endFed = true;
        this.host.feed([{ k: END }]);
      }
      return;
    }
    if (this.host.backpressured()) return;
    const p = this.openPartition(this.rr % open, now);
    this.rr++;
    const from = this.fetched.get(p) ?? 0;
    const max = Math.min(this.fetchMax, (this.ends.get(p) ?? 0) - from);
    this.fetching = true;
    this.broker.fetch(this.node.topic, p, from, max, (err, res) => {
      this.fetching = false;
      if (err) return this.host.fail(`source ${this.node.id} fetch: ${errText(err)}`);
      const values = res?.values ?? [];
      const timestamps = res?.timestamps ?? [];
      let n = values.length;
      if (this.pacing === "eventTime") {
        // Keep the records that have arrived; the first one still to come sets when to look again.
        const t = this.host.now();
        let arrival = this.arrivalMax.get(p) ?? -Infinity;
        let arrived = 0;
        for (; arrived < n; arrived++) {
          const a = Math.max(arrival, timestamps[arrived] as number);
          if (a > t) {
            this.notBefore.set(p, a);
            break;
          }
          arrival = a;
        }
        if (arrived === n) this.notBefore.delete(p);
        this.arrivalMax.set(p, arrival);
        n = arrived;
      }
      if (n === 0) return this.kick();
      this.fetched.set(p, from + n);
      this.feeds.push({ p, offset: from, count: n, next: 0 });
      // Made at its final size, one element per record (the fetched arrays are not kept).
      const elements = new Array<Element>(n);
      for (let i = 0; i < n; i++) elements[i] = { k: REC, v: values[i] as Value, ts: timestamps[i] as number };
      this.host.feed(elements);
    });
  }

  /** The `k`-th partition (in partition order) with unread records that have arrived by `now`. */
  private openPartition(k: number, now: number): number {
    let seen = 0;
    for (const p of this.partitions) {
      if ((this.fetched.get(p) ?? 0) >= (this.ends.get(p) ?? 0)) continue;
      if ((this.notBefore.get(p) ?? -Infinity) > now) continue;
      if (seen++ === k) return p;
    }
    assert(false, "source: fewer open partitions than counted");
  }

  processRecord(v: Value, ts: number): void {
    const feed = this.feeds[0] as Feed;
    const offset = feed.offset + feed.next++;
    if (feed.next >= feed.count) this.feeds.shift();
    this.offsets.set(feed.p, offset + 1);
    if (this.node.watermark !== undefined && ts > (this.maxTs.get(feed.p) ?? MIN_WATERMARK)) this.maxTs.set(feed.p, ts);
    this.host.emit(v, ts);
  }

  afterStep(): void {
    // With a tick already scheduled there is nothing to decide: the tick emits what is pending then.
    const wm = this.watermarkTick ? undefined : this.pendingWatermark();
    if (wm !== undefined) {
      if (this.watermarkIntervalMs === 0) this.emitWatermark(wm);
      else {
        // The next tick of the periodic timer (Flink's auto-watermark interval) emits it.
        const every = this.watermarkIntervalMs;
        const now = this.host.now();
        const tick = this.openedAtMs + Math.max(1, Math.ceil((now - this.openedAtMs) / every)) * every;
        this.watermarkTick = true;
        this.host.wakeAt(tick, () => {
          this.watermarkTick = false;
          const due = this.pendingWatermark();
          if (due !== undefined) this.emitWatermark(due);
        });
      }
    }
    this.kick();
  }

  /** The per-partition bounded-out-of-orderness watermark, when it is ahead of the last one emitted. */
  private pendingWatermark(): number | undefined {
    const wmCfg = this.node.watermark;
    if (wmCfg === undefined) return undefined;
    let wm = MAX_WATERMARK;
    for (const p of this.partitions) {
      const doneP = (this.offsets.get(p) ?? 0) >= (this.ends.get(p) ?? 0);
      const pw = doneP ? MAX_WATERMARK : (this.maxTs.get(p) ?? MIN_WATERMARK + wmCfg.outOfOrdernessMs + 1) - wmCfg.outOfOrdernessMs - 1;
      wm = Math.min(wm, pw);
    }
    // MAX is emitted by the task at end of input, after the last record.
    return wm > this.lastWatermark && wm < MAX_WATERMARK ? wm : undefined;
  }

  private emitWatermark(wm: number): void {
    this.lastWatermark = wm;
    this.host.emitWatermark(wm);
  }

  idle(): void {
    this.kick();
  }

  processWatermark(): void {}
  endOfInput(): void {}

  snapshot(id: number): JsonValue {
    const offsets = this.partitions.map((p) => [p, this.offsets.get(p) ?? 0] as [number, number]);
    this.snapshots.set(id, offsets.map(([partition, offset]) => ({ topic: this.node.topic, partition, offset })));
    return { offsets };
  }

  notifyCheckpointComplete(id: number): void {
    let newest: number | undefined;
    for (const k of this.snapshots.keys()) if (k <= id && (newest === undefined || k > newest)) newest = k;
    if (newest === undefined) return;
    const offsets = this.snapshots.get(newest) ?? [];
    for (const k of [...this.snapshots.keys()]) if (k <= id) this.snapshots.delete(k);
    // A failed offset commit is only logged: correctness comes from the offsets in the checkpoint.
    this.broker.commitOffsets(`streamsim-${this.node.id}`, offsets, newest, () => {});
  }

  close(): void {
    this.broker.close();
  }
}

/**
 * Records collected for a write, as parallel arrays of values and timestamps (no object per
 * record). After `take` the next arrays are made for as many records as were taken (a step's
 * count repeats) and filled by index rather than grown push by push.
 */
class RecordColumns {
  private values: JsonValue[] = [];
  private timestamps: number[] = [];
  private n = 0;
  add(value: JsonValue, ts: number): void {
    // Past the made size, an assignment at the end grows an array as push would.
    this.values[this.n] = value;
    this.timestamps[this.n++] = ts;
  }
  get size(): number {
    return this.n;
  }
  /** Add every record `other` holds (it is left unchanged). */
  addAll(other: RecordColumns): void {
    for (let i = 0; i < other.n; i++) this.add(other.values[i] as JsonValue, other.timestamps[i] as number);
  }
  /** The records, exactly (trimmed in place); this starts over empty. */
  take(): { values: JsonValue[]; timestamps: number[] } {
    const n = this.n;
    const values = this.values;
    const timestamps = this.timestamps;
    if (values.length > n) values.length = n;
    if (timestamps.length > n) timestamps.length = n;
    this.values = new Array<JsonValue>(n);
    this.timestamps = new Array<number>(n);
    this.n = 0;
    return { values, timestamps };
  }
}

/** Tracks writes issued and completed, so a flush can wait for the writes before a barrier. */
class WriteTracker {
  issued = 0;
  completed = 0;
  private waiters: Array<{ upTo: number; done: (e?: string) => void }> = [];
  error: string | undefined;
  issue(): number {
    return ++this.issued;
  }
  complete(err: BrokerErr | null): void {
    this.completed++;
    if (err && this.error === undefined) this.error = errText(err);
    this.check();
  }
  waitFor(upTo: number, done: (e?: string) => void): void {
    this.waiters.push({ upTo, done });
    this.check();
  }
  private check(): void {
    const ready = this.waiters.filter((w) => this.error !== undefined || this.completed >= w.upTo);
    this.waiters = this.waiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.done(this.error);
  }
}

/**
 * A transaction of the sink. It exists from the moment it is begun; `epoch` and `txnSeq` arrive
 * when the broker answers initTransactions. A snapshot may reference a transaction whose epoch is
 * still unknown; its state is serialised only once every referenced epoch is known.
 */
type Txn = {
  readonly tid: string;
  readonly k: number;
  epoch: number | null;
  txnSeq: number | null;
  /** Records for this transaction that wait for its epoch. */
  readonly held: RecordColumns;
};
type PendingTxn = { readonly txn: Txn; readonly checkpointId: number };
type SavedTxn = { tid: string; k: number; epoch: number; txnSeq: number; checkpointId: number };

export class TwoPhaseCommitSink implements Operator {
  private pending: PendingTxn[] = [];
  /** Counter of the next transactional id. */
  private nextK = 0;
  private current: Txn | null = null;
  private readonly batch = new RecordColumns();
  private readonly writes = new WriteTracker();
  private readonly barriers = new Map<number, { writes: number; txns: readonly Txn[] }>();
  private readonly epochWaiters: Array<() => boolean> = [];
  private ended = false;
  private committing = false;
  private commitUpTo = 0;
  private restoredPending: SavedTxn[] = [];
  /** "no": not started; "running": probing; "done": every id from nextK on was aborted or unused. */
  private lingering: "no" | "running" | "done" = "no";

  constructor(
    private readonly node: SinkNode,
    private readonly subtask: number,
    private readonly broker: BrokerPort,
    private readonly fail: (reason: string) => void,
    private readonly checkpointing: boolean,
  ) {}

  private tid(k: number): string {
    return `${this.node.id}-${this.subtask}-${k}`;
  }

  restore(state: JsonValue): void {
    const s = state as { pending: SavedTxn[]; nextK: number };
    this.restoredPending = s.pending.map((p) => ({ ...p }));
    this.nextK = s.nextK;
  }

  open(done: (e?: string) => void): void {
    // recoverAndCommit: every pending transaction of the restored state, in order (idempotent).
    const commitNext = (): void => {
      const p = this.restoredPending[0];
      if (p === undefined) return abortLingering(this.nextK, 0);
      this.broker.commit(p.tid, p.epoch, p.txnSeq, p.checkpointId, (err) => {
        if (err) return done(`recoverAndCommit of ${p.tid} failed: ${errText(err)}`);
        this.restoredPending.shift();
        commitNext();
      });
    };
    // recoverAndAbort + fencing: init every id from nextK on until one was never used.
    const abortLingering = (k: number, probes: number): void => {
      if (probes > 10_000) return done("could not find an unused transactional id after 10000 probes");
      const tid = this.tid(k);
      this.broker.initTransactions(tid, (err, res) => {
        if (err || res === undefined) return done(`initTransactions(${tid}) failed: ${err ? errText(err) : "no result"}`);
        if (probes === 0) this.current = { tid, k, epoch: res.epoch, txnSeq: res.txnSeq, held: new RecordColumns() };
        if (res.epoch > 0) return abortLingering(k + 1, probes + 1);
        this.nextK = (this.current as Txn).k + 1;
        done();
      });
    };
    commitNext();
  }

  processRecord(v: Value, ts: number): void {
    this.batch.add(v, ts);
  }

  afterStep(): void {
    this.sendBatch();
  }

  private sendBatch(): void {
    if (this.batch.size === 0) return;
    const t = this.current;
    if (t === null) return this.fail("records arrived after the sink finished");
    if (t.epoch === null) {
      // The transaction is still being initialised: its records wait for it (and only for it).
      t.held.addAll(this.batch);
      this.batch.take();
      return;
    }
    this.writeTo(t, this.batch);
  }

  /** Write (and empty) `recs` into transaction `t`. */
  private writeTo(t: Txn, recs: RecordColumns): void {
    if (t.epoch === null) return this.fail(`write to ${t.tid} before its epoch is known`);
    const { values, timestamps } = recs.take();
    this.writes.issue();
    this.broker.write(t.tid, t.epoch, this.node.topic, this.subtask, values, timestamps, (err) => {
      this.writes.complete(err);
      if (err) this.fail(`write to ${t.tid} failed: ${errText(err)}`);
    });
  }

  processWatermark(): void {}

  endOfInput(): void {
    this.ended = true;
    this.sendBatch();
    if (!this.checkpointing && this.current !== null) {
      // Without checkpoints there is no barrier: commit the last transaction when the input ends.
      const t = this.current;
      this.current = null;
      this.pending.push({ txn: t, checkpointId: 0 });
      this.writes.waitFor(this.writes.issued, (e) => {
        if (e !== undefined) return;
        this.commitUpTo = Math.max(this.commitUpTo, 0);
        this.commitPending();
      });
    }
  }

  /**
   * preCommit the current transaction as pending for `id` and begin the next. The state is
   * returned as a function: it is serialised after `flush`, when every epoch it names is known.
   */
  snapshot(id: number): JsonValue | (() => JsonValue) {
    // The held records belong to the current transaction even if its epoch is not known yet.
    this.sendBatch();
    const resumeK = this.nextK;
    if (this.current !== null) {
      this.pending.push({ txn: this.current, checkpointId: id });
      this.current = null;
      if (!this.ended) this.beginNext();
    }
    const captured = this.pending.slice();
    this.barriers.set(id, { writes: this.writes.issued, txns: captured.map((p) => p.txn) });
    return () => ({
      pending: captured.map(
        (p): SavedTxn => ({ tid: p.txn.tid, k: p.txn.k, epoch: p.txn.epoch as number, txnSeq: p.txn.txnSeq as number, checkpointId: p.checkpointId }),
      ),
      nextK: resumeK,
    });
  }

  private beginNext(): void {
    const k = this.nextK++;
    const txn: Txn = { tid: this.tid(k), k, epoch: null, txnSeq: null, held: new RecordColumns() };
    this.current = txn;
    this.broker.initTransactions(txn.tid, (err, res) => {
      if (err || res === undefined) return this.fail(`initTransactions(${txn.tid}) failed: ${err ? errText(err) : "no result"}`);
      txn.epoch = res.epoch;
      txn.txnSeq = res.txnSeq;
      if (txn.held.size > 0) this.writeTo(txn, txn.held);
      this.onEpochKnown();
    });
  }

  private onEpochKnown(): void {
    for (let i = 0; i < this.epochWaiters.length; ) {
      if ((this.epochWaiters[i] as () => boolean)()) this.epochWaiters.splice(i, 1);
      else i++;
    }
    this.commitPending();
  }

  /** preCommit: the writes issued before the barrier are acknowledged and every epoch is known. */
  flush(id: number, done: (e?: string) => void): void {
    const b = this.barriers.get(id) ?? { writes: this.writes.issued, txns: [] };
    this.barriers.delete(id);
    // First every epoch (held records are written when it arrives), then every write so far.
    const ready = (): boolean => {
      if (b.txns.some((t) => t.epoch === null)) return false;
      this.writes.waitFor(Math.max(b.writes, this.writes.issued), done);
      return true;
    };
    if (!ready()) this.epochWaiters.push(ready);
  }

  notifyCheckpointComplete(id: number): void {
    this.commitUpTo = Math.max(this.commitUpTo, id);
    this.commitPending();
  }

  private commitPending(): void {
    if (this.committing) return;
    const p = this.pending[0];
    if (p === undefined || p.checkpointId > this.commitUpTo) return;
    const t = p.txn;
    if (t.epoch === null || t.txnSeq === null) return; // retried when the epoch is known
    this.committing = true;
    // All writes into it were issued before its barrier; commit after they are acknowledged.
    this.writes.waitFor(this.writes.issued, (e) => {
      if (e !== undefined) {
        this.committing = false;
        return;
      }
      this.broker.commit(t.tid, t.epoch as number, t.txnSeq as number, p.checkpointId, (err) => {
        this.committing = false;
        if (err) return this.fail(`commit of ${t.tid} for checkpoint ${p.checkpointId} failed: ${errText(err)}`);
        if (this.pending[0] === p) this.pending.shift();
        this.commitPending();
        this.cleanUpIfDone();
        this.onIdle?.();
      });
    });
  }

  /**
   * Once the sink has finished (input ended, last transaction committed), abort whatever a zombie
   * of an earlier attempt may have opened since our restore probed the ids (it can take the next
   * id right after the probe found it unused): init every id from nextK on until one was never
   * used. Kafka would abort those at its transaction timeout; a finished job must leave none open.
   */
  private cleanUpIfDone(): void {
    if (!this.ended || this.lingering !== "no" || this.pending.length > 0 || this.current !== null || this.committing) return;
    this.lingering = "running";
    const probe = (k: number, n: number): void => {
      if (n > 10_000) return this.fail("could not find an unused transactional id after 10000 probes");
      this.broker.initTransactions(this.tid(k), (err, res) => {
        if (err || res === undefined) return this.fail(`initTransactions(${this.tid(k)}) failed: ${err ? errText(err) : "no result"}`);
        if (res.epoch > 0) return probe(k + 1, n + 1);
        this.lingering = "done";
        this.onIdle?.();
      });
    };
    probe(this.nextK, 0);
  }

  /** Called when a commit finishes (the task re-checks whether it may finish). */
  onIdle: (() => void) | undefined;

  isFinished(): boolean {
    return this.pending.length === 0 && !this.committing && this.current === null && this.batch.size === 0 && this.lingering === "done";
  }

  close(): void {
    this.broker.close();
  }
}

/** At-least-once sinks: writes are flushed on the barrier. */
export class AtLeastOnceSink implements Operator {
  private batch: Array<{ value: JsonValue; ts: number }> = [];
  private readonly writes = new WriteTracker();
  private readonly barrierWrites = new Map<number, number>();

  constructor(
    private readonly node: SinkNode,
    private readonly subtask: number,
    private readonly broker: BrokerPort,
    private readonly fail: (reason: string) => void,
    private readonly upsertKey: KeySelector | undefined,
  ) {}

  restore(): void {}
  open(done: (e?: string) => void): void {
    done();
  }
  processRecord(v: Value, ts: number): void {
    this.batch.push({ value: v, ts });
  }
  afterStep(): void {
    if (this.batch.length === 0) return;
    const recs = this.batch;
    this.batch = [];
    this.writes.issue();
    if (this.upsertKey !== undefined) {
      const key = this.upsertKey;
      this.broker.upsert(this.node.topic, recs.map((r) => ({ key: key(r.value), value: r.value })), (err) => this.written(err));
    } else this.broker.append(this.node.topic, this.subtask, recs, (err) => this.written(err));
  }
  private written(err: BrokerErr | null): void {
    this.writes.complete(err);
    if (err) this.fail(`sink ${this.node.id} write failed: ${errText(err)}`);
  }
  processWatermark(): void {}
  endOfInput(): void {
    this.afterStep();
  }
  snapshot(id: number): JsonValue {
    this.afterStep();
    this.barrierWrites.set(id, this.writes.issued);
    return null;
  }
  flush(id: number, done: (e?: string) => void): void {
    this.writes.waitFor(this.barrierWrites.get(id) ?? this.writes.issued, done);
    this.barrierWrites.delete(id);
  }
  close(): void {
    this.broker.close();
  }
}
