import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { Scheduler } from "../sim/scheduler.ts";
import { Trace, recordsDigest } from "../sim/trace.ts";
import type { JsonValue, TraceEvent } from "../sim/trace.ts";
import { BrokerError, FencedError, LogBroker, validateLogBrokerOptions, defaultLogBrokerOptions } from "./broker.ts";
import type { LogBrokerOptions } from "./broker.ts";

function setup(options: Partial<LogBrokerOptions> = {}): { scheduler: Scheduler; trace: Trace; broker: LogBroker } {
  const scheduler = new Scheduler({ maxEvents: 100_000, maxTimeMs: 1_000_000 });
  const trace = new Trace(scheduler);
  const broker = new LogBroker(scheduler, trace, options);
  return { scheduler, trace, broker };
}

const recs = (...values: JsonValue[]) => values.map((value, i) => ({ value, ts: i }));

function values(broker: LogBroker, topic: string, partition: number, isolation: "read_committed" | "read_uncommitted"): JsonValue[] {
  return broker.read(topic, partition, 0, 1000, isolation).records.map((r) => r.value);
}

function kinds(trace: Trace, kind: string): TraceEvent[] {
  return trace.events().filter((e) => e.kind === kind);
}

function thrown(fn: () => unknown): BrokerError {
  try {
    fn();
  } catch (e) {
    if (e instanceof BrokerError) return e;
    throw e;
  }
  throw new Error("expected a BrokerError, nothing was thrown");
}

test("logs longer than one storage chunk read back every record at every offset, committed or not", () => {
  const { broker } = setup();
  broker.createTopic("t", 1);
  const n = 10_000;
  const loaded = Array.from({ length: n }, (_, i) => ({ value: { i }, ts: i * 0.5 }));
  broker.load("t", 0, loaded);
  broker.initTransactions("a");
  for (let i = 0; i < 3; i++) broker.write("a", 0, "t", 0, Array.from({ length: 3000 }, (_, k) => ({ value: n + i * 3000 + k, ts: k })));
  broker.commit("a", 0, 0, { checkpointId: 1 });
  broker.initTransactions("b");
  broker.write("b", 0, "t", 0, recs("aborted"));
  broker.abort("b", 0);
  expect(broker.endOffset("t", 0)).toBe(n + 9000 + 1);
  for (const offset of [0, 4095, 4096, 8191, 8192, 9999, 10_000, 12_287, 12_288, 18_997]) {
    const r = broker.read("t", 0, offset, 3, "read_uncommitted").records;
    expect(r.map((x) => x.offset)).toEqual([offset, offset + 1, offset + 2]);
    for (const x of r) {
      if (x.offset < n) expect(x).toEqual({ offset: x.offset, value: { i: x.offset }, ts: x.offset * 0.5 });
      else expect(x).toEqual({ offset: x.offset, value: x.offset, ts: (x.offset - n) % 3000 });
    }
  }
  const committed = broker.committed("t");
  expect(committed.length).toBe(n + 9000);
  expect(committed[n - 1]).toEqual({ i: n - 1 });
  expect(committed[n + 8999]).toBe(n + 8999);
  const tail = broker.read("t", 0, n + 8998, 10, "read_committed");
  expect(tail.records.map((x) => x.value)).toEqual([n + 8998, n + 8999]);
  expect(tail.nextOffset).toBe(n + 9001);
  expect(broker.committedRecords("t")[n]).toEqual({ partition: 0, offset: n, value: n, ts: 0 });
});

