import { describe, expect, test } from "vitest";
import { AssertionFailure } from "../sim/assert.ts";
import { Network } from "../sim/network.ts";
import type { NetworkOptions } from "../sim/network.ts";
import { Random } from "../sim/random.ts";
import { Scheduler } from "../sim/scheduler.ts";
import type { SimNode } from "../sim/scheduler.ts";
import { Trace } from "../sim/trace.ts";
import { BrokerClient, BrokerServer, validateBrokerServerOptions, defaultBrokerServerOptions } from "./broker-client.ts";
import { FencedError, LogBroker } from "./broker.ts";
import type { BrokerError } from "./broker.ts";

type World = {
  scheduler: Scheduler;
  trace: Trace;
  network: Network;
  broker: LogBroker;
  server: BrokerServer;
  brokerNode: SimNode;
  tm0: SimNode;
  tm1: SimNode;
  /** Callback log: [simulated time, label, error code or result]. */
  log: Array<[number, string, unknown]>;
  /** A callback that records what it got under `label`. */
  rec(label: string): (err: BrokerError | null, result: unknown) => void;
};

/** Latency 1 ms each way, request cost 0.5 ms, break notice after 10 ms. */
function world(net: Partial<NetworkOptions> = {}, seed = 1): World {
  const scheduler = new Scheduler({ maxEvents: 100_000, maxTimeMs: 100_000 });
  const trace = new Trace(scheduler);
  const brokerNode = scheduler.addNode("broker");
  const tm0 = scheduler.addNode("tm-0");
  const tm1 = scheduler.addNode("tm-1");
  const network = new Network(scheduler, Random.fromSeed(seed).fork("network"), trace, {
    latency: { kind: "constant", ms: 1 },
    connectionBreakDelayMs: 10,
    ...net,
  });
  const broker = new LogBroker(scheduler, trace);
  const server = new BrokerServer(network, scheduler, brokerNode, broker, { requestCostMs: 0.5 });
  const log: Array<[number, string, unknown]> = [];
  const rec = (label: string) => (err: BrokerError | null, result: unknown) => {
    log.push([scheduler.now, label, err === null ? result : err.code]);
  };
  return { scheduler, trace, network, broker, server, brokerNode, tm0, tm1, log, rec };
}

function client(w: World, node: SimNode, broken: BrokerError[] = []): BrokerClient {
  return new BrokerClient(w.network, w.scheduler, node, "broker", (err) => broken.push(err));
}

const recs = (...values: number[]) => values.map((value) => ({ value, ts: value }));

