/**
 * Properties of the simulated network under generated latency distributions, message schedules
 * and faults (partitions, clogs, crashes, restarts, closes).
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { Network } from "../src/sim/network.ts";
import type { Connection, NetworkOptions, NetworkStats } from "../src/sim/network.ts";
import { Random } from "../src/sim/random.ts";
import type { Distribution } from "../src/sim/random.ts";
import { Scheduler } from "../src/sim/scheduler.ts";
import { Trace } from "../src/sim/trace.ts";

const NODES = ["n0", "n1", "n2"] as const;
const nodeIx = fc.integer({ min: 0, max: NODES.length - 1 });
const ms = (max: number) => fc.double({ min: 0, max, noNaN: true, noDefaultInfinity: true });

const distribution: fc.Arbitrary<Distribution> = fc.oneof(
  ms(50).map((v): Distribution => ({ kind: "constant", ms: v })),
  fc.tuple(ms(20), ms(500)).map(([min, span]): Distribution => ({ kind: "uniform", minMs: min, maxMs: min + span })),
  fc.tuple(ms(100), ms(1000)).map(([mean, max]): Distribution => ({ kind: "exponential", meanMs: mean, maxMs: max })),
  fc.tuple(ms(10), fc.double({ min: 0, max: 1, noNaN: true }), ms(1000)).map(
    ([base, p, span]): Distribution => ({ kind: "bimodal", baseMs: base, tailProbability: p, tailMsMax: base + span }),
  ),
);

type Op =
  | { readonly kind: "send"; readonly from: number; readonly to: number }
  | { readonly kind: "connSend"; readonly conn: number; readonly fromA: boolean; readonly count: number }
  | { readonly kind: "connect"; readonly a: number; readonly b: number }
  | { readonly kind: "close"; readonly conn: number }
  | { readonly kind: "partition"; readonly inA: readonly boolean[]; readonly oneWay: boolean }
  | { readonly kind: "heal" }
  | { readonly kind: "clog" | "unclog"; readonly from: number; readonly to: number }
  | { readonly kind: "clogNode" | "unclogNode" | "crash" | "restart"; readonly node: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant("send" as const), from: nodeIx, to: nodeIx }), weight: 8 },
  {
    arbitrary: fc.record({ kind: fc.constant("connSend" as const), conn: fc.nat(5), fromA: fc.boolean(), count: fc.integer({ min: 1, max: 4 }) }),
    weight: 8,
  },
  { arbitrary: fc.record({ kind: fc.constant("connect" as const), a: nodeIx, b: nodeIx }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant("close" as const), conn: fc.nat(5) }), weight: 1 },
  {
    arbitrary: fc.record({
      kind: fc.constant("partition" as const),
      inA: fc.array(fc.boolean(), { minLength: NODES.length, maxLength: NODES.length }),
      oneWay: fc.boolean(),
    }),
    weight: 2,
  },
  { arbitrary: fc.record({ kind: fc.constant("heal" as const) }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constantFrom("clog" as const, "unclog" as const), from: nodeIx, to: nodeIx }), weight: 3 },
  {
    arbitrary: fc.record({ kind: fc.constantFrom("clogNode" as const, "unclogNode" as const, "crash" as const, "restart" as const), node: nodeIx }),
    weight: 3,
  },
);

type Scenario = {
  readonly seed: number;
  readonly options: Partial<NetworkOptions>;
  readonly linkLatency: readonly { readonly from: number; readonly to: number; readonly d: Distribution }[];
  readonly initial: readonly { readonly a: number; readonly b: number }[];
  readonly ops: readonly { readonly atMs: number; readonly op: Op }[];
};

const scenario = (faults: boolean): fc.Arbitrary<Scenario> =>
  fc.record({
    seed: fc.integer(),
    options: fc.record({
      latency: distribution,
      localLatency: distribution,
      lossProbability: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 0.5, noNaN: true })),
      duplicateProbability: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 0.5, noNaN: true })),
      connectionBreakDelayMs: ms(100),
    }),
    linkLatency: fc.array(fc.record({ from: nodeIx, to: nodeIx, d: distribution }), { maxLength: 3 }),
    initial: fc.array(fc.record({ a: nodeIx, b: nodeIx }), { minLength: 1, maxLength: 4 }),
    ops: fc.array(
      fc.record({
        atMs: fc.integer({ min: 0, max: 300 }),
        op: faults ? op : op.filter((o) => o.kind === "send" || o.kind === "connSend" || o.kind === "connect"),
      }),
      { minLength: 5, maxLength: 150, size: "medium" },
    ),
  });

type Delivery = {
  readonly channel: string;
  readonly seq: number;
  readonly timeMs: number;
  readonly from: string;
  readonly to: string;
  readonly blocked: boolean;
  readonly clogged: boolean;
  readonly connOpen: boolean;
  /** The receiver crashed between send and delivery (the message was addressed to an older incarnation). */
  readonly stale: boolean;
};