test("readValues is a read_uncommitted read as parallel arrays of values and timestamps", () => {
  const { broker } = setup();
  broker.createTopic("t", 1);
  broker.load("t", 0, recs("a", "b", "c", "d"));
  broker.initTransactions("x");
  broker.write("x", 0, "t", 0, recs("open"));
  for (const [offset, max] of [[0, 10], [1, 2], [4, 1], [5, 3]] as const) {
    const full = broker.read("t", 0, offset, max, "read_uncommitted");
    const cols = broker.readValues("t", 0, offset, max);
    expect(cols).toEqual({ offset, values: full.records.map((r) => r.value), timestamps: full.records.map((r) => r.ts), endOffset: full.endOffset });
    expect(offset + cols.values.length).toBe(full.nextOffset);
  }
  expect(thrown(() => broker.readValues("t", 0, 6, 1)).code).toBe("OFFSET_OUT_OF_RANGE");
  expect(thrown(() => broker.readValues("t", 1, 0, 1)).code).toBe("UNKNOWN_TOPIC_OR_PARTITION");
});

test("writeValues has the effect, result, trace and errors of write with the same records", () => {
  const a = setup();
  const b = setup();
  for (const { broker } of [a, b]) {
    broker.createTopic("t", 2);
    broker.initTransactions("x");
  }
  const batches = [recs({ k: "a" }, 1), recs(), recs("z", null, [1, 2])];
  for (const [i, batch] of batches.entries()) {
    const p = i % 2;
    const viaRecords = a.broker.write("x", 0, "t", p, batch);
    const viaValues = b.broker.writeValues("x", 0, "t", p, batch.map((r) => r.value), batch.map((r) => r.ts));
    expect(viaValues).toEqual(viaRecords);
  }
  expect(b.broker.currentTxn("x")).toEqual(a.broker.currentTxn("x"));
  a.broker.commit("x", 0, 0, { checkpointId: 3 });
  b.broker.commit("x", 0, 0, { checkpointId: 3 });
  expect(b.broker.committedRecords("t")).toEqual(a.broker.committedRecords("t"));
  expect(b.trace.events()).toEqual(a.trace.events());
  expect(b.trace.hash()).toBe(a.trace.hash());
  b.broker.initTransactions("x");
  expect(thrown(() => b.broker.writeValues("x", 0, "t", 0, [1], [1])).code).toBe("PRODUCER_FENCED");
  expect(thrown(() => b.broker.writeValues("x", 1, "t", 9, [1], [1])).code).toBe("UNKNOWN_TOPIC_OR_PARTITION");
  expect(() => b.broker.writeValues("x", 1, "t", 0, [1], [Number.NaN])).toThrow(/finite/);
  expect(() => b.broker.writeValues("x", 1, "t", 0, [1, 2], [1])).toThrow(/2 values but 1 timestamps/);
});

