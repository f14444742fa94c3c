import { describe, expect, test } from "vitest";
import { Simulation } from "../sim/simulation.ts";
import { FaultInjector, validateFaultPlan } from "./injector.ts";
import type { FaultTargets, FaultVertex, RpcKind } from "./injector.ts";
import type { Fault, FaultPlan } from "./plan.ts";

const NODES = ["jm", "tm-0", "tm-1", "broker", "storage"];
const VERTICES: readonly FaultVertex[] = [{ id: "map", parallelism: 2 }, "sink"];

/** A real Simulation with the cluster's nodes and a fake engine that records what the injector asks of it. */
function cluster(faults: readonly Fault[] | FaultPlan, opts: { seed?: number; traffic?: boolean } = {}) {
  const sim = new Simulation({ seed: opts.seed ?? 1 });
  for (const n of NODES) sim.addNode(n, n === "storage" || n === "jm" ? { disk: {} } : {});
  const calls: string[] = [];
  const targets: FaultTargets = {
    sim,
    nodes: NODES,
    vertices: VERTICES,
    failTask: (v, s) => calls.push(`${sim.now} failTask ${v}/${s}`),
    setOperatorSlowdown: (v, f) => calls.push(`${sim.now} slowOperator ${v} x${f}`),
    setRpcDrop: (r: RpcKind, d) => calls.push(`${sim.now} dropRpc ${r} ${d}`),
    setBrokerSlowFactor: (f) => calls.push(`${sim.now} slowBroker x${f}`),
  };
  if (opts.traffic === true) {
    // Every TaskManager sends a heartbeat to the JobManager every 10 ms; the JobManager traces each.
    sim.network.listen("jm", "hb", (payload, from) => sim.trace.emit("jm", "hb", { from, n: payload as number }));
    for (const tm of ["tm-0", "tm-1"]) {
      for (let i = 0; i < 50; i++) sim.scheduler.at(i * 10, () => sim.network.send(tm, "jm", "hb", i));
    }
  }
  const injector = new FaultInjector(targets, "faults" in faults ? faults : { faults });
  /** "time node kind" of the injector's fault events. */
  const faultEvents = (): string[] =>
    sim.trace
      .events()
      .filter((e) => e.kind === "fault" || e.kind === "fault-end")
      .map((e) => `${e.time} ${e.node} ${e.kind} ${String(e.data.fault)}${e.data.skipped === true ? " skipped" : ""}`);
  return { sim, calls, injector, faultEvents };
}

/** At `atMs`, read `f()` into the returned list (a probe scheduled before the run). */
function probe<T>(sim: Simulation, atMs: number, f: () => T): T[] {
  const got: T[] = [];
  sim.scheduler.at(atMs, () => got.push(f()));
  return got;
}

