import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { AssertionFailure } from "./assert.ts";
import { BoundExceeded, Scheduler, defaultSchedulerOptions, nodeId, validateSchedulerOptions } from "./scheduler.ts";

/** Runs `fn` and returns the BoundExceeded it throws (fails the test if it throws nothing else). */
function boundOf(fn: () => unknown): BoundExceeded {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(BoundExceeded);
    return e as BoundExceeded;
  }
  throw new Error("expected a BoundExceeded, nothing was thrown");
}

describe("Scheduler ordering", () => {
  test("events run in time order and the clock reads each event's time", () => {
    const s = new Scheduler();
    const log: string[] = [];
    s.schedule(30, () => log.push(`c@${s.now}`));
    s.schedule(10, () => log.push(`a@${s.now}`));
    s.at(20, () => log.push(`b@${s.now}`));
    s.schedule(0.5, () => log.push(`frac@${s.now}`));
    const out = s.run();
    expect(log).toEqual(["frac@0.5", "a@10", "b@20", "c@30"]);
    expect(out).toEqual({ reason: "quiescent", timeMs: 30, events: 4 });
  });

  test("events due at the same time run in the order they were scheduled", () => {
    const s = new Scheduler();
    const log: number[] = [];
    for (let i = 0; i < 40; i++) s.schedule(i % 2 === 0 ? 5 : 7, () => log.push(i));
    s.run();
    const evens = Array.from({ length: 20 }, (_, k) => 2 * k);
    const odds = evens.map((x) => x + 1);
    expect(log).toEqual([...evens, ...odds]);
  });

  test("a zero-delay timer scheduled by a running event runs after the events already due now", () => {
    const s = new Scheduler();
    const log: string[] = [];
    s.schedule(1, () => {
      log.push("first");
      s.schedule(0, () => log.push("nested"));
    });
    s.schedule(1, () => log.push("second"));
    s.run();
    expect(log).toEqual(["first", "second", "nested"]);
  });

  test("scheduling in the past, at a negative delay or at a non-finite time asserts", () => {
    const s = new Scheduler();
    s.schedule(10, () => undefined);
    s.run();
    expect(s.now).toBe(10);
    expect(() => s.at(9, () => undefined)).toThrow(AssertionFailure);
    expect(() => s.schedule(-1, () => undefined)).toThrow(AssertionFailure);
    expect(() => s.schedule(Number.POSITIVE_INFINITY, () => undefined)).toThrow(AssertionFailure);
    expect(() => s.schedule(Number.NaN, () => undefined)).toThrow(/must be/);
    expect(() => s.at(10, () => undefined)).not.toThrow();
  });
});

describe("Scheduler cancel", () => {
  test("a cancelled timer never fires and the others still do", () => {
    const s = new Scheduler();
    const log: string[] = [];
    const a = s.schedule(5, () => log.push("a"));
    s.schedule(5, () => log.push("b"));
    const c = s.schedule(1, () => log.push("c"));
    s.cancel(a);
    s.cancel(c);
    const out = s.run();
    expect(log).toEqual(["b"]);
    expect(out.events).toBe(1);
  });

  test("an event can cancel a later timer, and cancelling undefined, null or a fired timer is harmless", () => {
    const s = new Scheduler();
    const log: string[] = [];
    const late = s.schedule(10, () => log.push("late"));
    const early = s.schedule(1, () => {
      log.push("early");
      s.cancel(late);
    });
    s.run();
    expect(log).toEqual(["early"]);
    expect(() => {
      s.cancel(early);
      s.cancel(undefined);
      s.cancel(null);
    }).not.toThrow();
  });

  test("peekTime skips cancelled events and is undefined on an empty queue", () => {
    const s = new Scheduler();
    expect(s.peekTime()).toBeUndefined();
    const t = s.schedule(3, () => undefined);
    s.schedule(8, () => undefined);
    expect(s.pendingCount).toBe(2);
    s.cancel(t);
    expect(s.peekTime()).toBe(8);
    expect(s.pendingCount).toBe(1);
  });
});