describe("read_committed visibility", () => {
  test("an open transaction's records are invisible and the read stops at the last stable offset", () => {
    const { broker } = setup();
    broker.createTopic("out", 1);
    broker.load("out", 0, recs("a", "b"));
    const { epoch } = broker.initTransactions("t");
    broker.write("t", epoch, "out", 0, recs("x", "y"));
    broker.append("out", 0, recs("c"));

    const rc = broker.read("out", 0, 0, 100, "read_committed");
    expect(rc.records.map((r) => r.value)).toEqual(["a", "b"]);
    expect(rc.endOffset).toBe(2);
    expect(rc.nextOffset).toBe(2);
    expect(broker.lastStableOffset("out", 0)).toBe(2);
    expect(values(broker, "out", 0, "read_uncommitted")).toEqual(["a", "b", "x", "y", "c"]);
    expect(broker.endOffset("out", 0)).toBe(5);

    broker.commit("t", epoch, 0, { checkpointId: 1 });
    expect(values(broker, "out", 0, "read_committed")).toEqual(["a", "b", "x", "y", "c"]);
    expect(broker.lastStableOffset("out", 0)).toBe(5);
  });

  test("aborted records are skipped and the next offset moves past them", () => {
    const { broker } = setup();
    broker.createTopic("out", 1);
    const { epoch } = broker.initTransactions("t");
    broker.write("t", epoch, "out", 0, recs("x1", "x2", "x3"));
    broker.abort("t", epoch);
    broker.append("out", 0, recs("p"));
    broker.write("t", epoch, "out", 0, recs("y1", "y2"));
    broker.abort("t", epoch);

    const first = broker.read("out", 0, 0, 1, "read_committed");
    expect(first.records).toEqual([{ offset: 3, value: "p", ts: 0 }]);
    expect(first.nextOffset).toBe(4);
    // Only aborted records remain: none returned, but the reader moves to the end.
    const second = broker.read("out", 0, first.nextOffset, 1, "read_committed");
    expect(second).toEqual({ records: [], nextOffset: 6, endOffset: 6 });
    expect(values(broker, "out", 0, "read_uncommitted")).toEqual(["x1", "x2", "x3", "p", "y1", "y2"]);
  });

  test("a committed transaction behind an earlier open one stays hidden until that one ends", () => {
    const { broker } = setup();
    broker.createTopic("out", 1);
    const a = broker.initTransactions("a");
    const b = broker.initTransactions("b");
    broker.write("a", a.epoch, "out", 0, recs("a1"));
    broker.write("b", b.epoch, "out", 0, recs("b1"));
    broker.commit("b", b.epoch, 0, { checkpointId: 1 });
    expect(values(broker, "out", 0, "read_committed")).toEqual([]);
    expect(broker.committed("out")).toEqual(["b1"]);

    broker.abort("a", a.epoch);
    expect(values(broker, "out", 0, "read_committed")).toEqual(["b1"]);
  });

  test("committed lists every visible record in partition order then offset order", () => {
    const { broker } = setup();
    broker.createTopic("out", 2);
    const { epoch } = broker.initTransactions("t");
    broker.write("t", epoch, "out", 1, recs("t-p1"));
    broker.write("t", epoch, "out", 0, recs("t-p0"));
    broker.append("out", 1, recs("plain-p1"));
    broker.append("out", 0, recs("plain-p0"));
    expect(broker.committed("out")).toEqual(["plain-p0", "plain-p1"]);
    broker.commit("t", epoch, 0, { checkpointId: 3 });
    expect(broker.committedRecords("out").map((r) => [r.partition, r.offset, r.value])).toEqual([
      [0, 0, "t-p0"],
      [0, 1, "plain-p0"],
      [1, 0, "t-p1"],
      [1, 1, "plain-p1"],
    ]);
  });

  test("unknown topics, partitions and offsets are errors with Kafka's codes", () => {
    const { broker } = setup();
    broker.createTopic("in", 1);
    broker.load("in", 0, recs(1, 2));
    expect(thrown(() => broker.read("nope", 0, 0, 1, "read_committed")).code).toBe("UNKNOWN_TOPIC_OR_PARTITION");
    expect(thrown(() => broker.read("in", 1, 0, 1, "read_committed")).code).toBe("UNKNOWN_TOPIC_OR_PARTITION");
    expect(thrown(() => broker.read("in", 0, 3, 1, "read_committed")).code).toBe("OFFSET_OUT_OF_RANGE");
    expect(broker.read("in", 0, 2, 1, "read_committed")).toEqual({ records: [], nextOffset: 2, endOffset: 2 });
    const { epoch } = broker.initTransactions("t");
    expect(thrown(() => broker.write("t", epoch, "nope", 0, recs(1))).code).toBe("UNKNOWN_TOPIC_OR_PARTITION");
    expect(broker.openTransactions()).toEqual([]);
  });
});

