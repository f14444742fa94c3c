/**
 * Unit tests of the connectors against the real log broker, through a port whose answers are
 * delivered by hand: each broker call is queued and runs (and calls back) only when the test
 * delivers it, so the tests choose every interleaving (an epoch that arrives after the barrier, a
 * write acknowledged after the notification) and inject the broker's errors.
 */
import { describe, expect, test } from "vitest";
import { LogBroker } from "../../external/broker.ts";
import { Scheduler } from "../../sim/scheduler.ts";
import { Trace, type JsonValue } from "../../sim/trace.ts";
import type { SinkNode, SourceNode } from "../plan/plan.ts";
import { MAX_WATERMARK } from "../plan/functions.ts";
import { END, REC, type Element } from "./graph.ts";
import { AtLeastOnceSink, SourceOperator, TwoPhaseCommitSink, type BrokerErr, type BrokerPort, type FetchedValues, type SourceHost } from "./connectors.ts";

type Op = "endOffsets" | "fetch" | "append" | "upsert" | "initTransactions" | "write" | "commit" | "commitOffsets";

/** A BrokerPort over a LogBroker whose calls wait in a queue until delivered. */
class ManualPort implements BrokerPort {
  /** Every call, in call order: "<op> <first argument>". */
  readonly calls: string[] = [];
  private readonly queue: Array<{ readonly op: Op; readonly run: () => void }> = [];
  private readonly faults: Array<{ readonly op: Op; readonly err: BrokerErr | null }> = [];
  closed = 0;

  constructor(readonly broker: LogBroker) {}

  /** The next call of `op` to be delivered fails with `err` (instead of reaching the broker). */
  failNext(op: Op, code = "ECONNRESET", message = "connection reset"): void {
    this.faults.push({ op, err: { code, message } });
  }

  /** The next call of `op` to be delivered answers with neither an error nor a result. */
  emptyNext(op: Op): void {
    this.faults.push({ op, err: null });
  }

