import { describe, expect, test } from "vitest";
import { Network, NetError, defaultNetworkOptions, validateNetworkOptions } from "./network.ts";
import type { ConnectionHandlers, NetworkOptions } from "./network.ts";
import { Random } from "./random.ts";
import { Scheduler } from "./scheduler.ts";
import { Trace } from "./trace.ts";

function world(options: Partial<NetworkOptions> = {}, seed = 1) {
  const scheduler = new Scheduler({ maxEvents: 1_000_000, maxTimeMs: 3_600_000 });
  const trace = new Trace(scheduler, { level: "full" });
  const net = new Network(scheduler, Random.fromSeed(seed).fork("network"), trace, options);
  for (const n of ["a", "b", "c"]) scheduler.addNode(n);
  return { scheduler, trace, net };
}

/** Listen on port "p" of `node`, recording [payload, from, time]. */
function inbox(w: ReturnType<typeof world>, node: string): Array<[unknown, string, number]> {
  const got: Array<[unknown, string, number]> = [];
  w.net.listen(node, "p", (payload, from) => got.push([payload, from, w.scheduler.now]));
  return got;
}

type EndLog = { messages: unknown[]; breaks: Array<{ code: string; timeMs: number }> };
function endLog(w: ReturnType<typeof world>): [EndLog, ConnectionHandlers] {
  const log: EndLog = { messages: [], breaks: [] };
  return [log, {
    onMessage: (p) => log.messages.push(p),
    onBreak: (err) => log.breaks.push({ code: err.code, timeMs: w.scheduler.now }),
  }];
}

describe("datagrams", () => {
  test("datagrams on a link arrive in send order under a very wide latency distribution", () => {
    const w = world({ latency: { kind: "uniform", minMs: 0, maxMs: 1000 } });
    const got = inbox(w, "b");
    for (let i = 0; i < 300; i++) w.scheduler.schedule(i * 0.5, () => w.net.send("a", "b", "p", i));
    w.scheduler.run();
    expect(got.map((g) => g[0])).toEqual([...Array(300).keys()]);
    expect(got.every((g) => g[1] === "a")).toBe(true);
  });

  test("a datagram arrives after the link latency, and loopback uses the local latency", () => {
    const w = world({ latency: { kind: "constant", ms: 7 }, localLatency: { kind: "constant", ms: 0.25 } });
    const atB = inbox(w, "b");
    const atA = inbox(w, "a");
    w.net.send("a", "b", "p", "x");
    w.net.send("a", "a", "p", "self");
    w.scheduler.run();
    expect(atB).toEqual([["x", "a", 7]]);
    expect(atA).toEqual([["self", "a", 0.25]]);
  });

  test("a per-link latency overrides the default on that link only", () => {
    const w = world({ latency: { kind: "constant", ms: 2 } });
    w.net.setLinkLatency("a", "b", { kind: "constant", ms: 40 });
    const atB = inbox(w, "b");
    const atA = inbox(w, "a");
    w.net.send("a", "b", "p", 1);
    w.net.send("b", "a", "p", 2);
    w.scheduler.run();
    expect(atB[0]?.[2]).toBe(40);
    expect(atA[0]?.[2]).toBe(2);
  });

  test("with loss probability 1 nothing arrives, and with 0.5 some but not all arrive", () => {
    const all = world({ lossProbability: 1 });
    const none = inbox(all, "b");
    for (let i = 0; i < 100; i++) all.net.send("a", "b", "p", i);
    all.scheduler.run();
    expect(none).toEqual([]);
    expect(all.net.stats.dropped).toBe(100);

    const half = world({ lossProbability: 0.5 });
    const some = inbox(half, "b");
    for (let i = 0; i < 1000; i++) half.net.send("a", "b", "p", i);
    half.scheduler.run();
    expect(some.length).toBeGreaterThan(350);
    expect(some.length).toBeLessThan(650);
    expect(half.net.stats.delivered + half.net.stats.dropped).toBe(1000);
  });

  test("setLinkLoss loses datagrams on that link only", () => {
    const w = world();
    w.net.setLinkLoss("a", "b", 1);
    const atB = inbox(w, "b");
    const atC = inbox(w, "c");
    w.net.send("a", "b", "p", 1);
    w.net.send("a", "c", "p", 2);
    w.scheduler.run();
    expect(atB).toEqual([]);
    expect(atC.map((g) => g[0])).toEqual([2]);
  });

  test("with duplicate probability 1 every datagram arrives twice, adjacent and in order", () => {
    const w = world({ duplicateProbability: 1 });
    const got = inbox(w, "b");
    for (let i = 0; i < 5; i++) w.net.send("a", "b", "p", i);
    w.scheduler.run();
    expect(got.map((g) => g[0])).toEqual([0, 0, 1, 1, 2, 2, 3, 3, 4, 4]);
    expect(w.net.stats).toMatchObject({ sent: 5, duplicated: 5, delivered: 10 });
  });

  test("a datagram to a port nobody listens on is dropped silently", () => {
    const w = world();
    w.net.send("a", "b", "nobody", 1);
    w.scheduler.run();
    expect(w.net.stats).toMatchObject({ sent: 1, delivered: 0, dropped: 1 });
    expect(w.trace.events().some((e) => e.kind === "net-drop" && e.data["reason"] === "no-listener")).toBe(true);
  });

  test("listening twice on the same port is refused", () => {
    const w = world();
    w.net.listen("a", "p", () => {});
    expect(() => w.net.listen("a", "p", () => {})).toThrow(/port p on node a already has a listener/);
  });
});

