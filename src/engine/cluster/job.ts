/**
 * Runs one scenario: builds the simulated cluster (JobManager, TaskManagers, broker, checkpoint
 * storage), loads the input, installs the fault plan, runs until the job is FINISHED or FAILED
 * (or a bound is hit), and collects the RunResult.
 */
import { BrokerServer } from "../../external/broker-client.ts";
import { LogBroker } from "../../external/broker.ts";
import { StorageServer } from "../../external/storage.ts";
import { FaultInjector, type FaultTargets } from "../../faults/injector.ts";
import { defaultChaos } from "../../faults/plan.ts";
import { BoundExceeded } from "../../sim/scheduler.ts";
import { Simulation } from "../../sim/simulation.ts";
import type { TraceLevel } from "../../sim/trace.ts";
import type { Scenario } from "../../scenario.ts";
import { validateClusterConfig, validateJobConfig } from "../config.ts";
import { builtins, type Registry } from "../plan/registry.ts";
import { validateInputs, validatePlan } from "../plan/validate.ts";
import type { KeyedStateEntry, RunResult } from "../result.ts";
import { ExecutionGraph } from "../runtime/graph.ts";
import { JobManager, JobObserver } from "./jobmanager.ts";
import { TaskDirectory, TaskManager, type ClusterShared } from "./taskmanager.ts";

export type RunOptions = {
  /** Functions the plan names; defaults to the builtins. */
  readonly registry?: Registry;
  readonly traceLevel?: TraceLevel;
};

export class ScenarioError extends Error {
  override readonly name = "ScenarioError";
}

/** Check a scenario before running it; the message names the field. */
export function validateScenario(s: Scenario, registry: Registry = builtins): string | undefined {
  return (
    validatePlan(s.plan, registry) ??
    validateInputs(s.inputs, s.plan) ??
    validateJobConfig(s.config) ??
    validateClusterConfig(s.cluster) ??
    (s.cluster.taskManagers * s.cluster.slotsPerTaskManager < Math.max(...s.plan.nodes.map((n) => n.parallelism))
      ? `cluster has ${s.cluster.taskManagers * s.cluster.slotsPerTaskManager} slots but the plan needs ${Math.max(...s.plan.nodes.map((n) => n.parallelism))}; add taskManagers or slotsPerTaskManager`
      : undefined)
  );
}

export function runScenario(s: Scenario, opts: RunOptions = {}): RunResult {
  const registry = opts.registry ?? builtins;
  const invalid = validateScenario(s, registry);
  if (invalid !== undefined) throw new ScenarioError(invalid);
  const chaos = { ...defaultChaos, ...s.faults.chaos };
  const cl = s.cluster;
  const sim = new Simulation({
    seed: s.seed,
    scheduler: { maxEvents: cl.maxEvents, maxTimeMs: cl.maxTimeMs },
    network: {
      latency: { kind: "uniform", minMs: cl.networkLatencyMsMin, maxMs: cl.networkLatencyMsMax },
      lossProbability: chaos.rpcLossProbability,
    },
    trace: { level: opts.traceLevel ?? "summary" },
    buggify: chaos.buggify,
  });
  const tmIds = Array.from({ length: cl.taskManagers }, (_, i) => `tm-${i}`);
  sim.addNode("jm");
  for (const id of tmIds) sim.addNode(id);
  const brokerNode = sim.addNode("broker");
  const storageNode = sim.addNode("storage", {
    disk: {
      latency: { kind: "uniform", minMs: cl.storageLatencyMsMin, maxMs: cl.storageLatencyMsMax },
      writeFailureProbability: chaos.storageWriteFailureProbability,
    },
  });

  // The outside world: the broker with the input loaded, the checkpoint storage.
  const broker = new LogBroker(sim.scheduler, sim.trace);
  for (const t of s.inputs) {
    broker.createTopic(t.topic, t.partitions.length);
    t.partitions.forEach((records, p) => broker.load(t.topic, p, records));
  }
  for (const n of s.plan.nodes) if (n.kind === "sink" && n.sink !== "upsert") broker.createTopic(n.topic, n.parallelism);
  const brokerServer = new BrokerServer(sim.network, sim.scheduler, brokerNode, broker, { requestCostMs: 0.05 });
  const storage = new StorageServer(storageNode, sim.disk("storage"), sim.scheduler);

  const graph = new ExecutionGraph(s.plan);
  const shared: ClusterShared = {
    sim,
    graph,
    registry,
    job: s.config,
    cluster: cl,
    directory: new TaskDirectory(),
    storage,
    slowdown: new Map(),
    droppedRpcs: new Map(),
    finalStates: new Map(),
  };
  const observer = new JobObserver();
  const tms = tmIds.map((id) => new TaskManager(id, shared));
  new JobManager(shared, observer);

  const targets: FaultTargets = {
    sim,
    nodes: ["jm", ...tmIds, "broker", "storage"],
    vertices: s.plan.nodes.map((n) => ({ id: n.id, parallelism: n.parallelism })),
    failTask: (vertex, subtask) => {
      for (const tm of tms)
        for (const t of tm.liveTasks()) if (t.ref.vertex === vertex && t.ref.subtask === subtask) t.task.fail("injected failure");
    },
    setOperatorSlowdown: (vertex, factor) => shared.slowdown.set(vertex, factor),
    setRpcDrop: (rpc, drop) => shared.droppedRpcs.set(rpc, drop ? 1 : 0),
    setBrokerSlowFactor: (f) => brokerServer.setSlowFactor(f),
  };
  const injector = new FaultInjector(targets, s.faults);
  injector.install();

  let boundExceeded: RunResult["boundExceeded"] = null;
  let failureReason: string | null = null;
  try {
    sim.scheduler.run({ until: () => observer.terminal() });
    if (!observer.terminal()) failureReason = "the simulation ran out of events before the job finished";
  } catch (e) {
    if (!(e instanceof BoundExceeded)) throw e;
    boundExceeded = e.bound;
    failureReason = e.message;
  }

  let finalState: KeyedStateEntry[] | null = null;
  if (observer.status === "FINISHED" && observer.finishedAttempt !== null) {
    // The state each task of the finishing attempt had when it finished (its TaskManager may be gone since).
    finalState = [];
    const prefix = `${observer.finishedAttempt}:`;
    for (const [key, entries] of [...shared.finalStates.entries()].sort(([a], [b]) => (a < b ? -1 : 1)))
      if (key.startsWith(prefix)) finalState.push(...entries);
    finalState.sort((a, b) => (a.vertex < b.vertex ? -1 : a.vertex > b.vertex ? 1 : a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  return {
    status: observer.status,
    failureReason: observer.failureReason ?? failureReason,
    boundExceeded,
    endTimeMs: sim.now,
    events: sim.scheduler.eventCount,
    traceHash: sim.trace.hash(),
    sinks: s.plan.nodes.flatMap((n) =>
      n.kind === "sink"
        ? [
            n.sink === "upsert"
              ? { vertex: n.id, topic: n.topic, kind: n.sink, committed: broker.table(n.topic).map(([, v]) => v), table: broker.table(n.topic) }
              : { vertex: n.id, topic: n.topic, kind: n.sink, committed: broker.committed(n.topic) },
          ]
        : [],
    ),
    finalState,
    checkpoints: [...observer.stats.values()].sort((a, b) => a.id - b.id),
    restores: observer.restores,
    openTransactions: broker.openTransactions(),
    trace: sim.trace.events(),
    faultPoints: sim.faultPoints.stats(),
  };
}
