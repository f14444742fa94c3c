/**
 * Properties of the simulation kernel: the scheduler's clock, its bounds, crash semantics, and the
 * determinism of a seeded run's trace hash.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { Random } from "../src/sim/random.ts";
import { BoundExceeded, Scheduler } from "../src/sim/scheduler.ts";
import type { SimNode, Timer } from "../src/sim/scheduler.ts";
import { Trace } from "../src/sim/trace.ts";
import type { TraceLevel } from "../src/sim/trace.ts";

/** Delays with many ties (0 and small integers) as well as fractional ones. */
const delayArb = fc.oneof(
  fc.constant(0),
  fc.integer({ min: 0, max: 20 }),
  fc.double({ min: 0, max: 100, noNaN: true, noDefaultInfinity: true }),
);

/** What the k-th timer to fire does: schedule some children and maybe cancel a timer by index. */
const stepArb = fc.record({
  spawn: fc.array(delayArb, { maxLength: 3 }),
  cancel: fc.option(fc.nat(), { nil: undefined }),
});

describe("kernel properties", () => {
  test("time never goes backwards, ties run in scheduling order, and every timer not cancelled fires once at its due time", () => {
    fc.assert(
      fc.property(fc.array(delayArb, { minLength: 1, maxLength: 20 }), fc.array(stepArb, { maxLength: 60 }), (initial, script) => {
        const s = new Scheduler({ maxEvents: 10_000 });
        type Entry = { timer: Timer; due: number; fired: number; cancelled: boolean };
        const entries: Entry[] = [];
        let last = 0;
        let lastIndex = -1;
        let firings = 0;
        const arm = (delay: number): void => {
          const index = entries.length;
          const timer = s.schedule(delay, () => {
            const e = entries[index];
            if (e === undefined) throw new Error(`timer ${index} has no entry`);
            expect(s.now).toBeGreaterThanOrEqual(last);
            expect(s.now).toBe(e.due);
            expect(e.cancelled).toBe(false);
            // Ties run in scheduling order; entries are indexed in scheduling order.
            if (s.now === last) expect(index).toBeGreaterThan(lastIndex);
            last = s.now;
            lastIndex = index;
            e.fired++;
            const step = script[firings++];
            if (step === undefined) return;
            for (const d of step.spawn) arm(d);
            if (step.cancel !== undefined) {
              const victim = entries[step.cancel % entries.length];
              if (victim !== undefined && victim.fired === 0) {
                victim.cancelled = true;
                s.cancel(victim.timer);
              }
            }
          });
          entries.push({ timer, due: s.now + delay, fired: 0, cancelled: false });
        };
        for (const d of initial) arm(d);
        const out = s.run();
        expect(out.reason).toBe("quiescent");
        for (const e of entries) expect(e.fired).toBe(e.cancelled ? 0 : 1);
        expect(out.events).toBe(entries.filter((e) => !e.cancelled).length);
      }),
      { numRuns: 300 },
    );
  });

  test("a self-rescheduling timer loop always ends with BoundExceeded naming the bound it crossed", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2_000 }),
        fc.integer({ min: 1, max: 5_000 }),
        fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 1, maxLength: 4 }),
        fc.constantFrom("run", "step", "runInSlices"),
        (maxEvents, maxTimeMs, delays, driver) => {
          const s = new Scheduler({ maxEvents, maxTimeMs });
          for (const d of delays) {
            const loop = (): void => void s.schedule(d, loop);
            s.schedule(d, loop);
          }
          // Events due at or before maxTimeMs; the time bound is checked before the event bound.
          const due = delays.reduce((n, d) => n + (d === 0 ? Infinity : Math.floor(maxTimeMs / d)), 0);
          const expected = due > maxEvents ? "maxEvents" : "maxTimeMs";
          let caught: unknown;
          try {
            if (driver === "run") s.run();
            else if (driver === "step") for (let i = 0; i <= maxEvents; i++) s.step();
            // Slices of 1.5 ms until past the first event beyond maxTimeMs (delays are at most 50).
            else for (let i = 1; i * 1.5 <= maxTimeMs + 52; i++) s.run({ untilTimeMs: i * 1.5 });
          } catch (e) {
            caught = e;
          }
          expect(caught).toBeInstanceOf(BoundExceeded);
          const b = caught as BoundExceeded;
          expect(b.bound).toBe(expected);
          expect(b.limit).toBe(expected === "maxEvents" ? maxEvents : maxTimeMs);
          expect(b.events).toBe(Math.min(due, maxEvents));
          expect(b.timeMs).toBeLessThanOrEqual(maxTimeMs);
          expect(s.eventCount).toBeLessThanOrEqual(maxEvents);
        },
      ),
      { numRuns: 300 },
    );
  });

  test("a crashed node's timers never fire, and every timer of a node that stays up does", () => {
    const actionArb = fc.record({
      atMs: fc.integer({ min: 0, max: 200 }),
      node: fc.nat({ max: 3 }),
      kind: fc.constantFrom("crash", "restart"),
    });
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.array(actionArb, { maxLength: 25 }),
        (seed, actions) => {
          const s = new Scheduler({ maxEvents: 100_000 });
          const rng = Random.fromSeed(seed);
          type Pending = { node: SimNode; incarnation: number; fired: boolean; killed: boolean; bornDead: boolean };
          const timers: Pending[] = [];
          const nodes = [0, 1, 2, 3].map((i) => s.addNode(`n${i}`));
          const arm = (node: SimNode, r: Random, left: number): void => {
            const entry: Pending = { node, incarnation: node.incarnation, fired: false, killed: false, bornDead: !node.alive };
            timers.push(entry);
            s.schedule(
              r.int(0, 15),
              () => {
                expect(node.alive).toBe(true);
                expect(node.incarnation).toBe(entry.incarnation);
                expect(entry.killed || entry.bornDead).toBe(false);
                entry.fired = true;
                if (left > 0) arm(node, r, left - 1);
                // A node also arms a timer on another node, alive or not.
                if (r.chance(0.3)) {
                  const other = r.pick(nodes);
                  arm(other, r, 0);
                }
              },
              node,
            );
          };
          for (const n of nodes) {
            const r = rng.fork(n.id);
            n.onCrash(() => {
              for (const t of timers) if (t.node === n && !t.fired) t.killed = true;
            });
            n.onRestart(() => arm(n, r, 5));
            arm(n, r, 10);
          }
          for (const a of actions) {
            s.at(a.atMs, () => (a.kind === "crash" ? s.crash(`n${a.node}`) : s.restart(`n${a.node}`)));
          }
          expect(s.run().reason).toBe("quiescent");
          for (const t of timers) expect(t.fired).toBe(!t.killed && !t.bornDead);
        },
      ),
      { numRuns: 200 },
    );
  });
});