describe("partitions", () => {
  test("a partition drops datagrams both ways, including those in flight, until healed", () => {
    const w = world({ latency: { kind: "constant", ms: 5 } });
    const atA = inbox(w, "a");
    const atB = inbox(w, "b");
    w.net.send("a", "b", "p", "in-flight");
    w.scheduler.run({ untilTimeMs: 1 });
    const id = w.net.partition(["a"], ["b"]);
    expect(w.net.isBlocked("a", "b")).toBe(true);
    expect(w.net.isBlocked("b", "a")).toBe(true);
    w.net.send("a", "b", "p", "blocked");
    w.net.send("b", "a", "p", "blocked");
    w.scheduler.run({ untilTimeMs: 20 });
    expect(atA).toEqual([]);
    expect(atB).toEqual([]);
    w.net.heal(id);
    expect(w.net.isBlocked("a", "b")).toBe(false);
    w.net.send("a", "b", "p", "after");
    w.scheduler.run();
    expect(atB.map((g) => g[0])).toEqual(["after"]);
  });

  test("a partition breaks a connection with ECONNRESET at both live ends after the break delay", () => {
    const w = world({ connectionBreakDelayMs: 30 });
    const [la, ha] = endLog(w);
    const [lb, hb] = endLog(w);
    const conn = w.net.connect("a", "b", ha, hb);
    conn.endA.send("m1");
    w.scheduler.run({ untilTimeMs: 10 });
    expect(lb.messages).toEqual(["m1"]);
    conn.endA.send("lost");
    w.net.partition(["a", "c"], ["b"]);
    expect(conn.open).toBe(false);
    expect(conn.endB.send("x")).toBe(false);
    w.scheduler.run();
    expect(lb.messages).toEqual(["m1"]);
    expect(la.breaks).toEqual([{ code: "ECONNRESET", timeMs: 40 }]);
    expect(lb.breaks).toEqual([{ code: "ECONNRESET", timeMs: 40 }]);
    const ev = w.trace.events().find((e) => e.kind === "connection-break");
    expect(ev?.data).toEqual({ id: conn.id, a: "a", b: "b", reason: "partition" });
  });

  test("a one-way partition blocks only A to B and still breaks connections between them", () => {
    const w = world();
    const atA = inbox(w, "a");
    const atB = inbox(w, "b");
    const [la, ha] = endLog(w);
    const [, hb] = endLog(w);
    const conn = w.net.connect("a", "b", ha, hb);
    w.net.partition(["a"], ["b"], { oneWay: true });
    expect(w.net.isBlocked("a", "b")).toBe(true);
    expect(w.net.isBlocked("b", "a")).toBe(false);
    w.net.send("a", "b", "p", "a->b");
    w.net.send("b", "a", "p", "b->a");
    w.scheduler.run();
    expect(atB).toEqual([]);
    expect(atA.map((g) => g[0])).toEqual(["b->a"]);
    expect(conn.open).toBe(false);
    expect(la.breaks.map((b) => b.code)).toEqual(["ECONNRESET"]);
  });

  test("a loopback connection survives a partition and a connect across a partition times out", () => {
    const w = world();
    const [ls, hs] = endLog(w);
    const self = w.net.connect("a", "a", hs, endLog(w)[1]);
    w.net.partition(["a"], ["b"]);
    expect(self.open).toBe(true);
    expect(w.net.isBlocked("a", "a")).toBe(false);
    const [la, ha] = endLog(w);
    const [lb, hb] = endLog(w);
    const across = w.net.connect("a", "b", ha, hb);
    expect(across.open).toBe(false);
    w.scheduler.run();
    expect(ls.breaks).toEqual([]);
    expect(la.breaks.map((b) => b.code)).toEqual(["ETIMEDOUT"]);
    expect(lb.breaks.map((b) => b.code)).toEqual(["ETIMEDOUT"]);
  });

  test("partition groups must be disjoint and name existing nodes", () => {
    const w = world();
    expect(() => w.net.partition(["a", "b"], ["b"])).toThrow(/disjoint; b is in both/);
    expect(() => w.net.partition(["a"], ["zz"])).toThrow(/unknown node zz/);
  });

  test("heal without an id removes every partition", () => {
    const w = world();
    w.net.partition(["a"], ["b"]);
    w.net.partition(["a"], ["c"]);
    w.net.heal();
    expect(w.net.isBlocked("a", "b") || w.net.isBlocked("a", "c")).toBe(false);
    expect(w.trace.events().filter((e) => e.kind === "heal").map((e) => e.data["ids"])).toEqual([[1, 2]]);
  });
});