describe("transactions", () => {
  test("a write without initTransactions fails with INVALID_TXN_STATE", () => {
    const { broker } = setup();
    broker.createTopic("out", 1);
    expect(thrown(() => broker.write("t", 0, "out", 0, recs(1))).code).toBe("INVALID_TXN_STATE");
    expect(thrown(() => broker.commit("t", 0, 0, { checkpointId: 1 })).code).toBe("INVALID_TXN_STATE");
    expect(thrown(() => broker.abort("t", 0)).code).toBe("INVALID_TXN_STATE");
  });

  test("initTransactions bumps the epoch, aborts the open transaction and fences the older producer", () => {
    const { broker, trace } = setup();
    broker.createTopic("out", 1);
    expect(broker.initTransactions("t")).toEqual({ epoch: 0, txnSeq: 0 });
    broker.write("t", 0, "out", 0, recs("zombie"));
    expect(broker.initTransactions("t")).toEqual({ epoch: 1, txnSeq: 1 });
    expect(kinds(trace, "txn-aborted").map((e) => e.data)).toEqual([{ tid: "t", epoch: 0, records: 1, reason: "init" }]);

    const w = thrown(() => broker.write("t", 0, "out", 0, recs("late")));
    expect(w).toBeInstanceOf(FencedError);
    expect(w.code).toBe("PRODUCER_FENCED");
    expect(thrown(() => broker.commit("t", 0, 0, { checkpointId: 1 })).code).toBe("PRODUCER_FENCED");
    expect(thrown(() => broker.abort("t", 0)).code).toBe("PRODUCER_FENCED");
    expect(kinds(trace, "fenced").map((e) => e.data)).toEqual([
      { tid: "t", epoch: 0, currentEpoch: 1, op: "write" },
      { tid: "t", epoch: 0, currentEpoch: 1, op: "commit" },
      { tid: "t", epoch: 0, currentEpoch: 1, op: "abort" },
    ]);
    expect(broker.committed("out")).toEqual([]);
    expect(broker.endOffset("out", 0)).toBe(1);
  });

  test("an epoch newer than the current one is an invalid state, not a fence", () => {
    const { broker } = setup();
    broker.createTopic("out", 1);
    broker.initTransactions("t");
    expect(thrown(() => broker.write("t", 5, "out", 0, recs(1))).code).toBe("INVALID_TXN_STATE");
  });

  test("commit is idempotent, also after a newer initTransactions (recoverAndCommit)", () => {
    const { broker, trace } = setup();
    broker.createTopic("out", 1);
    const { epoch } = broker.initTransactions("t");
    const { txnSeq } = broker.write("t", epoch, "out", 0, recs("r1", "r2"));
    expect(broker.commit("t", epoch, txnSeq, { checkpointId: 7 })).toEqual({ alreadyCommitted: false, nextTxnSeq: 1 });
    expect(broker.commit("t", epoch, txnSeq, { checkpointId: 7 })).toEqual({ alreadyCommitted: true, nextTxnSeq: 1 });
    broker.initTransactions("t");
    expect(broker.commit("t", epoch, txnSeq, { checkpointId: 7 }).alreadyCommitted).toBe(true);
    expect(broker.committed("out")).toEqual(["r1", "r2"]);
    expect(broker.committedCheckpoint("t", txnSeq)).toBe(7);
    expect(kinds(trace, "txn-committed").map((e) => e.data)).toEqual([
      { tid: "t", epoch: 0, txnSeq: 0, records: 2, digest: recordsDigest(["r1", "r2"]).hex(), checkpointId: 7 },
    ]);
  });

  test("a pending transaction of the current epoch can be committed by a restored producer before it re-inits", () => {
    const { broker } = setup();
    broker.createTopic("out", 1);
    const { epoch } = broker.initTransactions("sink-0-cp3");
    broker.write("sink-0-cp3", epoch, "out", 0, recs("pending"));
    // The producer died; the restored sink commits from its state, then re-inits.
    broker.commit("sink-0-cp3", epoch, 0, { checkpointId: 3 });
    broker.initTransactions("sink-0-cp3");
    expect(broker.committed("out")).toEqual(["pending"]);
  });

  test("an empty transaction can be committed and is recorded", () => {
    const { broker, trace } = setup();
    broker.createTopic("out", 1);
    const { epoch, txnSeq } = broker.initTransactions("t");
    expect(broker.commit("t", epoch, txnSeq, { checkpointId: 1 })).toEqual({ alreadyCommitted: false, nextTxnSeq: 1 });
    expect(broker.commit("t", epoch, txnSeq, { checkpointId: 1 }).alreadyCommitted).toBe(true);
    expect(kinds(trace, "txn-committed").map((e) => e.data["records"])).toEqual([0]);
    expect(broker.currentTxn("t")).toEqual({ epoch: 0, txnSeq: 1, open: false, records: 0 });
    expect(broker.write("t", epoch, "out", 0, recs(1)).txnSeq).toBe(1);
  });

  test("committing the wrong sequence number or an aborted transaction is an invalid state", () => {
    const { broker } = setup();
    broker.createTopic("out", 1);
    const { epoch } = broker.initTransactions("t");
    broker.write("t", epoch, "out", 0, recs(1));
    expect(thrown(() => broker.commit("t", epoch, 1, { checkpointId: 1 })).code).toBe("INVALID_TXN_STATE");
    expect(broker.abort("t", epoch)).toEqual({ abortedTxnSeq: 0, nextTxnSeq: 1 });
    expect(thrown(() => broker.commit("t", epoch, 0, { checkpointId: 1 })).code).toBe("INVALID_TXN_STATE");
    expect(broker.abort("t", epoch)).toEqual({ abortedTxnSeq: null, nextTxnSeq: 1 });
    expect(broker.committed("out")).toEqual([]);
  });

  test("every transaction of a tid gets an increasing sequence number and the state follows it", () => {
    const { broker, trace } = setup();
    broker.createTopic("out", 2);
    const { epoch } = broker.initTransactions("t");
    expect(broker.currentTxn("t")).toEqual({ epoch, txnSeq: 0, open: false, records: 0 });
    expect(broker.write("t", epoch, "out", 0, recs(1)).txnSeq).toBe(0);
    expect(broker.write("t", epoch, "out", 1, recs(2, 3))).toEqual({ txnSeq: 0, baseOffset: 0 });
    expect(broker.currentTxn("t")).toEqual({ epoch, txnSeq: 0, open: true, records: 3 });
    broker.commit("t", epoch, 0, { checkpointId: 1 });
    expect(broker.write("t", epoch, "out", 0, recs(4))).toEqual({ txnSeq: 1, baseOffset: 1 });
    expect(kinds(trace, "txn-opened").map((e) => e.data)).toEqual([
      { tid: "t", epoch: 0 },
      { tid: "t", epoch: 0 },
    ]);
    expect(broker.currentTxn("unknown")).toBeUndefined();
  });

  test("openTransactions lists open transactions sorted by tid", () => {
    const { broker } = setup();
    broker.createTopic("out", 1);
    for (const tid of ["c", "a", "b"]) broker.write(tid, broker.initTransactions(tid).epoch, "out", 0, recs(tid));
    broker.initTransactions("b");
    expect(broker.openTransactions()).toEqual([
      { tid: "a", epoch: 0 },
      { tid: "c", epoch: 0 },
    ]);
  });
});

