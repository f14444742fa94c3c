/**
 * The simulated log broker: a Kafka-like, replicated and durable log (pure state, no network).
 *
 * - Topics with partitions of records (`{ value, ts }`), each record at an offset.
 * - Non-transactional appends (input loading with `load`, the plain sink with `append`).
 * - Transactions by transactional id (tid) and epoch, as Kafka's: `initTransactions` bumps the
 *   epoch and aborts the tid's open transaction (fencing older producers); `write` opens a
 *   transaction on first use; `commit` makes it visible (idempotently); `abort` discards it.
 *   Every transaction of a tid has a sequence number `txnSeq` (increasing per tid, across epochs).
 * - read_committed readers see non-transactional records and records of committed transactions,
 *   in log order, and never read at or past the last stable offset (the first offset of the
 *   earliest still-open transaction of the partition), as Kafka does. read_uncommitted readers see
 *   everything, aborted records included.
 * - Upsert tables (key -> last value) and consumer-group offsets.
 * - `transactionTimeoutMs` (Kafka's transaction.timeout.ms): an open transaction older than this is
 *   aborted by the broker and the tid's epoch is bumped, so its producer is fenced (Kafka's
 *   coordinator does the same).
 *
 * The broker's state survives a crash of the broker node (the log is replicated): only the
 * server in front of it (broker-client.ts) loses its connections. Methods throw `BrokerError`
 * (with a Kafka error code) for errors a client must handle, and fail an `assert` for misuse
 * that can only be a bug of the caller.
 *
 * Record values are stored by reference: callers treat JSON values as immutable.
 */
import { assert } from "../sim/assert.ts";
import type { Scheduler, Timer } from "../sim/scheduler.ts";
import { digest, Fnv64, hashJsonLine, hashJsonLines, recordsDigest } from "../sim/trace.ts";
import type { JsonValue, Trace } from "../sim/trace.ts";

// ---- errors --------------------------------------------------------------------------------

/** Kafka's error codes for the broker's errors, and the socket codes for a broken connection. */
export type BrokerErrorCode =
  | "PRODUCER_FENCED"
  | "INVALID_TXN_STATE"
  | "UNKNOWN_TOPIC_OR_PARTITION"
  | "OFFSET_OUT_OF_RANGE"
  | "ECONNRESET"
  | "ECONNREFUSED"
  | "ETIMEDOUT";

/** An error the broker (or the connection to it) reports; the code says which. */
export class BrokerError extends Error {
  override readonly name: string = "BrokerError";
  constructor(
    readonly code: BrokerErrorCode,
    message: string,
  ) {
    // No stack trace: a simulated error is a value (thrown and caught inside the broker, or handed
    // to a callback), often on a hot path, and the message says what failed.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(`${code}: ${message}`);
    Error.stackTraceLimit = limit;
  }
}

/** A producer used an epoch older than its transactional id's current epoch (a zombie). */
export class FencedError extends BrokerError {
  override readonly name: string = "FencedError";
  constructor(
    readonly tid: string,
    readonly epoch: number,
    readonly currentEpoch: number,
    readonly op: string,
  ) {
    super("PRODUCER_FENCED", `${op} by ${tid} with epoch ${epoch} fenced: the current epoch is ${currentEpoch}`);
  }
}

/** Whether an error means the connection to the broker is gone (the request may or may not have been applied). */
export function isConnectionError(err: BrokerError): boolean {
  return err.code === "ECONNRESET" || err.code === "ECONNREFUSED" || err.code === "ETIMEDOUT";
}

// ---- data types ----------------------------------------------------------------------------

export type Isolation = "read_committed" | "read_uncommitted";

/** A record as producers write it: a JSON value and its event timestamp (ms). */
export type ProducerRecord = { readonly value: JsonValue; readonly ts: number };

/** A record as readers get it. */
export type ConsumerRecord = { readonly offset: number; readonly value: JsonValue; readonly ts: number };