describe("Scheduler nodes", () => {
  test("crash drops the node's timers, keeps other nodes' and unowned timers, and runs crash hooks", () => {
    const s = new Scheduler();
    const a = s.addNode("a");
    const b = s.addNode(nodeId("b"));
    const log: string[] = [];
    a.onCrash(() => log.push(`crash-hook a alive=${a.alive}`));
    s.schedule(5, () => log.push("a1"), a);
    s.schedule(15, () => log.push("a2"), a);
    s.schedule(15, () => log.push("b1"), b);
    s.schedule(15, () => log.push("free"));
    s.schedule(10, () => s.crash("a"));
    s.run();
    expect(log).toEqual(["a1", "crash-hook a alive=false", "b1", "free"]);
    expect(a.alive).toBe(false);
    expect(a.incarnation).toBe(1);
  });

  test("a dead node schedules nothing", () => {
    const s = new Scheduler();
    const a = s.addNode("a");
    s.crash("a");
    let fired = false;
    s.schedule(1, () => (fired = true), a);
    s.run();
    expect(fired).toBe(false);
  });

  test("a restarted node's new timers fire and its pre-crash timers stay dead", () => {
    const s = new Scheduler();
    const a = s.addNode("a");
    const log: string[] = [];
    a.onRestart(() => {
      log.push(`restart@${s.now}`);
      s.schedule(5, () => log.push(`new@${s.now}`), a);
    });
    s.schedule(50, () => log.push("old"), a);
    s.schedule(10, () => s.crash(a.id));
    s.schedule(20, () => s.restart(a.id));
    s.run();
    expect(log).toEqual(["restart@20", "new@25"]);
    expect(a.alive).toBe(true);
  });

  test("crashing a dead node and restarting a live node are no-ops", () => {
    const s = new Scheduler();
    const a = s.addNode("a");
    let crashes = 0;
    let restarts = 0;
    a.onCrash(() => crashes++);
    a.onRestart(() => restarts++);
    s.restart("a");
    s.crash("a");
    s.crash("a");
    expect([crashes, restarts, a.incarnation]).toEqual([1, 0, 1]);
    s.restart("a");
    s.restart("a");
    expect([crashes, restarts, a.incarnation]).toEqual([1, 1, 1]);
  });

  test("nodes are listed in creation order; duplicate or unknown ids assert", () => {
    const s = new Scheduler();
    s.addNode("z");
    s.addNode("a");
    expect(s.allNodes().map((n) => n.id)).toEqual(["z", "a"]);
    expect(s.hasNode("a")).toBe(true);
    expect(s.hasNode("q")).toBe(false);
    expect(s.node("z").id).toBe("z");
    expect(() => s.addNode("a")).toThrow(AssertionFailure);
    expect(() => s.node("q")).toThrow(AssertionFailure);
    expect(() => s.crash("q")).toThrow(AssertionFailure);
  });
});

describe("Scheduler run outcomes", () => {
  test("run untilTimeMs runs events due at exactly the limit and leaves the clock there", () => {
    const s = new Scheduler();
    const log: number[] = [];
    for (const t of [5, 10, 15]) s.at(t, () => log.push(t));
    const out = s.run({ untilTimeMs: 10 });
    expect(log).toEqual([5, 10]);
    expect(out).toEqual({ reason: "time", timeMs: 10, events: 2 });
    const out2 = s.run({ untilTimeMs: 12 });
    expect(out2).toEqual({ reason: "time", timeMs: 12, events: 2 });
    expect(s.now).toBe(12);
    const rest = s.run();
    expect(log).toEqual([5, 10, 15]);
    expect(rest).toEqual({ reason: "quiescent", timeMs: 15, events: 3 });
  });

  test("run untilTimeMs on a queue that empties is quiescent and advances the clock to the limit", () => {
    const s = new Scheduler();
    s.at(3, () => undefined);
    expect(s.run({ untilTimeMs: 40 })).toEqual({ reason: "quiescent", timeMs: 40, events: 1 });
    expect(s.now).toBe(40);
  });

  test("run with only cancelled events is quiescent and processes nothing", () => {
    const s = new Scheduler();
    s.cancel(s.schedule(1, () => undefined));
    expect(s.run()).toEqual({ reason: "quiescent", timeMs: 0, events: 0 });
  });

  test("run until a predicate stops right after the event that made it hold", () => {
    const s = new Scheduler();
    let count = 0;
    const tick = (): void => {
      count++;
      s.schedule(2, tick);
    };
    s.schedule(2, tick);
    const out = s.run({ until: () => count === 4 });
    expect(out).toEqual({ reason: "predicate", timeMs: 8, events: 4 });
    expect(s.pendingCount).toBe(1);
  });

  test("a predicate that already holds stops the run before any event", () => {
    const s = new Scheduler();
    s.schedule(1, () => undefined);
    expect(s.run({ until: () => true })).toEqual({ reason: "predicate", timeMs: 0, events: 0 });
  });

  test("step processes one live event at a time and returns false when none is left", () => {
    const s = new Scheduler();
    const log: number[] = [];
    s.cancel(s.schedule(1, () => log.push(1)));
    s.schedule(2, () => log.push(2));
    s.schedule(3, () => log.push(3));
    expect(s.step()).toBe(true);
    expect(log).toEqual([2]);
    expect(s.now).toBe(2);
    expect(s.step()).toBe(true);
    expect(s.step()).toBe(false);
    expect(s.eventCount).toBe(2);
  });
});