describe("absolute moments", () => {
  test("a crash happens at its time and the node restarts restartAfterMs later", () => {
    const c = cluster([{ at: 100, fault: "crash", node: "tm-0", restartAfterMs: 50 }]);
    c.injector.install();
    const alive = (t: number) => probe(c.sim, t, () => c.sim.scheduler.node("tm-0").alive);
    const [a99, a100, a149, a150] = [alive(99.9), alive(100.1), alive(149.9), alive(150.1)];
    c.sim.scheduler.run({ untilTimeMs: 1000 });
    expect([a99, a100, a149, a150]).toEqual([[true], [false], [false], [true]]);
    expect(c.faultEvents()).toEqual(["100 tm-0 fault crash", "150 tm-0 fault-end crash"]);
    const kinds = c.sim.trace.events().filter((e) => e.node === "tm-0").map((e) => `${e.time} ${e.kind}`);
    expect(kinds).toEqual(["100 fault", "100 crash", "150 fault-end", "150 restart"]);
    expect(c.injector.applied).toEqual([
      { index: 0, fault: { at: 100, fault: "crash", node: "tm-0", restartAfterMs: 50 }, target: "tm-0", startMs: 100, endMs: 150, skipped: false },
    ]);
  });

  test("a crash without restartAfterMs leaves the node down and the fault without an end", () => {
    const c = cluster([{ at: 10, fault: "crash", node: "jm" }]);
    c.injector.install();
    c.sim.scheduler.run({ untilTimeMs: 1000 });
    expect(c.sim.scheduler.node("jm").alive).toBe(false);
    expect(c.injector.applied[0]?.endMs).toBeUndefined();
    expect(c.faultEvents()).toEqual(["10 jm fault crash"]);
  });

  test("a crash of a node that is already down is traced as skipped and schedules no restart", () => {
    const c = cluster([
      { at: 100, fault: "crash", node: "tm-1", restartAfterMs: 100 },
      { at: 120, fault: "crash", node: "tm-1", restartAfterMs: 10 },
    ]);
    c.injector.install();
    const at135 = probe(c.sim, 135, () => c.sim.scheduler.node("tm-1").alive);
    c.sim.scheduler.run({ untilTimeMs: 1000 });
    expect(at135).toEqual([false]);
    expect(c.faultEvents()).toEqual(["100 tm-1 fault crash", "120 tm-1 fault crash skipped", "200 tm-1 fault-end crash"]);
    expect(c.injector.applied.map((a) => [a.index, a.skipped, a.startMs, a.endMs])).toEqual([
      [0, false, 100, 200],
      [1, true, 120, 120],
    ]);
  });

  test("faults due at the same time run in plan order", () => {
    const c = cluster([
      { at: 5, fault: "failTask", vertex: "map", subtask: 1 },
      { at: 5, fault: "failTask", vertex: "sink", subtask: 0 },
    ]);
    c.injector.install();
    c.sim.scheduler.run({ untilTimeMs: 100 });
    expect(c.calls).toEqual(["5 failTask map/1", "5 failTask sink/0"]);
    expect(c.injector.applied.map((a) => [a.target, a.startMs, a.endMs])).toEqual([
      ["cluster", 5, 5],
      ["cluster", 5, 5],
    ]);
  });
});

describe("trigger moments", () => {
  /** Emits checkpoint-completed for ids 1..3 at 10, 20, 30 ms. */
  function completions(sim: Simulation, inStep: (id: number) => void = () => {}): void {
    for (const id of [1, 2, 3]) {
      sim.scheduler.at(id * 10, () => {
        sim.trace.emit("jm", "checkpoint-completed", { id });
        inStep(id);
      });
    }
  }

  test("a fault fires delayMs after the nth event of its kind", () => {
    const c = cluster([{ at: { after: "checkpoint-completed", nth: 2, delayMs: 5 }, fault: "failTask", vertex: "map", subtask: 0 }]);
    c.injector.install();
    completions(c.sim);
    c.sim.scheduler.run({ untilTimeMs: 100 });
    expect(c.calls).toEqual(["25 failTask map/0"]);
  });

  test("with delay 0 the fault lands after the triggering step, before anything that step sends", () => {
    const c = cluster([{ at: { after: "checkpoint-completed", nth: 2 }, fault: "crash", node: "tm-0" }]);
    c.injector.install();
    const delivered: number[] = [];
    c.sim.network.listen("tm-0", "notify", (p) => delivered.push(p as number));
    const aliveInStep: boolean[] = [];
    completions(c.sim, (id) => {
      aliveInStep.push(c.sim.scheduler.node("tm-0").alive);
      c.sim.network.send("jm", "tm-0", "notify", id);
    });
    c.sim.scheduler.run({ untilTimeMs: 100 });
    expect(aliveInStep).toEqual([true, true, false]);
    expect(c.injector.applied[0]?.startMs).toBe(20);
    // Notification 1 arrived; notification 2 was in flight when the crash came.
    expect(delivered).toEqual([1]);
  });

  test("job-running counts only job-status events whose status is RUNNING", () => {
    const c = cluster([{ at: { after: "job-running", nth: 2 }, fault: "slowBroker", factor: 3, durationMs: 10 }]);
    c.injector.install();
    const statuses = ["CREATED", "RUNNING", "RESTARTING", "RUNNING", "RUNNING"];
    statuses.forEach((status, i) => c.sim.scheduler.at(i * 100, () => c.sim.trace.emit("jm", "job-status", { status, attempt: 0 })));
    c.sim.scheduler.run({ untilTimeMs: 1000 });
    expect(c.calls).toEqual(["300 slowBroker x3", "310 slowBroker x1"]);
    expect(c.faultEvents()).toEqual(["300 broker fault slowBroker", "310 broker fault-end slowBroker"]);
  });

  test("a fault whose trigger never comes is not applied and is reported as such", () => {
    const c = cluster([
      { at: 1, fault: "failTask", vertex: "map", subtask: 0 },
      { at: { after: "restore", nth: 1 }, fault: "crash", node: "jm" },
    ]);
    c.injector.install();
    c.sim.scheduler.run({ untilTimeMs: 100 });
    expect(c.injector.applied.map((a) => a.index)).toEqual([0]);
    expect(c.injector.notApplied()).toEqual([1]);
  });

  test("the trace data of a triggered fault names the trigger", () => {
    const c = cluster([{ at: { after: "txn-opened", nth: 1, delayMs: 2 }, fault: "dropRpc", rpc: "heartbeat", durationMs: 5 }]);
    c.injector.install();
    c.sim.scheduler.at(7, () => c.sim.trace.emit("broker", "txn-opened", { tid: "t", epoch: 0 }));
    c.sim.scheduler.run({ untilTimeMs: 100 });
    const e = c.sim.trace.events().find((x) => x.kind === "fault");
    expect(e?.time).toBe(9);
    expect(e?.data).toEqual({ index: 0, fault: "dropRpc", at: { after: "txn-opened", nth: 1, delayMs: 2 }, rpc: "heartbeat", durationMs: 5 });
  });
});