export type FetchResult = {
  /** Records readable at this isolation level, in offset order, at most `max`. */
  readonly records: readonly ConsumerRecord[];
  /**
   * Where the next read should start: past the last record returned and past any records this
   * isolation level skipped (aborted ones), so a reader never loops on skipped records.
   */
  readonly nextOffset: number;
  /**
   * The end of what this isolation level can read now: the last stable offset for
   * read_committed, the log end offset for read_uncommitted (as Kafka's `endOffsets`).
   */
  readonly endOffset: number;
};

/** Records read at read_uncommitted as parallel arrays (no object per record), from `offset` on. */
export type ValuesResult = {
  /** The offset of values[0]: the offset asked for. */
  readonly offset: number;
  /** Values of the records at offset, offset + 1, ... (at most `max`). */
  readonly values: readonly JsonValue[];
  /** Their timestamps, index for index. */
  readonly timestamps: readonly number[];
  /** The log end offset. */
  readonly endOffset: number;
};

/** A transactional id's state as its producer sees it. */
export type TxnState = {
  readonly epoch: number;
  /** The open transaction's sequence number, or (none open) the one the next transaction gets. */
  readonly txnSeq: number;
  readonly open: boolean;
  /** Records written in the open transaction (0 when none is open). */
  readonly records: number;
};

export type TopicPartitionOffset = { readonly topic: string; readonly partition: number; readonly offset: number };

/** A visible record of a topic, for the oracle. */
export type CommittedRecord = {
  readonly partition: number;
  readonly offset: number;
  readonly value: JsonValue;
  readonly ts: number;
};

export type LogBrokerOptions = {
  /**
   * An open transaction older than this (since its first write) is aborted by the broker and its
   * tid's epoch bumped (Kafka's transaction.timeout.ms), in milliseconds. Infinity disables it.
   */
  readonly transactionTimeoutMs: number;
  /** The node name of the broker's trace events. */
  readonly traceNode: string;
};

export const defaultLogBrokerOptions: LogBrokerOptions = { transactionTimeoutMs: Infinity, traceNode: "broker" };

/** Checks every field; returns an error sentence naming the first bad field, or undefined. */
export function validateLogBrokerOptions(o: LogBrokerOptions): string | undefined {
  const t = o.transactionTimeoutMs as unknown;
  if (typeof t !== "number" || Number.isNaN(t) || t <= 0) {
    return `broker.transactionTimeoutMs must be a number > 0 (Infinity disables the timeout), got ${String(t)}`;
  }
  if (typeof o.traceNode !== "string" || o.traceNode.length === 0) {
    return `broker.traceNode must be a non-empty string, got ${JSON.stringify(o.traceNode)}`;
  }
  return undefined;
}

// ---- internals -----------------------------------------------------------------------------

type TxnStatus = "open" | "committed" | "aborted";

class Txn {
  status: TxnStatus = "open";
  /** Records written (the values themselves are in the partition logs). */
  records = 0;
  /** Running digest of the values, updated as they are written (for the commit event). */
  readonly hash = new Fnv64();
  /** Partitions holding records of this transaction, in first-write order. */
  readonly partitions: PartitionLog[] = [];
  timer: Timer | null = null;
  checkpointId: number | null = null;
  constructor(
    readonly tid: string,
    readonly epoch: number,
    readonly seq: number,
    readonly openedAtMs: number,
  ) {}
}

/** Records per chunk of a partition log (a power of two). */
const CHUNK_BITS = 12;
const CHUNK = 1 << CHUNK_BITS;
const CHUNK_MASK = CHUNK - 1;

/**
 * One partition's records, as parallel arrays indexed by offset (no object per record: logs hold
 * every input and output record of a run), in chunks of CHUNK records: a long log never copies
 * itself to grow. The first chunk is made for the records of the first append (a whole input load)
 * and grows as push would past them, so a short log stays small; later chunks are made at their
 * full size. Which transaction wrote a record is kept per run of consecutive records of one
 * writer, not per record.
 */