describe("clogs", () => {
  test("a clog holds datagrams and connection messages, then releases them in their original order", () => {
    const w = world({ latency: { kind: "uniform", minMs: 1, maxMs: 50 } });
    const atB = inbox(w, "b");
    const [lb, hb] = endLog(w);
    const conn = w.net.connect("a", "b", endLog(w)[1], hb);
    for (let i = 0; i < 20; i++) w.net.send("a", "b", "p", i);
    w.net.clog("a", "b");
    for (let i = 20; i < 40; i++) w.net.send("a", "b", "p", i);
    for (let i = 0; i < 10; i++) conn.endA.send(i);
    w.scheduler.run({ untilTimeMs: 500 });
    const beforeUnclog = atB.length;
    expect(beforeUnclog).toBeLessThan(20);
    expect(lb.messages).toEqual([]);
    expect(conn.open).toBe(true);
    const heldWhileClogged = w.net.stats.held;
    expect(heldWhileClogged).toBeGreaterThan(20);
    expect(w.net.stats.heldNow).toBe(heldWhileClogged);
    w.net.unclog("a", "b");
    w.scheduler.run();
    expect(atB.map((g) => g[0])).toEqual([...Array(40).keys()]);
    expect(atB.slice(beforeUnclog).every((g) => g[2] > 500)).toBe(true);
    expect(lb.messages).toEqual([...Array(10).keys()]);
    expect(w.net.stats).toMatchObject({ sent: 50, delivered: 50, dropped: 0, held: heldWhileClogged, heldNow: 0 });
  });

  test("clogging a node holds every link in and out of it but not others", () => {
    const w = world({ latency: { kind: "constant", ms: 1 } });
    const atA = inbox(w, "a");
    const atB = inbox(w, "b");
    const atC = inbox(w, "c");
    w.net.clogNode("b");
    expect(w.net.isClogged("c", "b")).toBe(true);
    w.net.send("a", "b", "p", "a->b");
    w.net.send("b", "a", "p", "b->a");
    w.net.send("a", "c", "p", "a->c");
    w.scheduler.run({ untilTimeMs: 100 });
    expect(atC.map((g) => g[0])).toEqual(["a->c"]);
    expect(atA).toEqual([]);
    expect(atB).toEqual([]);
    w.net.unclogNode("b");
    w.scheduler.run();
    expect(atA.map((g) => g[0])).toEqual(["b->a"]);
    expect(atB.map((g) => g[0])).toEqual(["a->b"]);
  });

  test("a link clogged both by pair and by node is released only when both are lifted", () => {
    const w = world({ latency: { kind: "constant", ms: 1 } });
    const atB = inbox(w, "b");
    w.net.clog("a", "b");
    w.net.clogNode("b");
    w.net.send("a", "b", "p", 1);
    w.net.unclog("a", "b");
    w.scheduler.run({ untilTimeMs: 10 });
    expect(atB).toEqual([]);
    w.net.unclogNode("b");
    w.scheduler.run();
    expect(atB.map((g) => g[0])).toEqual([1]);
  });
});