describe("Scheduler bounds", () => {
  test("maxEvents is enforced and the error names the bound", () => {
    const s = new Scheduler({ maxEvents: 7 });
    let fired = 0;
    const loop = (): void => {
      fired++;
      s.schedule(1, loop);
    };
    s.schedule(1, loop);
    const e = boundOf(() => s.run());
    expect(e.bound).toBe("maxEvents");
    expect(e.limit).toBe(7);
    expect(e.events).toBe(7);
    expect(fired).toBe(7);
    expect(e.message).toContain("maxEvents (7)");
  });

  test("maxTimeMs is enforced and the error names the bound; an event at exactly the bound runs", () => {
    const s = new Scheduler({ maxTimeMs: 100 });
    const times: number[] = [];
    const loop = (): void => {
      times.push(s.now);
      s.schedule(25, loop);
    };
    s.schedule(0, loop);
    const e = boundOf(() => s.run());
    expect(e.bound).toBe("maxTimeMs");
    expect(e.limit).toBe(100);
    expect(e.timeMs).toBe(100);
    expect(times).toEqual([0, 25, 50, 75, 100]);
    expect(e.message).toContain("maxTimeMs (100)");
  });

  test("step enforces both bounds too", () => {
    const byEvents = new Scheduler({ maxEvents: 1 });
    byEvents.schedule(1, () => undefined);
    byEvents.schedule(2, () => undefined);
    expect(byEvents.step()).toBe(true);
    expect(boundOf(() => byEvents.step()).bound).toBe("maxEvents");
    const byTime = new Scheduler({ maxTimeMs: 5 });
    byTime.schedule(6, () => undefined);
    expect(boundOf(() => byTime.step()).bound).toBe("maxTimeMs");
  });

  test("invalid options are rejected with a sentence that names the field", () => {
    expect(validateSchedulerOptions(defaultSchedulerOptions)).toBeUndefined();
    expect(validateSchedulerOptions({ maxEvents: 0, maxTimeMs: 1 })).toMatch(/^scheduler\.maxEvents must be/);
    expect(validateSchedulerOptions({ maxEvents: 1.5, maxTimeMs: 1 })).toMatch(/scheduler\.maxEvents/);
    expect(validateSchedulerOptions({ maxEvents: 1, maxTimeMs: Number.POSITIVE_INFINITY })).toMatch(/^scheduler\.maxTimeMs must be/);
    expect(() => new Scheduler({ maxTimeMs: -1 })).toThrow(/scheduler\.maxTimeMs/);
  });
});

describe("Scheduler.tail", () => {
  /** A random program of events that schedule more events, with `tail` or `schedule(0)` at their ends. */
  function program(useTail: boolean): { log: string[]; events: number; pending: number } {
    const s = new Scheduler();
    const owner = s.addNode("n");
    const log: string[] = [];
    let k = 0;
    const step = (name: string, depth: number): void => {
      log.push(`${name}@${s.now}`);
      if (depth >= 4) return;
      // Some children due now, some later; the last action is a zero-delay follow-up.
      if (k++ % 3 === 0) s.schedule(0, () => step(`${name}.now`, depth + 1));
      if (k % 2 === 0) s.schedule(1, () => step(`${name}.later`, depth + 1), owner);
      const next = (): void => step(`${name}.next`, depth + 1);
      if (useTail) s.tail(next, owner);
      else s.schedule(0, next, owner);
    };
    for (let i = 0; i < 5; i++) s.schedule(i % 2, () => step(`r${i}`, 0));
    const out = s.run();
    return { log, events: out.events, pending: s.pendingCount };
  }

  test("tail gives the same events, order, clock and event count as a zero-delay schedule", () => {
    const viaSchedule = program(false);
    const viaTail = program(true);
    expect(viaTail.log).toEqual(viaSchedule.log);
    expect(viaTail.events).toBe(viaSchedule.events);
    expect(viaTail.log.length).toBeGreaterThan(20);
  });

  test("tail runs the event inline when nothing else is due now, and queues it otherwise", () => {
    const s = new Scheduler();
    const log: string[] = [];
    s.schedule(1, () => {
      s.tail(() => log.push("inline"));
      log.push("after-tail");
    });
    s.schedule(2, () => {
      s.schedule(0, () => log.push("due-now"));
      s.tail(() => log.push("queued"));
      log.push("after-tail-2");
    });
    expect(s.run().events).toBe(5);
    expect(log).toEqual(["inline", "after-tail", "after-tail-2", "due-now", "queued"]);
  });

  test("tail outside run only queues the event", () => {
    const s = new Scheduler();
    const log: string[] = [];
    s.tail(() => log.push("x"));
    expect(log).toEqual([]);
    expect(s.pendingCount).toBe(1);
    expect(s.step()).toBe(true);
    expect(log).toEqual(["x"]);
  });

  test("tail of a dead owner does nothing", () => {
    const s = new Scheduler();
    const n = s.addNode("n");
    const log: string[] = [];
    s.schedule(1, () => {
      s.crash("n");
      s.tail(() => log.push("x"), n);
    });
    expect(s.run().events).toBe(1);
    expect(log).toEqual([]);
  });

  test("tail queues the event when run's predicate already holds, so run stops before it", () => {
    const s = new Scheduler();
    let done = false;
    const log: string[] = [];
    s.schedule(1, () => {
      done = true;
      s.tail(() => log.push("x"));
    });
    expect(s.run({ until: () => done })).toEqual({ reason: "predicate", timeMs: 1, events: 1 });
    expect(log).toEqual([]);
    expect(s.pendingCount).toBe(1);
  });

  test("tail respects maxEvents like a queued event", () => {
    const s = new Scheduler({ maxEvents: 3 });
    const loop = (): void => s.tail(loop);
    s.schedule(1, loop);
    expect(boundOf(() => s.run()).bound).toBe("maxEvents");
    expect(s.eventCount).toBe(3);
  });
});