class PartitionLog {
  private readonly valueChunks: JsonValue[][] = [];
  private readonly tsChunks: number[][] = [];
  private size = 0;
  /** Run r covers offsets [runStart[r], runStart[r + 1]) (the last one up to the log end) ... */
  private readonly runStart: number[] = [];
  /** ... and was written by runTxn[r] (null: non-transactional writes). */
  private readonly runTxn: Array<Txn | null> = [];
  /** Open transactions with records here -> their first offset here. Insertion order = offset order. */
  readonly openTxns = new Map<Txn, number>();

  get endOffset(): number {
    return this.size;
  }

  get lastStableOffset(): number {
    for (const first of this.openTxns.values()) return first;
    return this.size;
  }

  value(offset: number): JsonValue {
    return (this.valueChunks[offset >> CHUNK_BITS] as JsonValue[])[offset & CHUNK_MASK] as JsonValue;
  }

  timestamp(offset: number): number {
    return (this.tsChunks[offset >> CHUNK_BITS] as number[])[offset & CHUNK_MASK] as number;
  }

  /** Start a run of `txn` at the log end unless the last run is already its. */
  private writer(txn: Txn | null): void {
    const n = this.runTxn.length;
    if (n === 0 || this.runTxn[n - 1] !== txn) {
      this.runStart.push(this.size);
      this.runTxn.push(txn);
    }
  }

  /** Append one record; a first chunk is made for `expected` records (it grows past them if needed). */
  private append(value: JsonValue, ts: number, expected: number): void {
    const i = this.size;
    const c = i >> CHUNK_BITS;
    const j = i & CHUNK_MASK;
    if (j === 0) {
      const n = c === 0 ? Math.min(expected, CHUNK) : CHUNK;
      this.valueChunks.push(new Array<JsonValue>(n));
      this.tsChunks.push(new Array<number>(n));
    }
    // Past a first chunk's made size, an assignment at its end grows it as push would.
    (this.valueChunks[c] as JsonValue[])[j] = value;
    (this.tsChunks[c] as number[])[j] = ts;
    this.size = i + 1;
  }

  push(value: JsonValue, ts: number, txn: Txn | null): void {
    this.writer(txn);
    this.append(value, ts, 0);
  }

  /** Append records given as parallel arrays of values and timestamps. */
  pushValues(values: readonly JsonValue[], timestamps: readonly number[], txn: Txn | null): void {
    const n = values.length;
    if (n === 0) return;
    this.writer(txn);
    for (let i = 0; i < n; i++) this.append(values[i] as JsonValue, timestamps[i] as number, 0);
  }

  pushAll(records: readonly ProducerRecord[], txn: Txn | null): void {
    if (records.length === 0) return;
    this.writer(txn);
    for (let i = 0; i < records.length; i++) {
      const r = records[i] as ProducerRecord;
      this.append(r.value, r.ts, records.length);
    }
  }

  /** The run holding `offset` (0 <= offset < endOffset). */
  run(offset: number): number {
    let lo = 0;
    let hi = this.runStart.length - 1;
    for (let guard = 0; lo < hi && guard < 64; guard++) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.runStart[mid] as number) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** The offset after the last record of run `r`. */
  runEnd(r: number): number {
    return r + 1 < this.runStart.length ? (this.runStart[r + 1] as number) : this.size;
  }

  /** Whether the records of run `r` are visible to read_committed readers. */
  runVisible(r: number): boolean {
    const txn = this.runTxn[r];
    return txn === null || txn === undefined || txn.status === "committed";
  }

  /** How many records are visible to read_committed readers. */
  visibleCount(): number {
    let n = 0;
    for (let r = 0; r < this.runStart.length; r++) if (this.runVisible(r)) n += this.runEnd(r) - (this.runStart[r] as number);
    return n;
  }

  /** Call `f` with the offset of every record visible to read_committed readers, in offset order. */
  forEachVisible(f: (offset: number) => void): void {
    for (let r = 0; r < this.runStart.length; r++) {
      if (!this.runVisible(r)) continue;
      const end = this.runEnd(r);
      for (let i = this.runStart[r] as number; i < end; i++) f(i);
    }
  }
}

