import { describe, expect, test } from "vitest";
import type { NetworkOptions } from "../sim/network.ts";
import type { SimNode } from "../sim/scheduler.ts";
import { Simulation } from "../sim/simulation.ts";
import { RpcClient, RpcServer, type RpcError } from "./rpc.ts";

/** A request body: echo `value` after `delayMs` of server work (a timer owned by the server node). */
type Echo = { readonly value: number; readonly delayMs?: number; readonly fail?: boolean };

type World = {
  sim: Simulation;
  server: RpcServer;
  serverNode: SimNode;
  tm: SimNode;
  client: RpcClient;
  /** Errors passed to the client's onBroken, with the time. */
  broken: Array<[number, string]>;
  /** Requests the server's handler received, by value. */
  handled: number[];
  /** Callback log: [time, label, result or error code]. */
  log: Array<[number, string, unknown]>;
  rec(label: string): (err: RpcError | null, result?: unknown) => void;
  /** Send `value` and return its label. */
  call(value: number, opts?: { delayMs?: number; fail?: boolean }): string;
};

/** Latency 1 ms each way, break notices after 10 ms. */
function world(seed = 1, net: Partial<NetworkOptions> = {}): World {
  const sim = new Simulation({
    seed,
    scheduler: { maxEvents: 100_000, maxTimeMs: 100_000 },
    network: { latency: { kind: "constant", ms: 1 }, connectionBreakDelayMs: 10, ...net },
  });
  const serverNode = sim.addNode("storage", { disk: {} });
  const tm = sim.addNode("tm-0");
  const handled: number[] = [];
  const server = new RpcServer(serverNode, (body, reply) => {
    const req = body as Echo;
    handled.push(req.value);
    const answer = (): void => (req.fail === true ? reply({ code: "EBAD", message: "refused by handler" }) : reply(null, req.value * 10));
    if (req.delayMs === undefined) answer();
    else sim.scheduler.schedule(req.delayMs, answer, serverNode);
  });
  const broken: Array<[number, string]> = [];
  const client = new RpcClient(sim.network, sim.scheduler, tm, server, (err) => broken.push([sim.now, err.code]));
  const log: Array<[number, string, unknown]> = [];
  const rec = (label: string) => (err: RpcError | null, result?: unknown) => {
    log.push([sim.now, label, err === null ? result : err.code]);
  };
  const call = (value: number, opts: { delayMs?: number; fail?: boolean } = {}): string => {
    const label = `r${value}`;
    client.call<number>({ value, ...opts } satisfies Echo, rec(label));
    return label;
  };
  return { sim, server, serverNode, tm, client, broken, handled, log, rec, call };
}

describe("requests and responses", () => {
  test("a request reaches the handler and its result comes back after a round trip", () => {
    const w = world();
    w.call(4);
    w.sim.scheduler.run();
    expect(w.handled).toEqual([4]);
    expect(w.log).toEqual([[2, "r4", 40]]);
    expect(w.broken).toEqual([]);
  });

  test("an error the handler replies reaches the caller's callback as is", () => {
    const w = world();
    w.client.call({ value: 1, fail: true } satisfies Echo, (err, result) => w.log.push([w.sim.now, "r1", [err, result]]));
    w.sim.scheduler.run();
    expect(w.log).toEqual([[2, "r1", [{ code: "EBAD", message: "refused by handler" }, undefined]]]);
  });

  test("responses that come back out of order each reach their own callback", () => {
    const w = world();
    w.call(1, { delayMs: 30 });
    w.call(2, { delayMs: 10 });
    w.call(3);
    w.sim.scheduler.run();
    expect(w.log).toEqual([
      [2, "r3", 30],
      [12, "r2", 20],
      [32, "r1", 10],
    ]);
    expect(w.sim.network.openConnectionCount()).toBe(1);
  });

  test("a clogged link delays the response without failing the request", () => {
    const w = world();
    w.sim.network.clog("storage", "tm-0");
    w.call(5);
    w.sim.scheduler.run({ untilTimeMs: 100 });
    expect(w.log).toEqual([]);
    w.sim.network.unclog("storage", "tm-0");
    w.sim.scheduler.run();
    expect(w.log).toEqual([[101, "r5", 50]]);
    expect(w.broken).toEqual([]);
  });
});