describe("Scheduler queue", () => {
  /**
   * A naive reference: every pending event in one array, the next one found by a scan for the
   * smallest (time, seq). Same interface subset as the scheduler under test.
   */
  class NaiveScheduler {
    now = 0;
    private seq = 0;
    private readonly pending: Array<{ time: number; seq: number; fn: () => void; cancelled: boolean }> = [];
    schedule(delayMs: number, fn: () => void): { cancelled: boolean } {
      const e = { time: this.now + delayMs, seq: this.seq++, fn, cancelled: false };
      this.pending.push(e);
      return e;
    }
    cancel(t: { cancelled: boolean }): void {
      t.cancelled = true;
    }
    run(): void {
      for (let guard = 0; guard < 100_000 && this.pending.length > 0; guard++) {
        let best = 0;
        for (let i = 1; i < this.pending.length; i++) {
          const a = this.pending[i]!;
          const b = this.pending[best]!;
          if (a.time < b.time || (a.time === b.time && a.seq < b.seq)) best = i;
        }
        const [e] = this.pending.splice(best, 1);
        if (e!.cancelled) continue;
        this.now = e!.time;
        e!.fn();
      }
    }
  }

  /** A program of events (from a list of numbers) that schedule children and cancel timers. */
  function drive(ops: readonly number[], s: { now: number; schedule(d: number, fn: () => void): unknown; cancel(t: never): void; run(): void }): string[] {
    const log: string[] = [];
    const timers: unknown[] = [];
    let k = 0;
    const delays = [0, 0, 0, 1, 2.5];
    const event = (name: string, depth: number) => (): void => {
      log.push(`${name}@${s.now}`);
      if (depth >= 5) return;
      const op = ops[k++ % ops.length] as number;
      for (let c = 0; c < op % 3 + (depth === 0 ? 1 : 0); c++) {
        timers.push(s.schedule(delays[(op + c) % delays.length] as number, event(`${name}.${c}`, depth + 1)));
      }
      if (op % 7 === 0 && timers.length > 0) s.cancel(timers[op % timers.length] as never);
    };
    for (let i = 0; i < 4; i++) timers.push(s.schedule(delays[i % delays.length] as number, event(`r${i}`, 0)));
    s.run();
    return log;
  }

  test("events due now and later run in the same order as a naive (time, seq) queue, cancellations included", () => {
    fc.assert(
      fc.property(fc.array(fc.nat(1000), { minLength: 1, maxLength: 40 }), (ops) => {
        const real = new Scheduler();
        const realLog = drive(ops, { get now() { return real.now; }, schedule: (d, fn) => real.schedule(d, fn), cancel: (t) => real.cancel(t), run: () => real.run() });
        const naive = new NaiveScheduler();
        expect(realLog).toEqual(drive(ops, naive));
      }),
      { numRuns: 150 },
    );
  });

  test("pendingCount counts events due now and later; a crash drops the owner's events due now", () => {
    const s = new Scheduler();
    const n = s.addNode("n");
    const log: string[] = [];
    s.schedule(0, () => log.push("now-owned"), n);
    s.schedule(0, () => log.push("now"));
    s.schedule(1, () => log.push("later-owned"), n);
    expect(s.pendingCount).toBe(3);
    s.crash("n");
    expect(s.peekTime()).toBe(0);
    s.run();
    expect(log).toEqual(["now"]);
    expect(s.pendingCount).toBe(0);
  });
});