class TidState {
  epoch = 0;
  /** The sequence number the next transaction of this tid gets. */
  nextSeq = 0;
  open: Txn | null = null;
  /** Every transaction of this tid by sequence number. */
  readonly history = new Map<number, Txn>();
}

function checkTimestamps(timestamps: readonly number[], what: string): void {
  for (let i = 0; i < timestamps.length; i++) {
    const ts = timestamps[i] as number;
    if (!Number.isFinite(ts)) assert(false, `${what}: record timestamps must be finite numbers, got ${ts}`);
  }
}

function checkRecords(records: readonly ProducerRecord[], what: string): void {
  // Guarded so the message is only built on failure: this runs for every record.
  // An index loop: input loads run this unoptimised, where for-of makes an iterator result per record.
  for (let i = 0; i < records.length; i++) {
    const ts = (records[i] as ProducerRecord).ts;
    if (!Number.isFinite(ts)) assert(false, `${what}: record timestamps must be finite numbers, got ${ts}`);
  }
}

export class LogBroker {
  readonly options: LogBrokerOptions;
  private readonly topicLogs = new Map<string, PartitionLog[]>();
  private readonly tids = new Map<string, TidState>();
  private readonly tables = new Map<string, Map<string, JsonValue>>();
  private readonly groups = new Map<string, Map<string, TopicPartitionOffset>>();

  constructor(
    private readonly scheduler: Scheduler,
    private readonly trace: Trace,
    options: Partial<LogBrokerOptions> = {},
  ) {
    const merged: Record<string, unknown> = { ...defaultLogBrokerOptions };
    for (const [k, v] of Object.entries(options)) if (v !== undefined) merged[k] = v;
    this.options = merged as LogBrokerOptions;
    const err = validateLogBrokerOptions(this.options);
    if (err !== undefined) throw new Error(err);
  }

  // ---- topics and plain records -------------------------------------------------------------

  /** Create a topic; creating an existing topic with the same partition count is a no-op. */
  createTopic(name: string, partitions: number): void {
    assert(Number.isInteger(partitions) && partitions >= 1, `topic ${name}: partitions must be an integer >= 1, got ${partitions}`);
    const existing = this.topicLogs.get(name);
    if (existing !== undefined) {
      assert(existing.length === partitions, `topic ${name} exists with ${existing.length} partitions, not ${partitions}`);
      return;
    }
    const logs: PartitionLog[] = [];
    for (let p = 0; p < partitions; p++) logs.push(new PartitionLog());
    this.topicLogs.set(name, logs);
  }

  hasTopic(name: string): boolean {
    return this.topicLogs.has(name);
  }

  /** Topic names, sorted. */
  topics(): string[] {
    return [...this.topicLogs.keys()].sort(compareStrings);
  }

  partitionCount(topic: string): number {
    return this.logs(topic).length;
  }

  /** Load input records (not traced: the input exists before the job starts). Returns the base offset. */
  load(topic: string, partition: number, records: readonly ProducerRecord[]): number {
    checkRecords(records, `load into ${topic}/${partition}`);
    return this.appendEntries(this.log(topic, partition), records, null);
  }

  /** A non-transactional producer write (the plain sink); traced as sink-write. Returns the base offset. */
  append(topic: string, partition: number, records: readonly ProducerRecord[]): number {
    checkRecords(records, `append to ${topic}/${partition}`);
    const base = this.appendEntries(this.log(topic, partition), records, null);
    this.trace.emit(this.options.traceNode, "sink-write", {
      topic,
      partition,
      records: records.length,
      digest: recordsDigest(records.map((r) => r.value)).hex(),
    });
    return base;
  }

  /** Log end offset: the offset the next record of the partition gets. */
  endOffset(topic: string, partition: number): number {
    return this.log(topic, partition).endOffset;
  }

  /** The first offset of the partition's earliest open transaction, or the log end offset if none is open. */
  lastStableOffset(topic: string, partition: number): number {
    return this.log(topic, partition).lastStableOffset;
  }