describe("crashes", () => {
  test("a crash drops in-flight datagrams and breaks connections; only the live end hears of it", () => {
    const w = world({ latency: { kind: "constant", ms: 5 }, connectionBreakDelayMs: 50 });
    const atB = inbox(w, "b");
    const [la, ha] = endLog(w);
    const [lb, hb] = endLog(w);
    const conn = w.net.connect("a", "b", ha, hb);
    w.net.send("a", "b", "p", "dg");
    conn.endA.send("cm");
    w.scheduler.run({ untilTimeMs: 2 });
    w.scheduler.crash("b");
    expect(conn.open).toBe(false);
    expect(conn.endA.send("late")).toBe(false);
    w.scheduler.run();
    expect(atB).toEqual([]);
    expect(lb.messages).toEqual([]);
    expect(lb.breaks).toEqual([]);
    expect(la.breaks).toEqual([{ code: "ECONNRESET", timeMs: 52 }]);
    expect(w.net.stats).toMatchObject({ sent: 2, delivered: 0, dropped: 2 });
    expect(w.net.inFlight).toBe(0);
  });

  test("an end that crashes before the break delay is over never gets onBreak, even after restarting", () => {
    const w = world({ connectionBreakDelayMs: 50 });
    const [la, ha] = endLog(w);
    w.net.connect("a", "b", ha, endLog(w)[1]);
    w.scheduler.crash("b");
    w.scheduler.schedule(10, () => w.scheduler.crash("a"));
    w.scheduler.schedule(20, () => w.scheduler.restart("a"));
    w.scheduler.run();
    expect(la.breaks).toEqual([]);
  });

  test("a restarted node does not get messages sent to its previous incarnation", () => {
    const w = world({ latency: { kind: "constant", ms: 10 } });
    const got: unknown[] = [];
    const listen = () => w.net.listen("b", "p", (payload) => got.push(payload));
    listen();
    w.scheduler.node("b").onRestart(listen);
    w.net.send("a", "b", "p", "old");
    w.scheduler.schedule(2, () => w.scheduler.crash("b"));
    w.scheduler.schedule(4, () => w.scheduler.restart("b"));
    w.scheduler.schedule(5, () => w.net.send("a", "b", "p", "new"));
    w.scheduler.run();
    expect(got).toEqual(["new"]);
  });

  test("a crash removes the node's listeners", () => {
    const w = world();
    const got = inbox(w, "b");
    w.scheduler.crash("b");
    w.scheduler.restart("b");
    w.net.send("a", "b", "p", 1);
    w.scheduler.run();
    expect(got).toEqual([]);
    expect(w.trace.events().some((e) => e.kind === "net-drop" && e.data["reason"] === "no-listener")).toBe(true);
  });

  test("datagrams to or from a dead node are dropped at send", () => {
    const w = world();
    const atA = inbox(w, "a");
    w.scheduler.crash("b");
    w.net.send("a", "b", "p", 1);
    w.net.send("b", "a", "p", 2);
    w.scheduler.run();
    expect(atA).toEqual([]);
    expect(w.net.stats).toMatchObject({ sent: 2, dropped: 2 });
  });

  test("connecting to a dead node gives the live end ECONNREFUSED after one latency", () => {
    const w = world({ latency: { kind: "constant", ms: 3 } });
    w.scheduler.crash("b");
    const [la, ha] = endLog(w);
    const [lb, hb] = endLog(w);
    const conn = w.net.connect("a", "b", ha, hb);
    expect(conn.open).toBe(false);
    expect(conn.endA.send(1)).toBe(false);
    w.scheduler.run();
    expect(la.breaks).toEqual([{ code: "ECONNREFUSED", timeMs: 3 }]);
    expect(lb.breaks).toEqual([]);
  });
});