describe("paired ends", () => {
  test("a partition blocks its links for durationMs and then heals", () => {
    const c = cluster([{ at: 10, fault: "partition", a: ["jm"], b: ["tm-0", "tm-1"], durationMs: 40 }]);
    c.injector.install();
    const blocked = (t: number) => probe(c.sim, t, () => [c.sim.network.isBlocked("jm", "tm-1"), c.sim.network.isBlocked("tm-1", "jm")]);
    const [during, after] = [blocked(30), blocked(51)];
    c.sim.scheduler.run({ untilTimeMs: 100 });
    expect(during).toEqual([[true, true]]);
    expect(after).toEqual([[false, false]]);
    expect(c.faultEvents()).toEqual(["10 cluster fault partition", "50 cluster fault-end partition"]);
  });

  test("a one-way partition blocks only a -> b", () => {
    const c = cluster([{ at: 0, fault: "partition", a: ["tm-0"], b: ["jm"], oneWay: true, durationMs: 10 }]);
    c.injector.install();
    const during = probe(c.sim, 5, () => [c.sim.network.isBlocked("tm-0", "jm"), c.sim.network.isBlocked("jm", "tm-0")]);
    c.sim.scheduler.run({ untilTimeMs: 100 });
    expect(during).toEqual([[true, false]]);
  });

  test("a bidirectional clog holds both directions and releases them", () => {
    const c = cluster([{ at: 10, fault: "clog", from: "tm-0", to: "broker", bidirectional: true, durationMs: 20 }]);
    c.injector.install();
    const clogged = (t: number) => probe(c.sim, t, () => [c.sim.network.isClogged("tm-0", "broker"), c.sim.network.isClogged("broker", "tm-0")]);
    const [during, after] = [clogged(20), clogged(31)];
    c.sim.scheduler.run({ untilTimeMs: 100 });
    expect(during).toEqual([[true, true]]);
    expect(after).toEqual([[false, false]]);
  });

  test("a slow disk recovers and a failing disk is repaired after durationMs", () => {
    const c = cluster([
      { at: 0, fault: "slowDisk", factor: 10, durationMs: 10 },
      { at: 20, fault: "diskFailures", node: "jm", writeFailureProbability: 0.3, durationMs: 10 },
    ]);
    c.injector.install();
    const knobs = (node: string, t: number) => probe(c.sim, t, () => ({ ...c.sim.disk(node).faults }));
    const [slow, slowAfter, failing, failingAfter] = [knobs("storage", 5), knobs("storage", 11), knobs("jm", 25), knobs("jm", 31)];
    c.sim.scheduler.run({ untilTimeMs: 100 });
    expect(slow[0]?.slowFactor).toBe(10);
    expect(slowAfter[0]?.slowFactor).toBe(1);
    expect(failing[0]?.writeFailureProbability).toBe(0.3);
    expect(failingAfter[0]?.writeFailureProbability).toBe(0);
    expect(c.faultEvents()).toEqual([
      "0 storage fault slowDisk",
      "10 storage fault-end slowDisk",
      "20 jm fault diskFailures",
      "30 jm fault-end diskFailures",
    ]);
  });

  test("an rpc drop is switched on and off", () => {
    const c = cluster([{ at: 3, fault: "dropRpc", rpc: "notifyCheckpointComplete", durationMs: 4 }]);
    c.injector.install();
    c.sim.scheduler.run({ untilTimeMs: 100 });
    expect(c.calls).toEqual(["3 dropRpc notifyCheckpointComplete true", "7 dropRpc notifyCheckpointComplete false"]);
    expect(c.injector.applied[0]?.endMs).toBe(7);
  });
});