  /** The partition's log, once `offset` and `max` are a valid read of it (OFFSET_OUT_OF_RANGE otherwise). */
  private readableLog(topic: string, partition: number, offset: number, max: number): PartitionLog {
    const log = this.log(topic, partition);
    if (!(Number.isInteger(max) && max >= 1)) assert(false, `read max must be an integer >= 1, got ${max}`);
    if (!Number.isInteger(offset) || offset < 0 || offset > log.endOffset) {
      throw new BrokerError(
        "OFFSET_OUT_OF_RANGE",
        `offset ${offset} is outside ${topic}/${partition} [0, ${log.endOffset}]`,
      );
    }
    return log;
  }

  /** Up to `max` records from `offset` at the given isolation level. */
  read(topic: string, partition: number, offset: number, max: number, isolation: Isolation): FetchResult {
    const log = this.readableLog(topic, partition, offset, max);
    const limit = isolation === "read_committed" ? log.lastStableOffset : log.endOffset;
    if (isolation === "read_uncommitted") {
      // Every record counts: the array is made at its final size.
      const n = Math.max(0, Math.min(max, limit - offset));
      const records = new Array<ConsumerRecord>(n);
      for (let k = 0; k < n; k++) records[k] = { offset: offset + k, value: log.value(offset + k), ts: log.timestamp(offset + k) };
      return { records, nextOffset: offset + n, endOffset: limit };
    }
    const records: ConsumerRecord[] = [];
    let i = offset;
    // Walk the writer runs alongside the offsets (no search per record).
    let r = i < limit ? log.run(i) : 0;
    let end = log.runEnd(r);
    let visible = log.runVisible(r);
    for (; i < limit && records.length < max; i++) {
      if (i >= end) {
        r++;
        end = log.runEnd(r);
        visible = log.runVisible(r);
      }
      if (visible) records.push({ offset: i, value: log.value(i), ts: log.timestamp(i) });
    }
    return { records, nextOffset: i, endOffset: limit };
  }

  /**
   * `read(topic, partition, offset, max, "read_uncommitted")` as parallel arrays of values and
   * timestamps: every record from `offset` on is returned (read_uncommitted skips none), so the
   * offset of `values[i]` is `offset + i` and the next read starts at `offset + values.length`.
   */
  readValues(topic: string, partition: number, offset: number, max: number): ValuesResult {
    const log = this.readableLog(topic, partition, offset, max);
    const n = Math.min(max, log.endOffset - offset);
    const values = new Array<JsonValue>(n);
    const timestamps = new Array<number>(n);
    for (let k = 0; k < n; k++) {
      values[k] = log.value(offset + k);
      timestamps[k] = log.timestamp(offset + k);
    }
    return { offset, values, timestamps, endOffset: log.endOffset };
  }

  // ---- transactions -------------------------------------------------------------------------

  /**
   * Register a producer for `tid`: bumps the epoch (the first call gives 0) and aborts the tid's
   * open transaction, so older producers of the tid are fenced. Returns the new epoch and the
   * sequence number of the tid's next transaction.
   */
  initTransactions(tid: string): { epoch: number; txnSeq: number } {
    let st = this.tids.get(tid);
    if (st === undefined) {
      st = new TidState();
      this.tids.set(tid, st);
    } else {
      if (st.open !== null) this.abortTxn(st, st.open, "init");
      st.epoch++;
    }
    return { epoch: st.epoch, txnSeq: st.nextSeq };
  }

  /**
   * Write records in the tid's open transaction, opening one if none is open. Records go to the
   * log uncommitted. Returns the transaction's sequence number and the records' base offset.
   */
  write(
    tid: string,
    epoch: number,
    topic: string,
    partition: number,
    records: readonly ProducerRecord[],
  ): { txnSeq: number; baseOffset: number } {
    const st = this.producer(tid, epoch, "write");
    const log = this.log(topic, partition);
    checkRecords(records, `write to ${topic}/${partition}`);
    const txn = this.openTxn(st, tid, epoch, log, records.length);
    const base = log.endOffset;
    const hash = txn.hash;
    // One pass: the log entries and the transaction's digest (as recordsDigest).
    for (let i = 0; i < records.length; i++) {
      const r = records[i] as ProducerRecord;
      log.push(r.value, r.ts, txn);
      hashJsonLine(hash, r.value);
    }
    txn.records += records.length;
    return { txnSeq: txn.seq, baseOffset: base };
  }