describe("requests and responses", () => {
  test("a transactional write becomes readable through the client once committed", () => {
    const w = world();
    w.broker.createTopic("out", 1);
    const c = client(w, w.tm0);
    const seen: unknown[] = [];
    c.initTransactions("t", (err, init) => {
      expect(err).toBeNull();
      if (err) return;
      c.write("t", init.epoch, "out", 0, recs(1, 2), (err2, wr) => {
        if (err2) throw err2;
        c.fetch("out", 0, 0, 10, "read_committed", (_e, before) => seen.push(before?.records.length));
        c.commit("t", init.epoch, wr.txnSeq, { checkpointId: 1 }, (err3, _r) => {
          expect(err3).toBeNull();
          c.fetch("out", 0, 0, 10, "read_committed", (_e, after) => seen.push(after?.records.map((r) => r.value)));
          c.endOffsets("out", "read_committed", (_e, ends) => seen.push(ends));
        });
      });
    });
    w.scheduler.run();
    expect(seen).toEqual([0, [1, 2], [2]]);
    expect(c.outstanding).toBe(0);
  });

  test("requests on one connection are handled one at a time in order and answered by id", () => {
    const w = world();
    w.broker.createTopic("t", 1);
    const c = client(w, w.tm0);
    c.append("t", 0, recs(1), w.rec("append-1"));
    c.append("t", 0, recs(2, 3), w.rec("append-2"));
    c.fetch("t", 0, 0, 10, "read_uncommitted", w.rec("fetch"));
    c.currentTxn("nobody", w.rec("txn"));
    c.fetchValues("t", 0, 1, 10, w.rec("values"));
    c.initTransactions("x", w.rec("init"));
    c.writeValues("x", 0, "t", 0, ["w"], [9], w.rec("writeValues"));
    w.scheduler.run();
    // Arrive at 1 ms; handled at 1.5, 2, 2.5, 3, 3.5; answered 1 ms later each.
    expect(w.log).toEqual([
      [2.5, "append-1", { baseOffset: 0 }],
      [3, "append-2", { baseOffset: 1 }],
      [3.5, "fetch", { records: [1, 2, 3].map((v, i) => ({ offset: i, value: v, ts: v })), nextOffset: 3, endOffset: 3 }],
      [4, "txn", null],
      [4.5, "values", { offset: 1, values: [2, 3], timestamps: [2, 3], endOffset: 3 }],
      [5, "init", { epoch: 0, txnSeq: 0 }],
      [5.5, "writeValues", { txnSeq: 0, baseOffset: 3 }],
    ]);
    expect(w.server.requestsHandled).toBe(7);
    expect(w.broker.read("t", 0, 3, 1, "read_uncommitted").records).toEqual([{ offset: 3, value: "w", ts: 9 }]);
  });

  test("the caller's array can be reused after a request is sent", () => {
    const w = world();
    w.broker.createTopic("t", 1);
    const c = client(w, w.tm0);
    const buffer = recs(1, 2);
    c.append("t", 0, buffer, w.rec("append"));
    buffer.length = 0;
    w.scheduler.run();
    expect(w.broker.committed("t")).toEqual([1, 2]);
  });

  test("broker errors reach the callback with their code and the fencing details", () => {
    const w = world();
    w.broker.createTopic("t", 1);
    const c = client(w, w.tm0);
    const errors: BrokerError[] = [];
    c.fetch("missing", 0, 0, 1, "read_committed", (err, _r) => void errors.push(err as BrokerError));
    c.write("t-id", 0, "t", 0, recs(1), (err, _r) => void errors.push(err as BrokerError));
    w.scheduler.run();
    expect(errors.map((e) => e.code)).toEqual(["UNKNOWN_TOPIC_OR_PARTITION", "INVALID_TXN_STATE"]);
    expect(errors[0]?.message).toBe("UNKNOWN_TOPIC_OR_PARTITION: unknown topic missing");
  });

  test("callbacks never run inside the request call", () => {
    const w = world();
    const c = client(w, w.tm0);
    c.close();
    let called = false;
    c.initTransactions("t", () => (called = true));
    expect(called).toBe(false);
    w.scheduler.run();
    expect(called).toBe(true);
  });

  test("upserts and offset commits go through the client", () => {
    const w = world();
    const c = client(w, w.tm0);
    c.upsert("tbl", [{ key: "k", value: 1 }, { key: "j", value: 2 }, { key: "k", value: 3 }], w.rec("upsert"));
    c.commitOffsets("g", [{ topic: "in", partition: 0, offset: 4 }], 9, w.rec("offsets"));
    w.scheduler.run();
    expect(w.log.map((l) => l[1])).toEqual(["upsert", "offsets"]);
    expect(w.broker.table("tbl")).toEqual([["j", 2], ["k", 3]]);
    expect(w.broker.committedOffsets("g")).toEqual([{ topic: "in", partition: 0, offset: 4 }]);
  });

  test("options are validated with a sentence that names the field", () => {
    expect(validateBrokerServerOptions(defaultBrokerServerOptions)).toBeUndefined();
    expect(validateBrokerServerOptions({ requestCostMs: -1 })).toBe("brokerServer.requestCostMs must be a finite number >= 0, got -1");
    const w = world();
    const other = w.scheduler.addNode("broker-2");
    expect(() => new BrokerServer(w.network, w.scheduler, other, w.broker, { requestCostMs: Infinity })).toThrow(/requestCostMs/);
  });
});

describe("slow broker", () => {
  test("the slow factor multiplies the cost of every request from then on", () => {
    const w = world();
    w.broker.createTopic("t", 1);
    const c = client(w, w.tm0);
    c.endOffsets("t", "read_uncommitted", w.rec("normal"));
    w.scheduler.run();
    w.server.setSlowFactor(10);
    const start = w.scheduler.now;
    c.endOffsets("t", "read_uncommitted", w.rec("slow"));
    w.scheduler.run();
    w.server.setSlowFactor(1);
    expect(w.log.map(([t, label]) => [label, t])).toEqual([
      ["normal", 2.5],
      ["slow", start + 1 + 5 + 1],
    ]);
  });

  test("a slow broker delays queued requests behind each other (throughput drops)", () => {
    const w = world();
    w.broker.createTopic("t", 1);
    w.server.setSlowFactor(4);
    const c = client(w, w.tm0);
    for (let i = 0; i < 3; i++) c.endOffsets("t", "read_uncommitted", w.rec(`r${i}`));
    w.scheduler.run();
    expect(w.log.map(([t]) => t)).toEqual([4, 6, 8]);
  });

  test("requests take effect in the order they were taken up, across connections: once the slowness ends, a new request waits for one still in its slow handling", () => {
    const w = world();
    w.server.setSlowFactor(10); // 5 ms a request
    client(w, w.tm0).initTransactions("t", w.rec("old"));
    // "old" arrives at 1 ms and is taken up until 6 ms; "new" arrives at 3 ms at normal speed.
    w.scheduler.schedule(2, () => {
      w.server.setSlowFactor(1);
      client(w, w.tm1).initTransactions("t", w.rec("new"));
    });
    w.scheduler.run();
    expect(w.log).toEqual([
      [7, "old", { epoch: 0, txnSeq: 0 }],
      [7, "new", { epoch: 1, txnSeq: 0 }],
    ]);
  });
});