describe("overlapping faults compose", () => {
  test("overlapping operator slowdowns multiply and ending one keeps the other", () => {
    const c = cluster([
      { at: 0, fault: "slowOperator", vertex: "map", factor: 2, durationMs: 100 },
      { at: 50, fault: "slowOperator", vertex: "map", factor: 3, durationMs: 150 },
      { at: 60, fault: "slowOperator", vertex: "sink", factor: 5, durationMs: 10 },
    ]);
    c.injector.install();
    c.sim.scheduler.run({ untilTimeMs: 1000 });
    expect(c.calls).toEqual([
      "0 slowOperator map x2",
      "50 slowOperator map x6",
      "60 slowOperator sink x5",
      "70 slowOperator sink x1",
      "100 slowOperator map x3",
      "200 slowOperator map x1",
    ]);
  });

  test("overlapping broker slowdowns multiply", () => {
    const c = cluster([
      { at: 0, fault: "slowBroker", factor: 2, durationMs: 20 },
      { at: 10, fault: "slowBroker", factor: 4, durationMs: 20 },
    ]);
    c.injector.install();
    c.sim.scheduler.run({ untilTimeMs: 1000 });
    expect(c.calls).toEqual(["0 slowBroker x2", "10 slowBroker x8", "20 slowBroker x4", "30 slowBroker x1"]);
  });

  test("overlapping disk faults on one node merge, and ending one leaves the other in force", () => {
    const c = cluster([
      { at: 0, fault: "slowDisk", node: "storage", factor: 4, durationMs: 100 },
      { at: 50, fault: "diskFailures", writeFailureProbability: 0.5, durationMs: 100 },
      { at: 60, fault: "diskFailures", writeFailureProbability: 0.5, durationMs: 10 },
    ]);
    c.injector.install();
    const knobs = (t: number) => probe(c.sim, t, () => [c.sim.disk("storage").faults.slowFactor, c.sim.disk("storage").faults.writeFailureProbability]);
    const samples = [25, 55, 65, 75, 120, 200].map(knobs);
    c.sim.scheduler.run({ untilTimeMs: 1000 });
    expect(samples.map((s) => s[0])).toEqual([
      [4, 0],
      [4, 0.5],
      [4, 0.75],
      [4, 0.5],
      [1, 0.5],
      [1, 0],
    ]);
  });

  test("overlapping rpc drops switch the drop on once and off when the last one ends", () => {
    const c = cluster([
      { at: 0, fault: "dropRpc", rpc: "acknowledgeCheckpoint", durationMs: 30 },
      { at: 10, fault: "dropRpc", rpc: "acknowledgeCheckpoint", durationMs: 10 },
    ]);
    c.injector.install();
    c.sim.scheduler.run({ untilTimeMs: 1000 });
    expect(c.calls).toEqual(["0 dropRpc acknowledgeCheckpoint true", "30 dropRpc acknowledgeCheckpoint false"]);
  });

  test("overlapping clogs of one link keep it clogged until the last one ends", () => {
    const c = cluster([
      { at: 0, fault: "clog", from: "jm", to: "tm-0", durationMs: 20 },
      { at: 10, fault: "clog", from: "tm-0", to: "jm", bidirectional: true, durationMs: 20 },
    ]);
    c.injector.install();
    const clogged = (t: number) => probe(c.sim, t, () => c.sim.network.isClogged("jm", "tm-0"));
    const samples = [5, 25, 31].map(clogged);
    c.sim.scheduler.run({ untilTimeMs: 1000 });
    expect(samples).toEqual([[true], [true], [false]]);
  });
});