  /**
   * `write` with the records as parallel arrays of values and timestamps (no object per record):
   * the same effect, result and errors as `write` of `{ value: values[i], ts: timestamps[i] }`.
   */
  writeValues(
    tid: string,
    epoch: number,
    topic: string,
    partition: number,
    values: readonly JsonValue[],
    timestamps: readonly number[],
  ): { txnSeq: number; baseOffset: number } {
    const st = this.producer(tid, epoch, "write");
    const log = this.log(topic, partition);
    const n = values.length;
    if (timestamps.length !== n) assert(false, `write to ${topic}/${partition}: ${n} values but ${timestamps.length} timestamps`);
    checkTimestamps(timestamps, `write to ${topic}/${partition}`);
    const txn = this.openTxn(st, tid, epoch, log, n);
    const base = log.endOffset;
    log.pushValues(values, timestamps, txn);
    hashJsonLines(txn.hash, values);
    txn.records += n;
    return { txnSeq: txn.seq, baseOffset: base };
  }

  /** The tid's open transaction (opened now if none is), registered with `log` if `records` > 0 go there. */
  private openTxn(st: TidState, tid: string, epoch: number, log: PartitionLog, records: number): Txn {
    let txn = st.open;
    if (txn === null) {
      txn = new Txn(tid, epoch, st.nextSeq++, this.scheduler.now);
      st.open = txn;
      st.history.set(txn.seq, txn);
      this.trace.emit(this.options.traceNode, "txn-opened", { tid, epoch });
      if (Number.isFinite(this.options.transactionTimeoutMs)) {
        const t = txn;
        txn.timer = this.scheduler.schedule(this.options.transactionTimeoutMs, () => this.expire(t));
      }
    }
    if (records > 0 && !log.openTxns.has(txn)) {
      log.openTxns.set(txn, log.endOffset);
      txn.partitions.push(log);
    }
    return txn;
  }

  /**
   * Commit transaction `txnSeq` of `tid`: its records become visible. Idempotent: committing an
   * already committed transaction (same tid, epoch, txnSeq) succeeds without change. With no
   * transaction open, committing the tid's next sequence number commits an empty transaction.
   * Returns whether it was already committed and the sequence number of the tid's next transaction.
   */
  commit(tid: string, epoch: number, txnSeq: number, meta: { checkpointId: number }): { alreadyCommitted: boolean; nextTxnSeq: number } {
    const st = this.tids.get(tid);
    if (st === undefined) throw new BrokerError("INVALID_TXN_STATE", `commit by ${tid}: initTransactions was never called`);
    const past = st.history.get(txnSeq);
    if (past !== undefined && past.status === "committed" && past.epoch === epoch) {
      return { alreadyCommitted: true, nextTxnSeq: st.nextSeq };
    }
    this.producer(tid, epoch, "commit");
    let txn: Txn;
    if (st.open !== null && st.open.seq === txnSeq) {
      txn = st.open;
    } else if (st.open === null && txnSeq === st.nextSeq) {
      txn = new Txn(tid, epoch, st.nextSeq++, this.scheduler.now);
      st.history.set(txn.seq, txn);
    } else {
      const what = past !== undefined
        ? `it was ${past.status} (epoch ${past.epoch})`
        : st.open !== null
          ? `the open transaction is ${st.open.seq}`
          : `no transaction is open and the next is ${st.nextSeq}`;
      throw new BrokerError("INVALID_TXN_STATE", `commit of ${tid} transaction ${txnSeq} (epoch ${epoch}): ${what}`);
    }
    txn.checkpointId = meta.checkpointId;
    this.close(st, txn, "committed");
    this.trace.emit(this.options.traceNode, "txn-committed", {
      tid,
      epoch,
      txnSeq: txn.seq,
      records: txn.records,
      digest: txn.hash.hex(),
      checkpointId: meta.checkpointId,
    });
    return { alreadyCommitted: false, nextTxnSeq: st.nextSeq };
  }