describe("broken connections", () => {
  test("a crash of the server fails every outstanding request with ECONNRESET after the break delay", () => {
    const w = world();
    w.call(1, { delayMs: 50 });
    w.call(2, { delayMs: 50 });
    w.sim.scheduler.run({ untilTimeMs: 5 });
    w.sim.crash("storage");
    w.sim.scheduler.run();
    expect(w.log).toEqual([
      [15, "r1", "ECONNRESET"],
      [15, "r2", "ECONNRESET"],
    ]);
    expect(w.broken).toEqual([[15, "ECONNRESET"]]);
  });

  test("a call while the server is down fails with ECONNREFUSED, and the first call after its restart succeeds", () => {
    const w = world();
    w.call(1);
    w.sim.scheduler.run();
    w.sim.crash("storage");
    w.sim.scheduler.run();
    w.log.length = 0;
    w.call(2);
    w.sim.scheduler.run();
    expect(w.log).toEqual([[w.log[0]?.[0], "r2", "ECONNREFUSED"]]);
    w.sim.restart("storage");
    w.call(3);
    w.sim.scheduler.run();
    expect(w.log.slice(1).map(([, label, v]) => [label, v])).toEqual([["r3", 30]]);
    expect(w.handled).toEqual([1, 3]);
  });

  test("a partition fails outstanding requests with ECONNRESET, calls across it fail with ETIMEDOUT, and after the heal calls succeed", () => {
    const w = world();
    w.call(1, { delayMs: 100 });
    w.sim.scheduler.run({ untilTimeMs: 5 });
    const p = w.sim.network.partition(["tm-0"], ["storage"]);
    w.sim.scheduler.run({ untilTimeMs: 20 });
    expect(w.log).toEqual([[15, "r1", "ECONNRESET"]]);
    w.call(2);
    w.sim.scheduler.run({ untilTimeMs: 40 });
    expect(w.log[1]).toEqual([30, "r2", "ETIMEDOUT"]);
    w.sim.network.heal(p);
    w.call(3);
    w.sim.scheduler.run();
    expect(w.log.slice(2)).toEqual([[42, "r3", 30]]);
    expect(w.broken.map(([, code]) => code)).toEqual(["ECONNRESET", "ETIMEDOUT"]);
    // The server handled r1 (its reply was discarded with the connection) and r3, never r2.
    expect(w.handled).toEqual([1, 3]);
  });

  test("the late break notice of an old connection does not fail requests on the newer one", () => {
    const w = world();
    w.call(1, { delayMs: 100 });
    w.sim.scheduler.run({ untilTimeMs: 2 });
    // Broken at t=2, healed at once; the client learns of the break only at t=12.
    w.sim.network.partition(["tm-0"], ["storage"]);
    w.sim.network.heal();
    w.sim.scheduler.run({ untilTimeMs: 4 });
    // The old connection is no longer open, so this call opens a new one.
    w.call(2, { delayMs: 20 });
    w.sim.scheduler.run();
    expect(w.log).toEqual([
      [12, "r1", "ECONNRESET"],
      [26, "r2", 20],
    ]);
    expect(w.broken).toEqual([[12, "ECONNRESET"]]);
  });

  test("a reply the server sends after it crashed and restarted never reaches the client", () => {
    const w = world();
    const late: Array<() => void> = [];
    const server = new RpcServer(w.serverNode, (_body, reply) => {
      late.push(() => reply(null, "stale"));
    });
    const client = new RpcClient(w.sim.network, w.sim.scheduler, w.tm, server);
    client.call({}, w.rec("a"));
    w.sim.scheduler.run({ untilTimeMs: 5 });
    expect(late).toHaveLength(1);
    w.sim.crash("storage");
    w.sim.restart("storage");
    for (const send of late) send();
    w.sim.scheduler.run();
    expect(w.log).toEqual([[15, "a", "ECONNRESET"]]);
  });

  test("a crashed client's outstanding callbacks never run, and after its restart the client works again", () => {
    const w = world();
    w.call(1, { delayMs: 20 });
    w.sim.scheduler.run({ untilTimeMs: 5 });
    w.sim.crash("tm-0");
    w.sim.scheduler.run();
    expect(w.log).toEqual([]);
    expect(w.broken).toEqual([]);
    w.call(2);
    w.sim.scheduler.run();
    expect(w.log).toEqual([]);
    w.sim.restart("tm-0");
    w.call(3);
    w.sim.scheduler.run();
    expect(w.log.map(([, label, v]) => [label, v])).toEqual([["r3", 30]]);
    expect(w.handled).toEqual([1, 3]);
  });

  test("close drops the outstanding callbacks without reporting a break, and the next call reconnects", () => {
    const w = world();
    w.call(1, { delayMs: 5 });
    w.sim.scheduler.run({ untilTimeMs: 2 });
    w.client.close();
    w.sim.scheduler.run();
    expect(w.log).toEqual([]);
    expect(w.broken).toEqual([]);
    w.call(2);
    w.sim.scheduler.run();
    expect(w.log.map(([, label, v]) => [label, v])).toEqual([["r2", 20]]);
  });

  test("requests keep failing while the server stays down and each failure takes simulated time", () => {
    const w = world();
    w.sim.crash("storage");
    let attempts = 0;
    const retry = (): void => {
      attempts++;
      if (attempts > 20) return;
      w.client.call({ value: attempts } satisfies Echo, (err) => {
        w.log.push([w.sim.now, "retry", err?.code ?? "ok"]);
        retry();
      });
    };
    retry();
    w.sim.scheduler.run();
    expect(w.log).toHaveLength(20);
    expect(new Set(w.log.map(([, , code]) => code))).toEqual(new Set(["ECONNREFUSED"]));
    // Each refusal is reported one latency (1 ms) after the call: a retry loop cannot spin at one instant.
    expect(w.log.map(([t]) => t)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });
});