describe("broken connections", () => {
  test("a partition fails every outstanding request with ECONNRESET and calls onBroken once", () => {
    const w = world();
    w.broker.createTopic("t", 1);
    const broken: BrokerError[] = [];
    const c = client(w, w.tm0, broken);
    w.server.setSlowFactor(20);
    c.endOffsets("t", "read_uncommitted", w.rec("a"));
    c.endOffsets("t", "read_uncommitted", w.rec("b"));
    w.scheduler.schedule(3, () => w.network.partition(["tm-0"], ["broker"]));
    w.scheduler.run();
    expect(w.log).toEqual([
      [13, "a", "ECONNRESET"],
      [13, "b", "ECONNRESET"],
    ]);
    expect(broken.map((e) => e.code)).toEqual(["ECONNRESET"]);
    expect(c.error?.code).toBe("ECONNRESET");

    c.endOffsets("t", "read_uncommitted", w.rec("after"));
    w.scheduler.run();
    expect(w.log[2]?.slice(1)).toEqual(["after", "ECONNRESET"]);
    expect(broken).toHaveLength(1);
  });

  test("a request sent after the break but before the notice fails with the break", () => {
    const w = world();
    w.broker.createTopic("t", 1);
    const c = client(w, w.tm0);
    w.scheduler.schedule(1, () => w.network.partition(["tm-0"], ["broker"]));
    w.scheduler.schedule(5, () => c.endOffsets("t", "read_uncommitted", w.rec("late")));
    w.scheduler.run();
    expect(w.log).toEqual([[11, "late", "ECONNRESET"]]);
  });

  test("a broker crash breaks connections but keeps the log, and a restarted broker serves new clients", () => {
    const w = world();
    w.broker.createTopic("t", 1);
    const broken: BrokerError[] = [];
    const c = client(w, w.tm0, broken);
    c.append("t", 0, recs(1), w.rec("before"));
    w.scheduler.run();
    w.server.setSlowFactor(10);
    c.append("t", 0, recs(2), w.rec("lost"));
    w.scheduler.schedule(2, () => w.scheduler.crash("broker"));
    w.scheduler.run();
    expect(w.log.map((l) => [l[1], l[2]])).toEqual([
      ["before", { baseOffset: 0 }],
      ["lost", "ECONNRESET"],
    ]);
    expect(broken).toHaveLength(1);
    // The queued request died with the broker process; the log kept what was applied.
    expect(w.broker.committed("t")).toEqual([1]);

    const refused: BrokerError[] = [];
    const c2 = client(w, w.tm0, refused);
    c2.append("t", 0, recs(3), w.rec("refused"));
    w.scheduler.run();
    expect(refused.map((e) => e.code)).toEqual(["ECONNREFUSED"]);

    w.scheduler.restart("broker");
    w.server.setSlowFactor(1);
    const c3 = client(w, w.tm1);
    c3.fetch("t", 0, 0, 10, "read_committed", w.rec("after-restart"));
    w.scheduler.run();
    const last = w.log[w.log.length - 1];
    expect(last?.[1]).toBe("after-restart");
    expect((last?.[2] as { records: Array<{ value: number }> }).records.map((r) => r.value)).toEqual([1]);
  });

  test("a request the broker received is applied even if the client crashes before the reply", () => {
    const w = world();
    w.broker.createTopic("out", 1);
    const { epoch } = w.broker.initTransactions("t");
    w.broker.write("t", epoch, "out", 0, recs(7));
    const c = client(w, w.tm0);
    c.commit("t", epoch, 0, { checkpointId: 1 }, w.rec("commit"));
    w.scheduler.schedule(1.2, () => w.scheduler.crash("tm-0"));
    w.scheduler.run();
    expect(w.log).toEqual([]);
    expect(w.broker.committed("out")).toEqual([7]);
  });

  test("once a client closed or lost its connection, the request being handled is applied and the ones queued behind it are not (as Kafka)", () => {
    for (const end of ["close", "crash"] as const) {
      const w = world();
      w.broker.createTopic("out", 1);
      w.server.setSlowFactor(10); // 5 ms a request
      const c = client(w, w.tm0);
      c.initTransactions("a", w.rec("a"));
      c.initTransactions("b", w.rec("b"));
      c.initTransactions("c", w.rec("c"));
      // All three arrive at 1 ms; "a" is handled until 6 ms, "b" would be until 11 ms.
      w.scheduler.schedule(3, () => (end === "close" ? c.close() : w.scheduler.crash("tm-0")));
      w.scheduler.run();
      expect(w.broker.initTransactions("a").epoch, end).toBe(1);
      expect(w.broker.initTransactions("b").epoch, end).toBe(0);
      expect(w.broker.initTransactions("c").epoch, end).toBe(0);
    }
  });

  test("close fails outstanding requests without calling onBroken", () => {
    const w = world();
    w.broker.createTopic("t", 1);
    const broken: BrokerError[] = [];
    const c = client(w, w.tm0, broken);
    c.endOffsets("t", "read_uncommitted", w.rec("pending"));
    c.close();
    w.scheduler.run();
    expect(w.log).toEqual([[0, "pending", "ECONNRESET"]]);
    expect(broken).toEqual([]);
  });

  test("a client used after its node restarted is a bug that fails loudly", () => {
    const w = world();
    const c = client(w, w.tm0);
    w.scheduler.crash("tm-0");
    w.scheduler.restart("tm-0");
    expect(() => c.initTransactions("t", w.rec("x"))).toThrow(AssertionFailure);
  });
});