  /** Abort the tid's open transaction (its records never become visible); a no-op when none is open. */
  abort(tid: string, epoch: number): { abortedTxnSeq: number | null; nextTxnSeq: number } {
    const st = this.producer(tid, epoch, "abort");
    const open = st.open;
    if (open === null) return { abortedTxnSeq: null, nextTxnSeq: st.nextSeq };
    this.abortTxn(st, open, "abort");
    return { abortedTxnSeq: open.seq, nextTxnSeq: st.nextSeq };
  }

  /** The tid's state, or undefined if `initTransactions` was never called for it. */
  currentTxn(tid: string): TxnState | undefined {
    const st = this.tids.get(tid);
    if (st === undefined) return undefined;
    const open = st.open;
    return open === null
      ? { epoch: st.epoch, txnSeq: st.nextSeq, open: false, records: 0 }
      : { epoch: st.epoch, txnSeq: open.seq, open: true, records: open.records };
  }

  /** Open transactions, sorted by tid. */
  openTransactions(): Array<{ tid: string; epoch: number }> {
    const out: Array<{ tid: string; epoch: number }> = [];
    for (const [tid, st] of this.tids) if (st.open !== null) out.push({ tid, epoch: st.open.epoch });
    return out.sort((a, b) => compareStrings(a.tid, b.tid));
  }

  /** The checkpoint id a committed transaction was committed for, or undefined if it is not committed. */
  committedCheckpoint(tid: string, txnSeq: number): number | undefined {
    const txn = this.tids.get(tid)?.history.get(txnSeq);
    return txn !== undefined && txn.status === "committed" && txn.checkpointId !== null ? txn.checkpointId : undefined;
  }

  // ---- upsert tables ------------------------------------------------------------------------

  /** Set `key` to `value` in the upsert table `topic` (last write wins; idempotent). Not traced. */
  upsert(topic: string, key: string, value: JsonValue): void {
    let t = this.tables.get(topic);
    if (t === undefined) {
      t = new Map();
      this.tables.set(topic, t);
    }
    t.set(key, value);
  }

  /** A batch of upserts from a sink, in order; traced as one sink-write. */
  upsertBatch(topic: string, entries: ReadonlyArray<{ readonly key: string; readonly value: JsonValue }>): void {
    for (const e of entries) this.upsert(topic, e.key, e.value);
    this.trace.emit(this.options.traceNode, "sink-write", {
      topic,
      records: entries.length,
      digest: digest(entries.map((e) => [e.key, e.value])),
    });
  }

  /** The upsert table `topic` as [key, value] pairs sorted by key (empty if never written). */
  table(topic: string): Array<[string, JsonValue]> {
    const t = this.tables.get(topic);
    if (t === undefined) return [];
    return [...t.entries()].sort((a, b) => compareStrings(a[0], b[0]));
  }

  // ---- consumer groups ----------------------------------------------------------------------

  /** Store a consumer group's offsets (for monitoring; correctness comes from checkpoints). */
  commitOffsets(group: string, offsets: readonly TopicPartitionOffset[], checkpointId: number): void {
    let g = this.groups.get(group);
    if (g === undefined) {
      g = new Map();
      this.groups.set(group, g);
    }
    for (const o of offsets) {
      if (!(Number.isInteger(o.offset) && o.offset >= 0)) assert(false, `committed offset must be an integer >= 0, got ${o.offset}`);
      g.set(`${o.topic}\u0000${o.partition}`, { topic: o.topic, partition: o.partition, offset: o.offset });
    }
    this.trace.emit(this.options.traceNode, "offsets-committed", { group, checkpointId });
  }

  /** A group's committed offsets, sorted by topic then partition. */
  committedOffsets(group: string): TopicPartitionOffset[] {
    const g = this.groups.get(group);
    if (g === undefined) return [];
    return [...g.values()].sort((a, b) => compareStrings(a.topic, b.topic) || a.partition - b.partition);
  }

  // ---- the oracle's view --------------------------------------------------------------------