describe("transaction timeout", () => {
  test("an open transaction older than the timeout is aborted and its producer fenced", () => {
    const { scheduler, broker, trace } = setup({ transactionTimeoutMs: 100 });
    broker.createTopic("out", 1);
    const { epoch } = broker.initTransactions("t");
    scheduler.schedule(10, () => broker.write("t", epoch, "out", 0, recs("x")));
    scheduler.run({ untilTimeMs: 109 });
    expect(broker.openTransactions()).toEqual([{ tid: "t", epoch: 0 }]);
    scheduler.run();
    expect(scheduler.now).toBe(110);
    expect(broker.openTransactions()).toEqual([]);
    expect(kinds(trace, "txn-aborted").map((e) => e.data)).toEqual([{ tid: "t", epoch: 0, records: 1, reason: "timeout" }]);
    expect(thrown(() => broker.commit("t", epoch, 0, { checkpointId: 1 })).code).toBe("PRODUCER_FENCED");
    expect(thrown(() => broker.write("t", epoch, "out", 0, recs("y"))).code).toBe("PRODUCER_FENCED");
    expect(broker.initTransactions("t").epoch).toBe(2);
    expect(broker.committed("out")).toEqual([]);
    expect(broker.lastStableOffset("out", 0)).toBe(1);
  });

  test("a transaction that ends before its timeout leaves no timer behind", () => {
    const { scheduler, broker } = setup({ transactionTimeoutMs: 100 });
    broker.createTopic("out", 1);
    const { epoch } = broker.initTransactions("t");
    broker.write("t", epoch, "out", 0, recs("x"));
    scheduler.schedule(50, () => broker.commit("t", epoch, 0, { checkpointId: 1 }));
    const outcome = scheduler.run();
    expect(outcome.timeMs).toBe(50);
    expect(broker.committed("out")).toEqual(["x"]);
  });

  test("options are validated with a sentence that names the field", () => {
    expect(validateLogBrokerOptions(defaultLogBrokerOptions)).toBeUndefined();
    expect(validateLogBrokerOptions({ ...defaultLogBrokerOptions, transactionTimeoutMs: 0 })).toMatch(/^broker\.transactionTimeoutMs must be/);
    expect(() => setup({ transactionTimeoutMs: Number.NaN })).toThrow(/broker\.transactionTimeoutMs/);
  });
});