describe("connections", () => {
  test("connection messages keep order both ways under a wide latency distribution", () => {
    const w = world({ latency: { kind: "exponential", meanMs: 20, maxMs: 500 } });
    const [la, ha] = endLog(w);
    const [lb, hb] = endLog(w);
    const conn = w.net.connect("a", "b", ha, hb);
    for (let i = 0; i < 200; i++) {
      w.scheduler.schedule(i * 0.3, () => {
        conn.endA.send(i);
        conn.endB.send(-i);
      });
    }
    w.scheduler.run();
    expect(lb.messages).toEqual([...Array(200).keys()]);
    expect(la.messages).toEqual([...Array(200).keys()].map((i) => -i));
  });

  test("connections are never lossy or duplicated even when datagrams are", () => {
    const w = world({ lossProbability: 0.5, duplicateProbability: 0.5 });
    const [lb, hb] = endLog(w);
    const conn = w.net.connect("a", "b", endLog(w)[1], hb);
    for (let i = 0; i < 100; i++) expect(conn.endA.send(i)).toBe(true);
    w.scheduler.run();
    expect(lb.messages).toEqual([...Array(100).keys()]);
  });

  test("a handler may reply on the same connection while a message is being delivered", () => {
    const w = world();
    const got: unknown[] = [];
    let n = 0;
    const conn = w.net.connect("a", "b", { onMessage: (p) => got.push(p), onBreak: () => {} }, {
      onMessage: (p) => {
        if (n++ < 3) conn.endB.send(`re:${String(p)}`);
      },
      onBreak: () => {},
    });
    conn.endA.send("x");
    conn.endA.send("y");
    w.scheduler.run();
    expect(got).toEqual(["re:x", "re:y"]);
  });

  test("a graceful close stops both ends, discards in-flight messages and calls no onBreak", () => {
    const w = world();
    const [la, ha] = endLog(w);
    const [lb, hb] = endLog(w);
    const conn = w.net.connect("a", "b", ha, hb);
    conn.endA.send(1);
    conn.endB.close();
    expect(conn.open).toBe(false);
    expect(conn.endA.open).toBe(false);
    expect(conn.endA.send(2)).toBe(false);
    w.scheduler.run();
    expect(lb.messages).toEqual([]);
    expect(la.breaks).toEqual([]);
    expect(lb.breaks).toEqual([]);
    expect(w.net.openConnectionCount()).toBe(0);
  });

  test("onBreak receives a NetError with a real error code", () => {
    const w = world();
    let err: unknown;
    w.net.connect("a", "b", { onMessage: () => {}, onBreak: (e) => (err = e) }, endLog(w)[1]);
    w.scheduler.crash("b");
    w.scheduler.run();
    expect(err).toBeInstanceOf(NetError);
    expect((err as NetError).code).toBe("ECONNRESET");
    expect((err as NetError).message).toMatch(/^ECONNRESET: /);
  });
});

describe("options and determinism", () => {
  test("validation names the bad field", () => {
    const bad: Array<[Partial<NetworkOptions>, RegExp]> = [
      [{ lossProbability: 2 }, /^network\.lossProbability must be in \[0, 1\], got 2$/],
      [{ duplicateProbability: -0.1 }, /^network\.duplicateProbability must be in \[0, 1\]/],
      [{ connectionBreakDelayMs: -1 }, /^network\.connectionBreakDelayMs must be a finite number >= 0/],
      [{ connectionBreakDelayMs: Infinity }, /^network\.connectionBreakDelayMs/],
      [{ latency: { kind: "uniform", minMs: 5, maxMs: 1 } }, /^network\.latency\.maxMs \(1\) must be >= network\.latency\.minMs/],
      [{ localLatency: { kind: "constant", ms: -1 } }, /^network\.localLatency\.ms must be/],
      [{ latency: { kind: "weird" } as never }, /^network\.latency\.kind must be one of/],
    ];
    for (const [opts, re] of bad) {
      expect(validateNetworkOptions({ ...defaultNetworkOptions, ...opts })).toMatch(re);
      expect(() => world(opts)).toThrow(re);
    }
    expect(validateNetworkOptions(defaultNetworkOptions)).toBeUndefined();
    const w = world();
    expect(() => w.net.setLinkLoss("a", "b", 1.5)).toThrow(/setLinkLoss\(a, b\)\.lossProbability must be in \[0, 1\]/);
    expect(() => w.net.setLinkLatency("a", "b", { kind: "constant", ms: NaN })).toThrow(/setLinkLatency\(a, b\)\.latency\.ms/);
  });

  test("options left undefined fall back to the defaults", () => {
    const w = world({ lossProbability: undefined });
    expect(w.net.options).toEqual(defaultNetworkOptions);
  });

  test("the same seed gives the same delivery log and trace hash, a different seed a different log", () => {
    const run = (seed: number) => {
      const w = world({ lossProbability: 0.2, duplicateProbability: 0.2 }, seed);
      const log: string[] = [];
      for (const n of ["a", "b", "c"]) w.net.listen(n, "p", (p, from) => log.push(`${w.scheduler.now}:${from}>${n}:${String(p)}`));
      for (let i = 0; i < 100; i++) {
        w.scheduler.schedule(i, () => w.net.send(["a", "b", "c"][i % 3] as string, ["b", "c", "a"][i % 3] as string, "p", i));
      }
      w.scheduler.schedule(30, () => w.net.partition(["a"], ["b", "c"]));
      w.scheduler.schedule(60, () => w.net.heal());
      w.scheduler.run();
      return { log, hash: w.trace.hash() };
    };
    expect(run(7)).toEqual(run(7));
    expect(run(7).log).not.toEqual(run(8).log);
  });
});