  /**
   * Every visible record of a topic (non-transactional or of a committed transaction), partition
   * by partition in offset order. Committed records behind a still-open transaction count: a
   * transaction left open is reported by `openTransactions`, not as lost output.
   */
  committedRecords(topic: string): CommittedRecord[] {
    const logs = this.logs(topic);
    // Made at their final size: these hold every output record of a run.
    const out = new Array<CommittedRecord>(visibleCount(logs));
    let k = 0;
    for (let p = 0; p < logs.length; p++) {
      const log = logs[p] as PartitionLog;
      log.forEachVisible((i) => {
        out[k++] = { partition: p, offset: i, value: log.value(i), ts: log.timestamp(i) };
      });
    }
    return out;
  }

  /** The values of `committedRecords(topic)`. */
  committed(topic: string): JsonValue[] {
    const logs = this.logs(topic);
    const out = new Array<JsonValue>(visibleCount(logs));
    let k = 0;
    for (const log of logs) {
      log.forEachVisible((i) => {
        out[k++] = log.value(i);
      });
    }
    return out;
  }

  // ---- internals ----------------------------------------------------------------------------

  private logs(topic: string): PartitionLog[] {
    const logs = this.topicLogs.get(topic);
    if (logs === undefined) throw new BrokerError("UNKNOWN_TOPIC_OR_PARTITION", `unknown topic ${topic}`);
    return logs;
  }

  private log(topic: string, partition: number): PartitionLog {
    const log = this.logs(topic)[partition];
    if (log === undefined || !Number.isInteger(partition)) {
      throw new BrokerError("UNKNOWN_TOPIC_OR_PARTITION", `topic ${topic} has no partition ${partition}`);
    }
    return log;
  }

  private appendEntries(log: PartitionLog, records: readonly ProducerRecord[], txn: Txn | null): number {
    const base = log.endOffset;
    log.pushAll(records, txn);
    return base;
  }

  /** The tid's state if `epoch` is its current epoch; throws INVALID_TXN_STATE or PRODUCER_FENCED otherwise. */
  private producer(tid: string, epoch: number, op: string): TidState {
    const st = this.tids.get(tid);
    if (st === undefined) throw new BrokerError("INVALID_TXN_STATE", `${op} by ${tid}: initTransactions was never called`);
    if (epoch < st.epoch) {
      this.trace.emit(this.options.traceNode, "fenced", { tid, epoch, currentEpoch: st.epoch, op });
      throw new FencedError(tid, epoch, st.epoch, op);
    }
    if (epoch > st.epoch) {
      throw new BrokerError("INVALID_TXN_STATE", `${op} by ${tid} with epoch ${epoch}, newer than the current epoch ${st.epoch}`);
    }
    return st;
  }

  private abortTxn(st: TidState, txn: Txn, reason: "init" | "abort" | "timeout"): void {
    this.close(st, txn, "aborted");
    this.trace.emit(this.options.traceNode, "txn-aborted", { tid: txn.tid, epoch: txn.epoch, records: txn.records, reason });
  }

  private close(st: TidState, txn: Txn, status: "committed" | "aborted"): void {
    if (txn.status !== "open") assert(false, `transaction ${txn.tid}#${txn.seq} closed twice`);
    txn.status = status;
    for (const log of txn.partitions) log.openTxns.delete(txn);
    this.scheduler.cancel(txn.timer);
    txn.timer = null;
    if (st.open === txn) st.open = null;
  }

  /** The transaction timeout fired: abort the transaction if still open and fence its producer. */
  private expire(txn: Txn): void {
    txn.timer = null;
    if (txn.status !== "open") return;
    const st = this.tids.get(txn.tid);
    if (!(st !== undefined && st.open === txn)) assert(false, `expired transaction ${txn.tid}#${txn.seq} is not its tid's open one`);
    this.abortTxn(st, txn, "timeout");
    st.epoch++;
  }
}

function visibleCount(logs: readonly PartitionLog[]): number {
  let n = 0;
  for (const log of logs) n += log.visibleCount();
  return n;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