type Outcome = {
  readonly deliveries: Delivery[];
  readonly breaks: string[];
  readonly hash: string;
  readonly stats: NetworkStats;
  readonly inFlight: number;
  readonly inFlightAfterRelease: number;
};

/** Runs a scenario; at the end heals, unclogs and runs to quiescence. */
function simulate(s: Scenario): Outcome {
  const scheduler = new Scheduler({ maxEvents: 1_000_000, maxTimeMs: 1_000_000 });
  const trace = new Trace(scheduler, { level: "summary" });
  const net = new Network(scheduler, Random.fromSeed(s.seed).fork("network"), trace, s.options);
  const deliveries: Delivery[] = [];
  const breaks: string[] = [];
  const seqs = new Map<string, number>();
  const nextSeq = (channel: string): number => {
    const n = seqs.get(channel) ?? 0;
    seqs.set(channel, n + 1);
    return n;
  };
  type Payload = { channel: string; seq: number; inc: number };
  const record = (p: Payload, from: string, to: string, conn: Connection | null): void => {
    deliveries.push({
      channel: p.channel, seq: p.seq, timeMs: scheduler.now, from, to,
      blocked: net.isBlocked(from, to), clogged: net.isClogged(from, to), connOpen: conn === null ? true : conn.open,
      stale: scheduler.node(to).incarnation !== p.inc,
    });
  };
  for (const n of NODES) {
    scheduler.addNode(n);
    const listen = () => net.listen(n, "p", (payload, from) => record(payload as Payload, from, n, null));
    listen();
    scheduler.node(n).onRestart(listen);
  }
  for (const l of s.linkLatency) net.setLinkLatency(NODES[l.from] as string, NODES[l.to] as string, l.d);
  const conns: Connection[] = [];
  const connect = (ai: number, bi: number): void => {
    const a = NODES[ai] as string;
    const b = NODES[bi] as string;
    const id = conns.length;
    const handlers = (self: string, peer: string) => ({
      onMessage: (payload: unknown) => record(payload as Payload, peer, self, conns[id] ?? null),
      onBreak: (err: { code: string }) => breaks.push(`${scheduler.now}:${id}:${self}:${err.code}`),
    });
    conns.push(net.connect(a, b, handlers(a, b), handlers(b, a)));
  };
  for (const c of s.initial) connect(c.a, c.b);
  const node = (i: number): string => NODES[i] as string;
  for (const { atMs, op: o } of s.ops) {
    scheduler.at(atMs, () => {
      switch (o.kind) {
        case "send": {
          const channel = `dg:${node(o.from)}>${node(o.to)}`;
          const inc = scheduler.node(node(o.to)).incarnation;
          net.send(node(o.from), node(o.to), "p", { channel, seq: nextSeq(channel), inc });
          return;
        }
        case "connSend": {
          const c = conns[o.conn % conns.length];
          if (c === undefined) return;
          const channel = `conn${c.id}:${o.fromA ? "ab" : "ba"}`;
          const end = o.fromA ? c.endA : c.endB;
          const inc = scheduler.node(end.peer).incarnation;
          for (let i = 0; i < o.count; i++) {
            const seq = seqs.get(channel) ?? 0;
            if (end.send({ channel, seq, inc })) nextSeq(channel);
          }
          return;
        }
        case "connect":
          return connect(o.a, o.b);
        case "close":
          return conns[o.conn % conns.length]?.close();
        case "partition": {
          const a = NODES.filter((_, i) => o.inA[i] === true);
          const b = NODES.filter((_, i) => o.inA[i] !== true);
          net.partition(a, b, { oneWay: o.oneWay });
          return;
        }
        case "heal":
          return net.heal();
        case "clog":
          return net.clog(node(o.from), node(o.to));
        case "unclog":
          return net.unclog(node(o.from), node(o.to));
        case "clogNode":
          return net.clogNode(node(o.node));
        case "unclogNode":
          return net.unclogNode(node(o.node));
        case "crash":
          return scheduler.crash(node(o.node));
        case "restart":
          return scheduler.restart(node(o.node));
      }
    });
  }
  scheduler.run();
  const inFlight = net.inFlight;
  const stats = net.stats;
  net.heal();
  for (const a of NODES) {
    net.unclogNode(a);
    for (const b of NODES) net.unclog(a, b);
  }
  scheduler.run();
  return { deliveries, breaks, hash: trace.hash(), stats, inFlight, inFlightAfterRelease: net.inFlight };
}