describe("validation", () => {
  const cases: Array<[string, FaultPlan, string]> = [
    [
      "an unknown node",
      { faults: [{ at: 0, fault: "failTask", vertex: "map", subtask: 0 }, { at: 0, fault: "failTask", vertex: "map", subtask: 0 }, { at: 1, fault: "crash", node: "tm-9" }] },
      'faults[2].node "tm-9" is not a node of this cluster (nodes: jm, tm-0, tm-1, broker, storage)',
    ],
    ["a negative time", { faults: [{ at: -1, fault: "crash", node: "jm" }] }, "faults[0].at must be a finite number >= 0, got -1"],
    [
      "a zero duration",
      { faults: [{ at: 0, fault: "slowBroker", factor: 2, durationMs: 0 }] },
      "faults[0].durationMs must be a finite number > 0, got 0",
    ],
    [
      "a probability above 1",
      { faults: [{ at: 0, fault: "diskFailures", writeFailureProbability: 1.5, durationMs: 1 }] },
      "faults[0].writeFailureProbability must be in [0, 1], got 1.5",
    ],
    [
      "a factor below 1",
      { faults: [{ at: 0, fault: "slowOperator", vertex: "map", factor: 0.5, durationMs: 1 }] },
      "faults[0].factor must be a finite number >= 1, got 0.5",
    ],
    [
      "nth 0",
      { faults: [{ at: { after: "checkpoint-completed", nth: 0 }, fault: "crash", node: "jm" }] },
      "faults[0].at.nth must be an integer >= 1, got 0",
    ],
    [
      "a negative trigger delay",
      { faults: [{ at: { after: "restore", delayMs: -5 }, fault: "crash", node: "jm" }] },
      "faults[0].at.delayMs must be a finite number >= 0, got -5",
    ],
    [
      "an unknown trigger",
      { faults: [{ at: { after: "lunch" } as unknown as Fault["at"], fault: "crash", node: "jm" }] },
      'faults[0].at.after must be one of checkpoint-triggered, checkpoint-completed, alignment-started, txn-opened, restore, job-running, got "lunch"',
    ],
    [
      "an empty partition group",
      { faults: [{ at: 0, fault: "partition", a: [], b: ["jm"], durationMs: 1 }] },
      "faults[0].a must be a non-empty array of node ids, got []",
    ],
    [
      "overlapping partition groups",
      { faults: [{ at: 0, fault: "partition", a: ["jm", "tm-0"], b: ["tm-1", "tm-0"], durationMs: 1 }] },
      'faults[0].b[1] "tm-0" is also in faults[0].a; partition groups must be disjoint',
    ],
    [
      "an unknown node in a partition group",
      { faults: [{ at: 0, fault: "partition", a: ["jm"], b: ["tm-7"], durationMs: 1 }] },
      'faults[0].b[0] "tm-7" is not a node of this cluster (nodes: jm, tm-0, tm-1, broker, storage)',
    ],
    [
      "a clog of a node with itself",
      { faults: [{ at: 0, fault: "clog", from: "jm", to: "jm", durationMs: 1 }] },
      'faults[0].to must differ from faults[0].from, both are "jm"',
    ],
    [
      "an unknown vertex",
      { faults: [{ at: 0, fault: "failTask", vertex: "reduce", subtask: 0 }] },
      'faults[0].vertex "reduce" is not a vertex of the job (vertices: map, sink)',
    ],
    [
      "a subtask beyond the parallelism",
      { faults: [{ at: 0, fault: "failTask", vertex: "map", subtask: 2 }] },
      'faults[0].subtask 2 is out of range for vertex "map" (parallelism 2)',
    ],
    [
      "an unknown rpc",
      { faults: [{ at: 0, fault: "dropRpc", rpc: "gossip" as RpcKind, durationMs: 1 }] },
      'faults[0].rpc must be one of notifyCheckpointComplete, acknowledgeCheckpoint, triggerCheckpoint, heartbeat, got "gossip"',
    ],
    [
      "an unknown fault kind",
      { faults: [{ at: 0, fault: "explode" } as unknown as Fault] },
      'faults[0].fault must be one of crash, failTask, partition, clog, slowDisk, diskFailures, slowOperator, dropRpc, slowBroker, got "explode"',
    ],
    [
      "a negative restart delay",
      { faults: [{ at: 0, fault: "crash", node: "jm", restartAfterMs: -1 }] },
      "faults[0].restartAfterMs must be a finite number >= 0, got -1",
    ],
    ["a chaos probability above 1", { faults: [], chaos: { rpcLossProbability: 2 } }, "chaos.rpcLossProbability must be in [0, 1], got 2"],
  ];

  for (const [what, plan, message] of cases) {
    test(`a plan with ${what} is rejected with a message naming the field`, () => {
      expect(validateFaultPlan(plan, NODES, VERTICES)).toBe(message);
      expect(() => cluster(plan).injector.install()).toThrow(message);
    });
  }

  test("a valid plan passes, and without vertices any vertex id is accepted", () => {
    const plan: FaultPlan = {
      faults: [
        { at: 0, fault: "failTask", vertex: "anything", subtask: 7 },
        { at: { after: "alignment-started" }, fault: "partition", a: ["tm-0"], b: ["jm", "broker"], oneWay: true, durationMs: 5 },
      ],
      chaos: { buggify: true },
    };
    expect(validateFaultPlan(plan, NODES)).toBeUndefined();
    expect(validateFaultPlan(plan, NODES, VERTICES)).toBe('faults[0].vertex "anything" is not a vertex of the job (vertices: map, sink)');
  });

  test("install rejects a disk fault on a node without a disk", () => {
    const c = cluster([{ at: 0, fault: "slowDisk", node: "tm-0", factor: 2, durationMs: 1 }]);
    expect(() => c.injector.install()).toThrow('faults[0].node "tm-0" has no disk (slowDisk needs a node with a disk)');
  });

  test("install rejects an absolute time already past", () => {
    const c = cluster([{ at: 5, fault: "crash", node: "jm" }]);
    c.sim.scheduler.at(10, () => {});
    c.sim.scheduler.run();
    expect(() => c.injector.install()).toThrow("faults[0].at 5 is in the past (the simulation is at 10 ms)");
  });
});

describe("determinism", () => {
  const plan: readonly Fault[] = [
    { at: 35, fault: "partition", a: ["tm-0"], b: ["jm"], durationMs: 60 },
    { at: { after: "checkpoint-completed", nth: 1 }, fault: "crash", node: "tm-1", restartAfterMs: 40 },
    { at: 120, fault: "clog", from: "tm-0", to: "jm", durationMs: 100 },
    { at: 150, fault: "diskFailures", writeFailureProbability: 0.5, durationMs: 50 },
  ];
  function runHash(faults: readonly Fault[]): string {
    const c = cluster(faults, { traffic: true });
    c.sim.scheduler.at(77, () => c.sim.trace.emit("jm", "checkpoint-completed", { id: 1 }));
    c.injector.install();
    c.sim.scheduler.run({ untilTimeMs: 2000 });
    return c.sim.trace.hash();
  }

  test("the same plan on the same seed gives the same trace hash", () => {
    expect(runHash(plan)).toBe(runHash(plan));
  });

  test("a plan that differs in one fault's time gives a different trace hash", () => {
    const moved = plan.map((f, i) => (i === 0 ? { ...f, at: 36 } : f));
    expect(runHash(moved)).not.toBe(runHash(plan));
  });
});