describe("fencing over the network", () => {
  test("a fenced zombie cannot write or commit, and its records never become visible", () => {
    const w = world();
    w.broker.createTopic("out", 1);
    const zombie = client(w, w.tm0);
    const fresh = client(w, w.tm1);
    const errors: BrokerError[] = [];
    let zombieEpoch = -1;
    zombie.initTransactions("sink-0", (err, r) => {
      if (err) throw err;
      zombieEpoch = r.epoch;
      zombie.write("sink-0", r.epoch, "out", 0, recs(1), w.rec("zombie-write-1"));
    });
    w.scheduler.run();
    fresh.initTransactions("sink-0", (err, r) => {
      if (err) throw err;
      fresh.write("sink-0", r.epoch, "out", 0, recs(2), (e2, wr) => {
        if (e2) throw e2;
        fresh.commit("sink-0", r.epoch, wr.txnSeq, { checkpointId: 2 }, w.rec("fresh-commit"));
      });
    });
    w.scheduler.run();
    zombie.write("sink-0", zombieEpoch, "out", 0, recs(3), (err, _r) => void errors.push(err as BrokerError));
    zombie.commit("sink-0", zombieEpoch, 0, { checkpointId: 1 }, (err, _r) => void errors.push(err as BrokerError));
    w.scheduler.run();

    expect(errors.map((e) => e.code)).toEqual(["PRODUCER_FENCED", "PRODUCER_FENCED"]);
    expect(errors[0]).toBeInstanceOf(FencedError);
    expect((errors[0] as FencedError).currentEpoch).toBe(1);
    expect(w.broker.committed("out")).toEqual([2]);
    expect(w.trace.events().filter((e) => e.kind === "fenced").map((e) => e.data["op"])).toEqual(["write", "commit"]);
  });
});

test("the same seed gives the same trace hash under random latency", () => {
  const run = (seed: number): string => {
    const w = world({ latency: { kind: "uniform", minMs: 0.5, maxMs: 8 } }, seed);
    w.broker.createTopic("out", 2);
    const clients = [client(w, w.tm0), client(w, w.tm1)];
    clients.forEach((c, i) => {
      const tid = `tid-${i}`;
      c.initTransactions(tid, (err, r) => {
        if (err) throw err;
        for (let k = 0; k < 5; k++) c.write(tid, r.epoch, "out", k % 2, recs(i * 10 + k), () => {});
        c.commit(tid, r.epoch, r.txnSeq, { checkpointId: 1 }, () => {});
        c.append("out", i, recs(100 + i), () => {});
      });
    });
    w.scheduler.run();
    return `${w.trace.hash()} ${JSON.stringify(w.broker.committed("out"))}`;
  };
  expect(run(5)).toBe(run(5));
  expect(run(5)).not.toBe(run(6));
});