describe("plain writes, upserts and offsets", () => {
  test("append is traced as a sink write, loading input is not", () => {
    const { broker, trace } = setup();
    broker.createTopic("t", 1);
    expect(broker.load("t", 0, recs(1, 2))).toBe(0);
    expect(broker.append("t", 0, recs(3))).toBe(2);
    expect(kinds(trace, "sink-write").map((e) => e.data)).toEqual([{ topic: "t", partition: 0, records: 1, digest: recordsDigest([3]).hex() }]);
  });

  test("upserts keep the last value per key and the table is sorted by key", () => {
    const { broker, trace } = setup();
    broker.upsert("tbl", "b", 1);
    broker.upsertBatch("tbl", [
      { key: "a", value: 1 },
      { key: "b", value: 2 },
      { key: "a", value: 3 },
    ]);
    broker.upsertBatch("tbl", [{ key: "a", value: 3 }]);
    expect(broker.table("tbl")).toEqual([
      ["a", 3],
      ["b", 2],
    ]);
    expect(broker.table("none")).toEqual([]);
    expect(kinds(trace, "sink-write")).toHaveLength(2);
  });

  test("consumer group offsets are overwritten per partition and listed sorted", () => {
    const { broker, trace } = setup();
    broker.commitOffsets("g", [{ topic: "b", partition: 0, offset: 5 }, { topic: "a", partition: 1, offset: 2 }], 1);
    broker.commitOffsets("g", [{ topic: "a", partition: 0, offset: 9 }, { topic: "b", partition: 0, offset: 6 }], 2);
    expect(broker.committedOffsets("g")).toEqual([
      { topic: "a", partition: 0, offset: 9 },
      { topic: "a", partition: 1, offset: 2 },
      { topic: "b", partition: 0, offset: 6 },
    ]);
    expect(broker.committedOffsets("other")).toEqual([]);
    expect(kinds(trace, "offsets-committed").map((e) => e.data)).toEqual([
      { group: "g", checkpointId: 1 },
      { group: "g", checkpointId: 2 },
    ]);
  });
});

// ---- model-based property --------------------------------------------------------------------