  /** Deliver the first queued call of `op` ahead of the others. */
  deliverFirst(op: Op): void {
    const i = this.queue.findIndex((q) => q.op === op);
    expect(i).toBeGreaterThanOrEqual(0);
    (this.queue.splice(i, 1)[0] as { run: () => void }).run();
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Deliver queued answers in call order, including those of calls made meanwhile; at most `n`. */
  deliver(n = 1000): void {
    for (let i = 0; i < n && this.queue.length > 0; i++) (this.queue.shift() as { run: () => void }).run();
    expect(this.queue.length === 0 || n < 1000).toBe(true);
  }

  /** Deliver everything, however many calls that takes (bounded). */
  deliverAll(): void {
    for (let i = 0; i < 100_000 && this.queue.length > 0; i++) (this.queue.shift() as { run: () => void }).run();
    expect(this.queue.length).toBe(0);
  }

  private call<T>(op: Op, arg: string, fn: () => T, cb: (err: BrokerErr | null, res?: T) => void): void {
    this.calls.push(`${op} ${arg}`);
    this.queue.push({
      op,
      run: () => {
        const f = this.faults.findIndex((x) => x.op === op);
        if (f >= 0) {
          const { err } = this.faults.splice(f, 1)[0] as { err: BrokerErr | null };
          return cb(err);
        }
        let res: T;
        try {
          res = fn();
        } catch (e) {
          return cb({ code: (e as { code: string }).code, message: (e as Error).message });
        }
        cb(null, res);
      },
    });
  }

  endOffsets(topic: string, cb: (err: BrokerErr | null, ends?: readonly number[]) => void): void {
    this.call("endOffsets", topic, () => Array.from({ length: this.broker.partitionCount(topic) }, (_, p) => this.broker.endOffset(topic, p)), cb);
  }
  fetch(topic: string, p: number, offset: number, max: number, cb: (err: BrokerErr | null, res?: FetchedValues) => void): void {
    this.call("fetch", `${topic}/${p}@${offset}+${max}`, () => this.broker.readValues(topic, p, offset, max), cb);
  }
  append(topic: string, p: number, records: Array<{ value: JsonValue; ts: number }>, cb: (err: BrokerErr | null) => void): void {
    this.call("append", `${topic}/${p}`, () => this.broker.append(topic, p, records), cb);
  }
  upsert(topic: string, entries: Array<{ key: string; value: JsonValue }>, cb: (err: BrokerErr | null) => void): void {
    this.call("upsert", topic, () => this.broker.upsertBatch(topic, entries), cb);
  }
  initTransactions(tid: string, cb: (err: BrokerErr | null, res?: { epoch: number; txnSeq: number }) => void): void {
    this.call("initTransactions", tid, () => this.broker.initTransactions(tid), cb);
  }
  write(tid: string, epoch: number, topic: string, p: number, values: JsonValue[], timestamps: number[], cb: (err: BrokerErr | null) => void): void {
    this.call("write", `${tid}@${epoch}`, () => this.broker.writeValues(tid, epoch, topic, p, values, timestamps), cb);
  }
  commit(tid: string, epoch: number, txnSeq: number, checkpointId: number, cb: (err: BrokerErr | null) => void): void {
    this.call("commit", `${tid}@${epoch}#${txnSeq}/${checkpointId}`, () => this.broker.commit(tid, epoch, txnSeq, { checkpointId }), cb);
  }
  commitOffsets(group: string, offsets: Array<{ topic: string; partition: number; offset: number }>, checkpointId: number, cb: (err: BrokerErr | null) => void): void {
    this.call("commitOffsets", `${group}/${checkpointId}`, () => this.broker.commitOffsets(group, offsets, checkpointId), cb);
  }
  close(): void {
    this.closed++;
  }
}

function newBroker(): LogBroker {
  const scheduler = new Scheduler();
  const broker = new LogBroker(scheduler, new Trace(scheduler));
  broker.createTopic("in", 3);
  broker.createTopic("out", 2);
  return broker;
}

const sinkNode = (sink: SinkNode["sink"] = "twoPhaseCommit"): SinkNode => ({ id: "out", kind: "sink", sink, topic: "out", parallelism: 2, inputs: [] });

/** A 2PC sink (subtask 1 of "out") with its failures collected. */
function twoPhase(port: ManualPort, checkpointing = true): { sink: TwoPhaseCommitSink; failures: string[]; idle: number[] } {
  const failures: string[] = [];
  const idle: number[] = [];
  const sink = new TwoPhaseCommitSink(sinkNode(), 1, port, (r) => failures.push(r), checkpointing);
  sink.onIdle = () => idle.push(idle.length);
  return { sink, failures, idle };
}

function opened(port: ManualPort, sink: TwoPhaseCommitSink): Array<string | undefined> {
  const results: Array<string | undefined> = [];
  sink.open((e) => results.push(e));
  port.deliver();
  return results;
}

function put(sink: TwoPhaseCommitSink | AtLeastOnceSink, ...values: number[]): void {
  for (const v of values) sink.processRecord(v, v);
  sink.afterStep?.();
}

const state = (s: JsonValue | (() => JsonValue)): JsonValue => (typeof s === "function" ? s() : s);
const uncommitted = (broker: LogBroker, p = 1): JsonValue[] => broker.read("out", p, 0, 1000, "read_uncommitted").records.map((r) => r.value);

describe("TwoPhaseCommitSink", () => {
  test("a fresh sink opens transaction out-1-0, writes a step's records into it, and commits them when its checkpoint completes", () => {
    const port = new ManualPort(newBroker());
    const { sink, failures } = twoPhase(port);
    expect(opened(port, sink)).toEqual([undefined]);
    put(sink, 1, 2);
    put(sink);
    port.deliver();
    expect(port.calls).toEqual(["initTransactions out-1-0", "write out-1-0@0"]);
    expect(uncommitted(port.broker)).toEqual([1, 2]);
    expect(port.broker.committed("out")).toEqual([]);
    const snap = sink.snapshot(1);
    const flushed: Array<string | undefined> = [];
    sink.flush(1, (e) => flushed.push(e));
    expect(flushed).toEqual([undefined]);
    // The state names the pre-committed transaction and the id to resume from (the one begun after the barrier).
    expect(state(snap)).toEqual({ pending: [{ tid: "out-1-0", k: 0, epoch: 0, txnSeq: 0, checkpointId: 1 }], nextK: 1 });
    port.deliver();
    expect(port.broker.committed("out")).toEqual([]);
    sink.notifyCheckpointComplete(1);
    port.deliver();
    expect(port.calls.slice(2)).toEqual(["initTransactions out-1-1", "commit out-1-0@0#0/1"]);
    expect(port.broker.committed("out")).toEqual([1, 2]);
    expect(port.broker.committedCheckpoint("out-1-0", 0)).toBe(1);
    expect(sink.isFinished()).toBe(false);
    expect(failures).toEqual([]);
  });

  test("records that arrive before the next transaction's epoch is known wait for it, and the flush waits for that epoch and those writes", () => {
    const port = new ManualPort(newBroker());
    const { sink, failures } = twoPhase(port);
    opened(port, sink);
    sink.snapshot(1);
    // out-1-1 is being initialised: its records are held, not written to out-1-0 nor before the epoch.
    put(sink, 5, 6);
    expect(port.calls).toEqual(["initTransactions out-1-0", "initTransactions out-1-1"]);
    const snap = sink.snapshot(2);
    const flushed: Array<string | undefined> = [];
    sink.flush(2, (e) => flushed.push(e));
    expect(flushed).toEqual([]);
    port.deliver(1); // the epoch of out-1-1: its held records are written now
    expect(port.calls.slice(2)).toEqual(["initTransactions out-1-2", "write out-1-1@0"]);
    expect(flushed).toEqual([]);
    port.deliver(1); // out-1-2's epoch
    expect(flushed).toEqual([]);
    port.deliver(1); // the write
    expect(flushed).toEqual([undefined]);
    expect(state(snap)).toEqual({
      pending: [
        { tid: "out-1-0", k: 0, epoch: 0, txnSeq: 0, checkpointId: 1 },
        { tid: "out-1-1", k: 1, epoch: 0, txnSeq: 0, checkpointId: 2 },
      ],
      nextK: 2,
    });
    expect(uncommitted(port.broker)).toEqual([5, 6]);
    expect(failures).toEqual([]);
  });

  test("a flush waits for the epochs of every transaction pending at its barrier, one arriving at a time", () => {
    const port = new ManualPort(newBroker());
    const { sink } = twoPhase(port);
    opened(port, sink);
    sink.snapshot(1); // out-1-1 begins
    sink.snapshot(2); // out-1-2 begins
    sink.snapshot(3); // out-1-1 and out-1-2 pending, both epochs unknown
    const flushed: Array<string | undefined> = [];
    sink.flush(3, (e) => flushed.push(e));
    port.deliver(1);
    expect(flushed).toEqual([]);
    port.deliver(1);
    expect(flushed).toEqual([undefined]);
  });

  test("a flush waits for every write issued before the barrier, and a second flush of the same step too", () => {
    const port = new ManualPort(newBroker());
    const { sink } = twoPhase(port);
    opened(port, sink);
    put(sink, 1);
    put(sink, 2);
    sink.snapshot(1);
    const flushed: Array<string | undefined> = [];
    sink.flush(1, (e) => flushed.push(`1:${String(e)}`));
    port.deliver(1); // the first write
    expect(flushed).toEqual([]);
    port.deliver(1); // the second
    expect(flushed).toEqual(["1:undefined"]);
    // A flush of an unknown barrier waits for every write issued so far.
    port.deliver();
    put(sink, 3);
    sink.flush(7, (e) => flushed.push(`7:${String(e)}`));
    expect(flushed).toEqual(["1:undefined"]);
    port.deliver();
    expect(flushed).toEqual(["1:undefined", "7:undefined"]);
  });

  test("a notification commits every pending transaction up to its id in order, after their writes are acknowledged, and no later one", () => {
    const port = new ManualPort(newBroker());
    const { sink, idle } = twoPhase(port);
    opened(port, sink);
    for (const id of [1, 2, 3]) {
      put(sink, 10 * id);
      sink.snapshot(id);
      port.deliver();
    }
    put(sink, 40);
    sink.notifyCheckpointComplete(2);
    expect(port.calls.filter((c) => c.startsWith("commit"))).toEqual([]);
    port.deliver(1); // the write of 40 (issued before the commit): only then the first commit
    expect(port.calls.filter((c) => c.startsWith("commit"))).toEqual(["commit out-1-0@0#0/1"]);
    port.deliver(1);
    expect(port.calls.filter((c) => c.startsWith("commit"))).toEqual(["commit out-1-0@0#0/1", "commit out-1-1@0#0/2"]);
    port.deliver();
    expect(port.broker.committed("out")).toEqual([10, 20]);
    expect(idle.length).toBe(2);
    // An older notification after a newer one commits nothing more.
    sink.notifyCheckpointComplete(1);
    port.deliver();
    expect(port.broker.committed("out")).toEqual([10, 20]);
    sink.notifyCheckpointComplete(3);
    port.deliver();
    expect(port.broker.committed("out")).toEqual([10, 20, 30]);
  });

  test("a pending transaction whose epoch is still unknown is committed once the epoch arrives", () => {
    const port = new ManualPort(newBroker());
    const { sink } = twoPhase(port);
    opened(port, sink);
    sink.snapshot(1); // out-1-1 begins, its epoch not yet known
    put(sink, 7);
    sink.snapshot(2); // out-1-1 pending for 2 without an epoch
    sink.notifyCheckpointComplete(2);
    expect(port.calls).toEqual(["initTransactions out-1-0", "initTransactions out-1-1", "initTransactions out-1-2", "commit out-1-0@0#0/1"]);
    port.deliver();
    expect(port.calls.filter((c) => c.startsWith("commit"))).toEqual(["commit out-1-0@0#0/1", "commit out-1-1@0#0/2"]);
    expect(port.broker.committed("out")).toEqual([7]);
  });

  test("a restored sink commits the restored pending transactions, then fences and aborts every lingering id from nextK on, and writes into the first", () => {
    const port = new ManualPort(newBroker());
    const first = twoPhase(port);
    opened(port, first.sink);
    put(first.sink, 1);
    const snap1 = first.sink.snapshot(1);
    port.deliver();
    const saved = state(snap1);
    // The first attempt goes on after checkpoint 1 (never completed): two more transactions stay open.
    put(first.sink, 2);
    first.sink.snapshot(2);
    port.deliver();
    put(first.sink, 3);
    port.deliver();
    expect(port.broker.openTransactions().map((t) => t.tid)).toEqual(["out-1-0", "out-1-1", "out-1-2"]);

    const second = twoPhase(port);
    second.sink.restore(saved);
    expect(opened(port, second.sink)).toEqual([undefined]);
    expect(port.calls.slice(-4)).toEqual(["commit out-1-0@0#0/1", "initTransactions out-1-1", "initTransactions out-1-2", "initTransactions out-1-3"]);
    expect(port.broker.openTransactions()).toEqual([]);
    expect(port.broker.committed("out")).toEqual([1]);
    // The new attempt writes into out-1-1 with its new epoch; the next transaction is out-1-2.
    put(second.sink, 4);
    second.sink.snapshot(3);
    port.deliver();
    expect(port.calls.slice(-2)).toEqual(["write out-1-1@1", "initTransactions out-1-2"]);
    // The zombie's next write is fenced.
    put(first.sink, 5);
    port.deliver();
    expect(first.failures).toEqual([expect.stringMatching(/^write to out-1-2 failed: PRODUCER_FENCED: /)]);
    expect(second.failures).toEqual([]);
  });

  test("a restored sink with nothing lingering continues with the restored id", () => {
    const port = new ManualPort(newBroker());
    const { sink } = twoPhase(port);
    sink.restore({ pending: [], nextK: 4 });
    expect(opened(port, sink)).toEqual([undefined]);
    expect(port.calls).toEqual(["initTransactions out-1-4"]);
    sink.snapshot(1);
    expect(port.calls).toEqual(["initTransactions out-1-4", "initTransactions out-1-5"]);
  });

  test("opening fails with the broker's error when recoverAndCommit or initTransactions fails", () => {
    const a = new ManualPort(newBroker());
    const s = twoPhase(a).sink;
    s.restore({ pending: [{ tid: "out-1-0", k: 0, epoch: 0, txnSeq: 0, checkpointId: 1 }], nextK: 1 });
    a.failNext("commit", "ECONNRESET", "connection reset");
    expect(opened(a, s)).toEqual(["recoverAndCommit of out-1-0 failed: ECONNRESET: connection reset"]);
    expect(a.calls).toEqual(["commit out-1-0@0#0/1"]);

    const b = new ManualPort(newBroker());
    const t = twoPhase(b).sink;
    b.failNext("initTransactions", "ETIMEDOUT", "no answer");
    expect(opened(b, t)).toEqual(["initTransactions(out-1-0) failed: ETIMEDOUT: no answer"]);
  });

  test("a failed write, initTransactions or commit fails the task with the transaction and the broker's error, and the flush reports the write error", () => {
    const port = new ManualPort(newBroker());
    const { sink, failures } = twoPhase(port);
    opened(port, sink);
    port.failNext("write", "ECONNRESET", "first");
    port.failNext("write", "ECONNRESET", "second");
    put(sink, 1);
    put(sink, 2);
    sink.snapshot(1);
    const flushed: Array<string | undefined> = [];
    sink.flush(1, (e) => flushed.push(e));
    port.failNext("initTransactions", "EIO", "disk");
    port.deliver();
    // The first error is the one reported.
    expect(flushed).toEqual(["ECONNRESET: first"]);
    expect(failures).toEqual(["write to out-1-0 failed: ECONNRESET: first", "write to out-1-0 failed: ECONNRESET: second", "initTransactions(out-1-1) failed: EIO: disk"]);

    const port2 = new ManualPort(newBroker());
    const two = twoPhase(port2);
    opened(port2, two.sink);
    put(two.sink, 1);
    two.sink.snapshot(1);
    port2.deliver();
    port2.failNext("commit", "PRODUCER_FENCED", "fenced");
    two.sink.notifyCheckpointComplete(1);
    port2.deliver();
    expect(two.failures).toEqual(["commit of out-1-0 for checkpoint 1 failed: PRODUCER_FENCED: fenced"]);
    // A failed commit is not retried by a later notification while the task fails.
    expect(port2.broker.committed("out")).toEqual([]);
    two.sink.notifyCheckpointComplete(1);
    port2.deliver();
    expect(port2.calls.filter((c) => c.startsWith("commit"))).toEqual(["commit out-1-0@0#0/1", "commit out-1-0@0#0/1"]);
  });

  test("a commit whose writes failed is not sent", () => {
    const port = new ManualPort(newBroker());
    const { sink } = twoPhase(port);
    opened(port, sink);
    port.failNext("write");
    put(sink, 1);
    sink.snapshot(1);
    sink.notifyCheckpointComplete(1);
    port.deliver();
    expect(port.calls.filter((c) => c.startsWith("commit"))).toEqual([]);
  });

  test("at the end of input with checkpointing, the last checkpoint's transaction commits, lingering ids are probed, and only then is the sink finished", () => {
    const port = new ManualPort(newBroker());
    const { sink, failures, idle } = twoPhase(port);
    opened(port, sink);
    put(sink, 1);
    sink.processRecord(2, 2);
    sink.endOfInput();
    port.deliver();
    expect(uncommitted(port.broker)).toEqual([1, 2]);
    expect(sink.isFinished()).toBe(false);
    sink.snapshot(1); // the final checkpoint: no transaction begins after it
    expect(port.calls.filter((c) => c.startsWith("initTransactions"))).toEqual(["initTransactions out-1-0"]);
    expect(sink.isFinished()).toBe(false);
    // A zombie took the next id meanwhile: the clean-up aborts it.
    port.broker.initTransactions("out-1-1");
    port.broker.write("out-1-1", 0, "out", 1, [{ value: 99, ts: 0 }]);
    sink.notifyCheckpointComplete(1);
    port.deliver(2); // the commit, then the first probe
    expect(sink.isFinished()).toBe(false);
    port.deliver();
    expect(port.calls.slice(-3)).toEqual(["commit out-1-0@0#0/1", "initTransactions out-1-1", "initTransactions out-1-2"]);
    expect(port.broker.openTransactions()).toEqual([]);
    expect(port.broker.committed("out")).toEqual([1, 2]);
    expect(sink.isFinished()).toBe(true);
    expect(idle.length).toBe(2);
    // Records after the end fail the task.
    put(sink, 3);
    expect(failures).toEqual(["records arrived after the sink finished"]);
  });

  test("a failed clean-up probe fails the task", () => {
    const port = new ManualPort(newBroker());
    const { sink, failures } = twoPhase(port);
    opened(port, sink);
    sink.endOfInput();
    sink.snapshot(1);
    sink.notifyCheckpointComplete(1);
    port.failNext("initTransactions", "ECONNREFUSED", "down");
    port.deliver();
    expect(failures).toEqual(["initTransactions(out-1-1) failed: ECONNREFUSED: down"]);
    expect(sink.isFinished()).toBe(false);
  });

  test("without checkpointing, the last transaction commits once its writes are acknowledged at the end of input", () => {
    const port = new ManualPort(newBroker());
    const { sink } = twoPhase(port, false);
    opened(port, sink);
    put(sink, 1);
    sink.processRecord(2, 2);
    sink.endOfInput();
    expect(port.calls).toEqual(["initTransactions out-1-0", "write out-1-0@0", "write out-1-0@0"]);
    port.deliver(1);
    expect(port.calls.filter((c) => c.startsWith("commit"))).toEqual([]);
    port.deliver();
    expect(port.calls.filter((c) => c.startsWith("commit"))).toEqual(["commit out-1-0@0#0/0"]);
    expect(port.broker.committed("out")).toEqual([1, 2]);
    expect(sink.isFinished()).toBe(true);
  });

  test("without checkpointing, a failed write leaves the last transaction uncommitted", () => {
    const port = new ManualPort(newBroker());
    const { sink, failures } = twoPhase(port, false);
    opened(port, sink);
    port.failNext("write");
    put(sink, 1);
    sink.endOfInput();
    port.deliver();
    expect(port.calls.filter((c) => c.startsWith("commit"))).toEqual([]);
    expect(failures.length).toBe(1);
  });

  test("with checkpointing, the end of input commits nothing by itself", () => {
    const port = new ManualPort(newBroker());
    const { sink } = twoPhase(port, true);
    opened(port, sink);
    put(sink, 1);
    sink.endOfInput();
    port.deliver();
    expect(port.calls.filter((c) => c.startsWith("commit"))).toEqual([]);
  });

  test("the state of a checkpoint keeps the transactions pending at its barrier, even once an older checkpoint committed some of them", () => {
    const port = new ManualPort(newBroker());
    const { sink } = twoPhase(port);
    opened(port, sink);
    put(sink, 1);
    sink.snapshot(1);
    port.deliver();
    put(sink, 2);
    const snap2 = sink.snapshot(2);
    port.deliver();
    sink.notifyCheckpointComplete(1);
    port.deliver();
    expect(port.broker.committed("out")).toEqual([1]);
    expect(state(snap2)).toEqual({
      pending: [
        { tid: "out-1-0", k: 0, epoch: 0, txnSeq: 0, checkpointId: 1 },
        { tid: "out-1-1", k: 1, epoch: 0, txnSeq: 0, checkpointId: 2 },
      ],
      nextK: 2,
    });
  });

  test("a pending transaction is not committed while its epoch is unknown, even when the commit before it completes first", () => {
    const port = new ManualPort(newBroker());
    const { sink, failures } = twoPhase(port);
    opened(port, sink);
    sink.snapshot(1); // out-1-1 begins
    sink.snapshot(2); // out-1-1 pending for 2, epoch unknown; out-1-2 begins
    sink.notifyCheckpointComplete(2);
    port.deliverFirst("commit"); // out-1-0's commit completes before out-1-1's epoch is known
    expect(port.calls.filter((c) => c.startsWith("commit"))).toEqual(["commit out-1-0@0#0/1"]);
    port.deliver();
    expect(port.calls.filter((c) => c.startsWith("commit"))).toEqual(["commit out-1-0@0#0/1", "commit out-1-1@0#0/2"]);
    expect(failures).toEqual([]);
  });

  test("after a failed write, every later flush reports the first error at once, without waiting for writes still in flight", () => {
    const port = new ManualPort(newBroker());
    const { sink } = twoPhase(port);
    opened(port, sink);
    port.failNext("write", "ECONNRESET", "first");
    port.failNext("write", "EPIPE", "second");
    put(sink, 1);
    put(sink, 2);
    put(sink, 3);
    sink.snapshot(1);
    const flushed: Array<string | undefined> = [];
    sink.flush(1, (e) => flushed.push(e));
    port.deliver(1);
    expect(flushed).toEqual(["ECONNRESET: first"]);
    port.deliver();
    sink.flush(2, (e) => flushed.push(e));
    expect(flushed).toEqual(["ECONNRESET: first", "ECONNRESET: first"]);
  });

  test("an answer without a result fails opening, beginning a transaction and the clean-up alike", () => {
    const a = new ManualPort(newBroker());
    const s = twoPhase(a).sink;
    a.emptyNext("initTransactions");
    expect(opened(a, s)).toEqual(["initTransactions(out-1-0) failed: no result"]);

    const b = new ManualPort(newBroker());
    const t = twoPhase(b);
    opened(b, t.sink);
    b.emptyNext("initTransactions");
    t.sink.snapshot(1);
    b.deliver();
    expect(t.failures).toEqual(["initTransactions(out-1-1) failed: no result"]);

    const c = new ManualPort(newBroker());
    const u = twoPhase(c);
    opened(c, u.sink);
    u.sink.endOfInput();
    u.sink.snapshot(1);
    u.sink.notifyCheckpointComplete(1);
    c.deliver(1);
    c.emptyNext("initTransactions");
    c.deliver();
    expect(u.failures).toEqual(["initTransactions(out-1-1) failed: no result"]);
    expect(u.sink.isFinished()).toBe(false);
  });

  test("the lingering-id probes give up after 10000 used ids, when opening and when cleaning up", () => {
    const broker = newBroker();
    for (let k = 0; k <= 10_002; k++) broker.initTransactions(`out-1-${k}`);
    const a = new ManualPort(broker);
    const s = twoPhase(a).sink;
    const results: Array<string | undefined> = [];
    s.open((e) => results.push(e));
    a.deliverAll();
    expect(results).toEqual(["could not find an unused transactional id after 10000 probes"]);
    expect(a.calls.length).toBe(10_001);

    const broker2 = newBroker();
    for (let k = 1; k <= 10_003; k++) broker2.initTransactions(`out-1-${k}`);
    const b = new ManualPort(broker2);
    const u = twoPhase(b);
    opened(b, u.sink);
    u.sink.endOfInput();
    u.sink.snapshot(1);
    u.sink.notifyCheckpointComplete(1);
    b.deliverAll();
    expect(u.failures).toEqual(["could not find an unused transactional id after 10000 probes"]);
    expect(b.calls.length).toBe(2 + 10_001);
  });

  test("the clean-up waits until the input ended, nothing is pending and no transaction is open", () => {
    const port = new ManualPort(newBroker());
    const { sink } = twoPhase(port);
    opened(port, sink);
    put(sink, 1);
    sink.snapshot(1); // out-1-0 pending for 1, out-1-1 begins
    put(sink, 2);
    sink.endOfInput(); // out-1-1 still open
    sink.notifyCheckpointComplete(1);
    port.deliver();
    const probes = (): string[] => port.calls.filter((c) => c.startsWith("initTransactions") && !["initTransactions out-1-0", "initTransactions out-1-1"].includes(c));
    expect(probes()).toEqual([]);
    sink.snapshot(2);
    sink.snapshot(3); // nothing new pending
    put(sink); // nothing to write
    sink.notifyCheckpointComplete(1);
    port.deliver();
    expect(probes()).toEqual([]);
    sink.notifyCheckpointComplete(3);
    port.deliver();
    expect(probes()).toEqual(["initTransactions out-1-2"]);
    expect(sink.isFinished()).toBe(true);
    // A record arriving after the end keeps the sink from finishing.
    sink.processRecord(9, 9);
    expect(sink.isFinished()).toBe(false);
  });

  test("with a restored pending transaction for an older checkpoint and one for a newer, the clean-up waits for both", () => {
    const port = new ManualPort(newBroker());
    const { sink } = twoPhase(port);
    opened(port, sink);
    put(sink, 1);
    sink.snapshot(1);
    put(sink, 2);
    sink.endOfInput();
    sink.snapshot(2); // out-1-0 for 1, out-1-1 for 2
    port.deliver();
    sink.notifyCheckpointComplete(1);
    port.deliver();
    expect(port.calls.filter((c) => c === "initTransactions out-1-2")).toEqual([]);
    sink.notifyCheckpointComplete(2);
    port.deliver();
    expect(port.calls.filter((c) => c === "initTransactions out-1-2")).toEqual(["initTransactions out-1-2"]);
  });

  test("a sink whose task registered no idle callback still commits and finishes", () => {
    const port = new ManualPort(newBroker());
    const sink = new TwoPhaseCommitSink(sinkNode(), 1, port, () => {}, true);
    sink.open(() => {});
    port.deliver();
    put(sink, 1);
    sink.endOfInput();
    sink.snapshot(1);
    sink.notifyCheckpointComplete(1);
    port.deliver();
    expect(port.broker.committed("out")).toEqual([1]);
    expect(sink.isFinished()).toBe(true);
  });

  test("close closes the broker connection", () => {
    const port = new ManualPort(newBroker());
    twoPhase(port).sink.close();
    expect(port.closed).toBe(1);
  });
});

describe("AtLeastOnceSink", () => {
  function plain(port: ManualPort, upsert = false): { sink: AtLeastOnceSink; failures: string[] } {
    const failures: string[] = [];
    const sink = new AtLeastOnceSink(sinkNode(upsert ? "upsert" : "plain"), 1, port, (r) => failures.push(r), upsert ? (v) => `k${String(v)}` : undefined);
    return { sink, failures };
  }

  test("a plain sink appends each step's records to its partition, and a step without records writes nothing", () => {
    const port = new ManualPort(newBroker());
    const { sink } = plain(port);
    const done: Array<string | undefined> = [];
    sink.open((e) => done.push(e));
    expect(done).toEqual([undefined]);
    sink.restore();
    put(sink, 1, 2);
    put(sink);
    sink.processRecord(3, 3);
    sink.endOfInput();
    port.deliver();
    expect(port.calls).toEqual(["append out/1", "append out/1"]);
    expect(port.broker.committed("out")).toEqual([1, 2, 3]);
  });

  test("an upsert sink writes its records keyed by the upsert key", () => {
    const port = new ManualPort(newBroker());
    const { sink } = plain(port, true);
    put(sink, 1, 2);
    port.deliver();
    expect(port.calls).toEqual(["upsert out"]);
    expect(port.broker.table("out")).toEqual([
      ["k1", 1],
      ["k2", 2],
    ]);
  });

  test("the barrier writes out the batch, and its flush waits for the writes before it, not for later ones", () => {
    const port = new ManualPort(newBroker());
    const { sink } = plain(port);
    sink.processRecord(1, 1);
    expect(sink.snapshot(1)).toBeNull();
    expect(port.calls).toEqual(["append out/1"]);
    put(sink, 2);
    const flushed: Array<string | undefined> = [];
    sink.flush(1, (e) => flushed.push(e));
    expect(flushed).toEqual([]);
    port.deliver(1);
    expect(flushed).toEqual([undefined]);
    // An unknown barrier (or a second flush of the same one) waits for everything issued.
    sink.flush(1, (e) => flushed.push(`again ${String(e)}`));
    expect(flushed).toEqual([undefined]);
    port.deliver(1);
    expect(flushed).toEqual([undefined, "again undefined"]);
  });

  test("a failed write fails the task naming the sink and the error, and the flush reports it", () => {
    const port = new ManualPort(newBroker());
    const { sink, failures } = plain(port);
    port.failNext("append", "ECONNRESET", "gone");
    put(sink, 1);
    sink.snapshot(1);
    const flushed: Array<string | undefined> = [];
    sink.flush(1, (e) => flushed.push(e));
    port.deliver();
    expect(failures).toEqual(["sink out write failed: ECONNRESET: gone"]);
    expect(flushed).toEqual(["ECONNRESET: gone"]);
  });

  test("close closes the broker connection", () => {
    const port = new ManualPort(newBroker());
    plain(port).sink.close();
    expect(port.closed).toBe(1);
  });
});

describe("SourceOperator", () => {
  class Host implements SourceHost {
    readonly fed: Element[] = [];
    readonly emitted: Array<[JsonValue, number]> = [];
    readonly watermarks: number[] = [];
    readonly failures: string[] = [];
    readonly wakes: Array<{ at: number; fn: () => void }> = [];
    pressure = false;
    pendingInput = false;
    time = 0;
    emit(value: JsonValue, ts: number): void {
      this.emitted.push([value, ts]);
    }
    feed(elements: Element[]): void {
      this.fed.push(...elements);
    }
    emitWatermark(wm: number): void {
      this.watermarks.push(wm);
    }
    backpressured(): boolean {
      return this.pressure;
    }
    hasPendingInput(): boolean {
      return this.pendingInput;
    }
    fail(reason: string): void {
      this.failures.push(reason);
    }
    now(): number {
      return this.time;
    }
    wakeAt(timeMs: number, fn: () => void): void {
      this.wakes.push({ at: timeMs, fn });
    }
    /** Process every fed record (as the task would), then run the source's after-step. */
    process(src: SourceOperator): void {
      const records = this.fed.filter((e) => e.k === REC);
      this.fed.splice(0, this.fed.length, ...this.fed.filter((e) => e.k !== REC));
      for (const e of records) if (e.k === REC) src.processRecord(e.v, e.ts);
      src.afterStep();
    }
  }

  const srcNode = (o: Partial<SourceNode> = {}): SourceNode => ({ id: "in", kind: "source", topic: "in", parallelism: 2, inputs: [], ...o });

  /** Topic "in": partition p holds `counts[p]` records { p, i } with timestamps `ts(p, i)`. */
  function loaded(counts: readonly number[], ts: (p: number, i: number) => number = (_p, i) => 10 * i): ManualPort {
    const broker = newBroker();
    counts.forEach((n, p) => broker.load("in", p, Array.from({ length: n }, (_, i) => ({ value: { p, i }, ts: ts(p, i) }))));
    return new ManualPort(broker);
  }

  function source(port: ManualPort, o: { node?: Partial<SourceNode>; subtask?: number; fetchMax?: number; pacing?: "none" | "eventTime"; restore?: JsonValue } = {}) {
    const host = new Host();
    const src =
      o.pacing === undefined
        ? new SourceOperator(srcNode(o.node), o.subtask ?? 0, port, host, o.fetchMax ?? 2)
        : new SourceOperator(srcNode(o.node), o.subtask ?? 0, port, host, o.fetchMax ?? 2, o.pacing);
    if (o.restore !== undefined) src.restore(o.restore);
    const opened: Array<string | undefined> = [];
    src.open((e) => opened.push(e));
    return { host, src, opened };
  }

  /** Deliver and process until the source feeds its end (bounded). */
  function drain(port: ManualPort, host: Host, src: SourceOperator): void {
    for (let i = 0; i < 100 && !host.fed.some((e) => e.k === END); i++) {
      port.deliver();
      host.process(src);
    }
  }

  test("subtask 0 of 2 reads partitions 0 and 2 round robin, fetchMax records at a time, emits every record once, then ends", () => {
    const port = loaded([3, 2, 1]);
    const { host, src, opened } = source(port);
    port.deliver(1);
    expect(opened).toEqual([undefined]);
    drain(port, host, src);
    expect(port.calls).toEqual(["endOffsets in", "fetch in/0@0+2", "fetch in/2@0+1", "fetch in/0@2+1"]);
    expect(host.emitted).toEqual([
      [{ p: 0, i: 0 }, 0],
      [{ p: 0, i: 1 }, 10],
      [{ p: 2, i: 0 }, 0],
      [{ p: 0, i: 2 }, 20],
    ]);
    expect(host.fed).toEqual([{ k: END }]);
    expect(host.failures).toEqual([]);
    // Ended: nothing more is fetched.
    src.idle();
    expect(port.queued).toBe(0);
  });

  test("a restored source resumes each partition at its checkpointed offset, and partitions it had none for at 0", () => {
    const port = loaded([4, 4, 4]);
    const { host, src } = source(port, { subtask: 1, node: { parallelism: 2 }, restore: { offsets: [[1, 3]] } });
    drain(port, host, src);
    expect(host.emitted).toEqual([[{ p: 1, i: 3 }, 30]]);
    // Subtask 1 of 2 over 3 partitions owns partition 1 only.
    expect(src.snapshot(1)).toEqual({ offsets: [[1, 4]] });
    const port2 = loaded([3, 0, 2]);
    const s2 = source(port2, { restore: { offsets: [[2, 1]] } });
    drain(port2, s2.host, s2.src);
    expect(s2.host.emitted.map(([v]) => v)).toEqual([{ p: 0, i: 0 }, { p: 0, i: 1 }, { p: 2, i: 1 }, { p: 0, i: 2 }]);
  });

  test("a source with empty partitions ends at once", () => {
    const port = loaded([0, 0, 0]);
    const { host, src } = source(port);
    drain(port, host, src);
    expect(port.calls).toEqual(["endOffsets in"]);
    expect(host.fed).toEqual([{ k: END }]);
  });

  test("the end is fed only once every fetched record was processed", () => {
    const port = loaded([1, 0, 0]);
    const { host, src } = source(port);
    port.deliver();
    port.deliver();
    expect(host.fed.map((e) => e.k)).toEqual([REC]);
    src.idle();
    expect(host.fed.map((e) => e.k)).toEqual([REC]);
    host.process(src);
    expect(host.fed).toEqual([{ k: END }]);
  });

  test("no fetch while fetched input waits, while backpressured, or while a fetch is in flight", () => {
    const port = loaded([5, 0, 0]);
    const { host, src } = source(port);
    port.deliver(1);
    expect(port.calls).toEqual(["endOffsets in", "fetch in/0@0+2"]);
    src.idle();
    expect(port.calls.length).toBe(2);
    port.deliver(1);
    host.pendingInput = true;
    src.idle();
    expect(port.calls.length).toBe(2);
    host.pendingInput = false;
    host.pressure = true;
    src.idle();
    expect(port.calls.length).toBe(2);
    host.pressure = false;
    src.idle();
    expect(port.calls).toEqual(["endOffsets in", "fetch in/0@0+2", "fetch in/0@2+2"]);
  });

  test("failures to get end offsets or to fetch name the source and the broker's error", () => {
    const port = loaded([1, 0, 0]);
    port.failNext("endOffsets", "UNKNOWN_TOPIC_OR_PARTITION", "no topic");
    const a = source(port);
    port.deliver();
    expect(a.opened).toEqual(["source in: UNKNOWN_TOPIC_OR_PARTITION: no topic"]);
    expect(port.calls).toEqual(["endOffsets in"]);
    const port2 = loaded([1, 0, 0]);
    const b = source(port2);
    port2.deliver(1);
    port2.failNext("fetch", "ECONNRESET", "reset");
    port2.deliver(1);
    expect(b.host.failures).toEqual(["source in fetch: ECONNRESET: reset"]);
    expect(b.host.emitted).toEqual([]);
  });

  test("bounded out-of-orderness watermarks: the minimum over partitions of max timestamp - bound - 1, rising only, ended partitions not holding back, MAX left to the task", () => {
    const port = loaded([3, 0, 2], (p, i) => (p === 0 ? [100, 50, 300][i] ?? 0 : [40, 500][i] ?? 0));
    const { host, src } = source(port, { node: { watermark: { outOfOrdernessMs: 10 } }, fetchMax: 1 });
    port.deliver(1);
    const seen: number[][] = [];
    for (let i = 0; i < 20 && !host.fed.some((e) => e.k === END); i++) {
      port.deliver();
      host.process(src);
      seen.push([...host.watermarks]);
    }
    // p0: 100 (p2 unknown: nothing), p2: 40 -> min(89, 29) = 29; p0: 50 -> still 29; p2: 500 -> ended p2, min(89) = 89;
    // p0: 300 -> p0 ended too: MAX, not emitted here.
    expect(host.watermarks).toEqual([29, 89]);
    expect(host.watermarks.every((w) => w < MAX_WATERMARK)).toBe(true);
    expect(seen[0]).toEqual([]);
  });

  test("a source without a watermark strategy emits no watermarks", () => {
    const port = loaded([2, 0, 2]);
    const { host, src } = source(port);
    drain(port, host, src);
    expect(host.watermarks).toEqual([]);
  });

  test("the snapshot holds the offsets of the records emitted; a completed checkpoint commits its offsets, or the newest older one's, once", () => {
    const port = loaded([3, 0, 1]);
    const { host, src } = source(port, { fetchMax: 1 });
    port.deliver(1);
    port.deliver(1);
    host.process(src); // p0 offset 1
    expect(src.snapshot(1)).toEqual({ offsets: [[0, 1], [2, 0]] });
    port.deliver(1);
    host.process(src); // p2 offset 1
    expect(src.snapshot(2)).toEqual({ offsets: [[0, 1], [2, 1]] });
    expect(src.snapshot(3)).toEqual({ offsets: [[0, 1], [2, 1]] });
    src.notifyCheckpointComplete(0);
    expect(port.calls.filter((c) => c.startsWith("commitOffsets"))).toEqual([]);
    src.notifyCheckpointComplete(2);
    port.deliver();
    expect(port.calls.filter((c) => c.startsWith("commitOffsets"))).toEqual(["commitOffsets streamsim-in/2"]);
    expect(port.broker.committedOffsets("streamsim-in")).toEqual([
      { topic: "in", partition: 0, offset: 1 },
      { topic: "in", partition: 2, offset: 1 },
    ]);
    // 1 and 2 are gone: a repeated notification commits nothing; 3 is still there.
    src.notifyCheckpointComplete(2);
    expect(port.calls.filter((c) => c.startsWith("commitOffsets"))).toEqual(["commitOffsets streamsim-in/2"]);
    src.notifyCheckpointComplete(5);
    expect(port.calls.filter((c) => c.startsWith("commitOffsets"))).toEqual(["commitOffsets streamsim-in/2", "commitOffsets streamsim-in/3"]);
  });

  test("a checkpoint notified out of order commits the newest snapshot at or below it", () => {
    const port = loaded([3, 0, 0]);
    const { src } = source(port);
    port.deliver(1);
    src.snapshot(4);
    src.snapshot(2);
    src.snapshot(6);
    src.notifyCheckpointComplete(5);
    expect(port.calls.filter((c) => c.startsWith("commitOffsets"))).toEqual(["commitOffsets streamsim-in/4"]);
    src.notifyCheckpointComplete(5);
    expect(port.calls.filter((c) => c.startsWith("commitOffsets"))).toEqual(["commitOffsets streamsim-in/4"]);
  });

  test("with event-time pacing, records are emitted only once simulated time reaches their timestamp, and the source wakes up then", () => {
    const port = loaded([3, 0, 0], (_p, i) => [0, 50, 30][i] ?? 0);
    const { host, src } = source(port, { pacing: "eventTime", fetchMax: 5 });
    port.deliver();
    host.process(src);
    expect(host.emitted.map(([v]) => v)).toEqual([{ p: 0, i: 0 }]);
    port.deliver();
    host.process(src);
    // The next record arrives at 50 (and the one after it, stamped 30, not before 50 either).
    expect(host.wakes.map((w) => w.at)).toEqual([50]);
    src.idle();
    expect(host.wakes.map((w) => w.at)).toEqual([50]);
    host.time = 50;
    host.wakes[0]?.fn();
    drain(port, host, src);
    expect(host.emitted.map(([v]) => v)).toEqual([{ p: 0, i: 0 }, { p: 0, i: 1 }, { p: 0, i: 2 }]);
    expect(host.fed).toEqual([{ k: END }]);
  });

  test("an answer without end offsets or without records is handled: the open fails, an empty fetch is retried", () => {
    const port = loaded([1, 0, 0]);
    port.emptyNext("endOffsets");
    const a = source(port);
    port.deliver();
    expect(a.opened).toEqual(["source in: no end offsets"]);
    const port2 = loaded([1, 0, 0]);
    const b = source(port2);
    port2.deliver(1);
    port2.emptyNext("fetch");
    drain(port2, b.host, b.src);
    expect(port2.calls).toEqual(["endOffsets in", "fetch in/0@0+1", "fetch in/0@0+1"]);
    expect(b.host.emitted).toEqual([[{ p: 0, i: 0 }, 0]]);
  });

  test("with event-time pacing over two partitions, the source wakes at the earliest arrival, once, and again for the next", () => {
    const port = loaded([2, 0, 2], (p, i) => (p === 0 ? [0, 50] : [0, 40])[i] ?? 0);
    const { host, src } = source(port, { pacing: "eventTime", fetchMax: 5 });
    for (let i = 0; i < 6; i++) {
      port.deliver();
      host.process(src);
    }
    expect(host.emitted.map(([v]) => v)).toEqual([{ p: 0, i: 0 }, { p: 2, i: 0 }]);
    expect(host.wakes.map((w) => w.at)).toEqual([40]);
    src.idle();
    expect(host.wakes.map((w) => w.at)).toEqual([40]);
    host.time = 40;
    host.wakes[0]?.fn();
    for (let i = 0; i < 6; i++) {
      port.deliver();
      host.process(src);
    }
    expect(host.emitted.map(([v]) => v)).toEqual([{ p: 0, i: 0 }, { p: 2, i: 0 }, { p: 2, i: 1 }]);
    expect(host.wakes.map((w) => w.at)).toEqual([40, 50]);
    // A stale wake-up (for an earlier time) does not cancel the pending one.
    host.wakes[0]?.fn();
    src.idle();
    expect(host.wakes.map((w) => w.at)).toEqual([40, 50]);
    host.time = 50;
    host.wakes[1]?.fn();
    drain(port, host, src);
    expect(host.emitted.length).toBe(4);
    expect(host.fed).toEqual([{ k: END }]);
  });

  test("close closes the broker connection", () => {
    const port = loaded([0, 0, 0]);
    source(port).src.close();
    expect(port.closed).toBe(1);
  });
});