function byChannel(deliveries: readonly Delivery[]): Map<string, number[]> {
  const m = new Map<string, number[]>();
  for (const d of deliveries) {
    const list = m.get(d.channel) ?? [];
    list.push(d.seq);
    m.set(d.channel, list);
  }
  return m;
}

describe("network properties", () => {
  test("every link and every connection is FIFO under any latency distribution and any faults", () => {
    fc.assert(
      fc.property(scenario(true), (s) => {
        const out = simulate(s);
        const dupAllowed = (s.options.duplicateProbability ?? 0) > 0;
        for (const [channel, list] of byChannel(out.deliveries)) {
          for (let i = 1; i < list.length; i++) {
            const prev = list[i - 1] as number;
            const cur = list[i] as number;
            const datagramDup = channel.startsWith("dg:") && dupAllowed && cur === prev;
            if (!(cur > prev || datagramDup)) throw new Error(`${channel} out of order: ${list.join(",")}`);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  test("nothing crosses a partition, a clog or a crash: no delivery on a blocked or clogged link or to a later incarnation", () => {
    fc.assert(
      fc.property(scenario(true), (s) => {
        for (const d of simulate(s).deliveries) {
          expect(d.blocked, `${d.channel}#${d.seq} delivered across a partition at ${d.timeMs}`).toBe(false);
          expect(d.clogged, `${d.channel}#${d.seq} delivered through a clog at ${d.timeMs}`).toBe(false);
          expect(d.stale, `${d.channel}#${d.seq} delivered to a restarted node at ${d.timeMs}`).toBe(false);
        }
      }),
      { numRuns: 300 },
    );
  });

  test("a connection delivers each message at most once, only while open, with no gaps", () => {
    fc.assert(
      fc.property(scenario(true), (s) => {
        const out = simulate(s);
        for (const d of out.deliveries) {
          expect(d.connOpen, `${d.channel}#${d.seq} delivered on a closed connection`).toBe(true);
        }
        for (const [channel, list] of byChannel(out.deliveries)) {
          if (channel.startsWith("dg:")) continue;
          // Messages are lost only when the connection ends, so what arrives is a prefix 0, 1, 2 ...
          expect(list, channel).toEqual([...list.keys()]);
        }
      }),
      { numRuns: 300 },
    );
  });

  test("messages are accounted for: sent plus duplicates equals delivered plus dropped plus in flight", () => {
    fc.assert(
      fc.property(scenario(true), (s) => {
        const out = simulate(s);
        const st = out.stats;
        expect(st.sent + st.duplicated).toBe(st.delivered + st.dropped + out.inFlight);
        expect(out.inFlightAfterRelease).toBe(0);
      }),
      { numRuns: 200 },
    );
  });

  test("without faults or loss every connection message and datagram is delivered", () => {
    fc.assert(
      fc.property(scenario(false), (s) => {
        const lossless = { ...s, options: { ...s.options, lossProbability: 0, duplicateProbability: 0 } };
        const out = simulate(lossless);
        expect(out.stats.dropped).toBe(0);
        expect(out.stats.delivered).toBe(out.stats.sent);
        expect(out.breaks).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });

  test("the same seed gives identical delivery logs, breaks and trace hashes", () => {
    fc.assert(
      fc.property(scenario(true), (s) => {
        const first = simulate(s);
        const second = simulate(s);
        expect(second.deliveries).toEqual(first.deliveries);
        expect(second.breaks).toEqual(first.breaks);
        expect(second.hash).toBe(first.hash);
        expect(second.stats).toEqual(first.stats);
      }),
      { numRuns: 150 },
    );
  });
});