type Op =
  | { kind: "init"; tid: number }
  | { kind: "write"; tid: number; partition: number; n: number }
  | { kind: "append"; partition: number; n: number }
  | { kind: "commit"; tid: number }
  | { kind: "abort"; tid: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant("init" as const), tid: fc.integer({ min: 0, max: 2 }) }),
  fc.record({ kind: fc.constant("write" as const), tid: fc.integer({ min: 0, max: 2 }), partition: fc.integer({ min: 0, max: 1 }), n: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ kind: fc.constant("append" as const), partition: fc.integer({ min: 0, max: 1 }), n: fc.integer({ min: 1, max: 2 }) }),
  fc.record({ kind: fc.constant("commit" as const), tid: fc.integer({ min: 0, max: 2 }) }),
  fc.record({ kind: fc.constant("abort" as const), tid: fc.integer({ min: 0, max: 2 }) }),
);

test("read_committed always matches a model of visibility and the last stable offset", () => {
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 40 }), fc.integer({ min: 1, max: 4 }), (ops, fetchMax) => {
      const { broker } = setup();
      broker.createTopic("t", 2);
      // Model: per partition, each record's status cell; per tid, the current epoch and open status cell.
      type Cell = { status: "open" | "committed" | "aborted" };
      const plain: Cell = { status: "committed" };
      const logs: Array<Array<{ value: string; cell: Cell }>> = [[], []];
      const tids = new Map<number, { epoch: number; seq: number; open: Cell | null }>();
      let counter = 0;
      for (const op of ops) {
        if (op.kind === "append") {
          const rs = Array.from({ length: op.n }, () => `v${counter++}`);
          broker.append("t", op.partition, rs.map((value) => ({ value, ts: 0 })));
          for (const value of rs) logs[op.partition]?.push({ value, cell: plain });
          continue;
        }
        const tid = `tid${op.tid}`;
        const m = tids.get(op.tid);
        if (op.kind === "init") {
          const r = broker.initTransactions(tid);
          if (m?.open) m.open.status = "aborted";
          tids.set(op.tid, { epoch: r.epoch, seq: r.txnSeq, open: null });
          expect(r.epoch).toBe(m === undefined ? 0 : m.epoch + 1);
          continue;
        }
        if (m === undefined) continue;
        if (op.kind === "write") {
          const rs = Array.from({ length: op.n }, () => `v${counter++}`);
          const r = broker.write(tid, m.epoch, "t", op.partition, rs.map((value) => ({ value, ts: 0 })));
          if (m.open === null) m.open = { status: "open" };
          expect(r.txnSeq).toBe(m.seq);
          for (const value of rs) logs[op.partition]?.push({ value, cell: m.open });
        } else if (op.kind === "commit") {
          broker.commit(tid, m.epoch, m.seq, { checkpointId: 1 });
          if (m.open) m.open.status = "committed";
          m.open = null;
          m.seq++;
        } else {
          broker.abort(tid, m.epoch);
          if (m.open) {
            m.open.status = "aborted";
            m.seq++;
          }
          m.open = null;
        }
      }
      for (let p = 0; p < 2; p++) {
        const log = logs[p] ?? [];
        const firstOpen = log.findIndex((e) => e.cell.status === "open");
        const lso = firstOpen < 0 ? log.length : firstOpen;
        expect(broker.lastStableOffset("t", p)).toBe(lso);
        const expected = log.slice(0, lso).filter((e) => e.cell.status === "committed").map((e) => e.value);
        const got: JsonValue[] = [];
        let offset = 0;
        for (let i = 0; i <= log.length; i++) {
          const r = broker.read("t", p, offset, fetchMax, "read_committed");
          expect(r.endOffset).toBe(lso);
          for (const rec of r.records) got.push(rec.value);
          if (r.nextOffset === offset) break;
          offset = r.nextOffset;
        }
        expect(offset).toBe(lso);
        expect(got).toEqual(expected);
        expect(values(broker, "t", p, "read_uncommitted")).toEqual(log.map((e) => e.value));
      }
      const allCommitted = logs.flatMap((log) => log.filter((e) => e.cell.status === "committed").map((e) => e.value));
      expect(broker.committed("t")).toEqual(allCommitted);
    }),
    { numRuns: 300 },
  );
});