/**
 * A small randomized workload: nodes whose timers draw delays and payloads from forked streams and
 * emit trace events, with a chaos stream that crashes and restarts nodes. Returns the trace hash.
 */
function workloadHash(seed: number, level: TraceLevel = "summary"): string {
  const s = new Scheduler({ maxEvents: 20_000, maxTimeMs: 60_000 });
  const trace = new Trace(s, { level });
  const root = Random.fromSeed(seed);
  const nodeCount = 3;
  for (let i = 0; i < nodeCount; i++) {
    const node = s.addNode(`w${i}`);
    const r = root.fork(node.id);
    let budget = 40;
    const tick = (): void => {
      const value = r.int(0, 1_000);
      trace.emit(node.id, "tick", { value, budget });
      if (trace.detailed) trace.detail(node.id, "tick.detail", { value });
      if (budget-- > 0) s.schedule(r.sample({ kind: "exponential", meanMs: 5, maxMs: 50 }), tick, node);
    };
    node.onCrash(() => trace.emit(node.id, "crash", { incarnation: node.incarnation }));
    node.onRestart(() => {
      trace.emit(node.id, "restart", {});
      s.schedule(r.sample({ kind: "uniform", minMs: 0, maxMs: 3 }), tick, node);
    });
    s.schedule(r.sample({ kind: "uniform", minMs: 0, maxMs: 10 }), tick, node);
  }
  const chaos = root.fork("chaos");
  for (let i = 0; i < 6; i++) {
    const id = `w${chaos.int(0, nodeCount - 1)}`;
    const crashAt = chaos.float() * 150;
    s.at(crashAt, () => s.crash(id));
    s.at(crashAt + chaos.exponential(10), () => s.restart(id));
  }
  s.run();
  trace.emit("sim", "end", { events: s.eventCount });
  return trace.hash();
}

describe("kernel determinism", () => {
  test("the same seed gives the same trace hash, at every trace level", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.constantFrom<TraceLevel>("off", "summary", "full"), (seed, level) => {
        const first = workloadHash(seed, level);
        expect(workloadHash(seed, "summary")).toBe(first);
      }),
      { numRuns: 60 },
    );
  });

  test("different seeds give different trace hashes", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (a, b) => {
          fc.pre(a !== b);
          expect(workloadHash(a)).not.toBe(workloadHash(b));
        },
      ),
      { numRuns: 60 },
    );
  });

  test("a sample of consecutive seeds has no hash collision", () => {
    const hashes = new Set<string>();
    const seeds = 150;
    for (let seed = 0; seed < seeds; seed++) hashes.add(workloadHash(seed));
    expect(hashes.size).toBe(seeds);
  });
});
