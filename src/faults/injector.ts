/**
 * The fault injector: carries out a FaultPlan on a running simulated cluster.
 *
 * `install()` validates the plan against the cluster and schedules every fault: an absolute
 * moment with `scheduler.at` (no owner: the injector lives outside every node, so no crash drops
 * its timers), a trigger moment by counting summary trace events of its kind and, at the nth one,
 * scheduling the fault `delayMs` later (0 included: the fault then runs right after the step that
 * emitted the event, before anything that step sent over the network arrives).
 *
 * Every fault is traced as a "fault" summary event on its target node ("cluster" for faults that
 * span nodes or name vertices), carried out, and later undone with a "fault-end" event: crash /
 * restart, partition / heal, clog / unclog, slow or failing disk / clearFaults, slowdown / factor 1,
 * RPC drop on / off. Overlapping faults on the same knob compose, and ending one leaves the others
 * in force: slow factors multiply, disk write failure probabilities combine as independent causes
 * (p = 1 - prod(1 - p_i)), RPC drops and clogs are counted.
 */
import type { JsonValue, TraceData, TraceEvent } from "../sim/trace.ts";
import type { PartitionId } from "../sim/network.ts";
import type { Simulation } from "../sim/simulation.ts";
import { assert } from "../sim/assert.ts";
import { FAULT_KINDS, type Fault, type FaultKind, type FaultPlan, type TriggerKind } from "./plan.ts";

export type RpcKind = Extract<Fault, { readonly fault: "dropRpc" }>["rpc"];

/** A vertex of the job a fault may name: a bare id (parallelism unknown) or an id with its parallelism. */
export type FaultVertex = string | { readonly id: string; readonly parallelism: number };

/** What the injector acts on; the engine's cluster implements it. */
export interface FaultTargets {
  /** Scheduler, network, trace, disk(nodeId), crash(id), restart(id). */
  readonly sim: Simulation;
  /** Node ids of the cluster: "jm", "tm-0".., "broker", "storage". */
  readonly nodes: readonly string[];
  /** The job's vertices; when given, vertex faults are validated against them. */
  readonly vertices?: readonly FaultVertex[];
  /** Make a running subtask fail (as if it threw). */
  failTask(vertex: string, subtask: number): void;
  /** Multiply the vertex's per-record cost; 1 = normal. */
  setOperatorSlowdown(vertex: string, factor: number): void;
  /** Lose (true) or deliver again (false) every RPC of one kind. */
  setRpcDrop(rpc: RpcKind, drop: boolean): void;
  /** Multiply the broker's latencies; 1 = normal. */
  setBrokerSlowFactor(factor: number): void;
}

/** A fault as carried out, for reports. */
export type AppliedFault = {
  /** Position of the fault in `plan.faults`. */
  readonly index: number;
  readonly fault: Fault;
  /** Node the "fault" trace event was emitted on ("cluster" for faults spanning nodes or naming vertices). */
  readonly target: string;
  /** Simulated time the fault started, in milliseconds. */
  readonly startMs: number;
  /**
   * Simulated time it ended, in milliseconds: undefined while still active or when it never ends
   * (a crash without `restartAfterMs`); equal to `startMs` for a failTask and a skipped fault.
   */
  readonly endMs: number | undefined;
  /** True when the fault had nothing to do (a crash of a node already down). */
  readonly skipped: boolean;
};

export const TRIGGER_KINDS: readonly TriggerKind[] = [
  "checkpoint-triggered",
  "checkpoint-completed",
  "alignment-started",
  "txn-opened",
  "restore",
  "job-running",
];

export { FAULT_KINDS };

export const RPC_KINDS: readonly RpcKind[] = ["notifyCheckpointComplete", "acknowledgeCheckpoint", "triggerCheckpoint", "heartbeat"];

/** The node disk faults default to. */
const DEFAULT_DISK_NODE = "storage";
/** Trace node of faults that span nodes or name vertices. */
const CLUSTER = "cluster";

// ---- validation ---------------------------------------------------------------------------

const show = (v: unknown): string => (typeof v === "string" || (typeof v === "object" && v !== null) ? JSON.stringify(v) : String(v));

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function finiteAtLeast(v: unknown, min: number, field: string): string | undefined {
  return typeof v === "number" && Number.isFinite(v) && v >= min ? undefined : `${field} must be a finite number >= ${min}, got ${show(v)}`;
}

function positive(v: unknown, field: string): string | undefined {
  return typeof v === "number" && Number.isFinite(v) && v > 0 ? undefined : `${field} must be a finite number > 0, got ${show(v)}`;
}

function integerAtLeast(v: unknown, min: number, field: string): string | undefined {
  return typeof v === "number" && Number.isInteger(v) && v >= min ? undefined : `${field} must be an integer >= ${min}, got ${show(v)}`;
}

function probability(v: unknown, field: string): string | undefined {
  return typeof v === "number" && v >= 0 && v <= 1 ? undefined : `${field} must be in [0, 1], got ${show(v)}`;
}

function optionalBoolean(v: unknown, field: string): string | undefined {
  return v === undefined || typeof v === "boolean" ? undefined : `${field} must be a boolean, got ${show(v)}`;
}

function knownNode(v: unknown, field: string, nodes: readonly string[]): string | undefined {
  if (typeof v !== "string") return `${field} must be a node id, got ${show(v)}`;
  return nodes.includes(v) ? undefined : `${field} "${v}" is not a node of this cluster (nodes: ${nodes.join(", ")})`;
}

function checkMoment(m: unknown, field: string): string | undefined {
  if (typeof m === "number") return finiteAtLeast(m, 0, field);
  if (!isRecord(m)) return `${field} must be a time in ms or { after, nth?, delayMs? }, got ${show(m)}`;
  if (typeof m.after !== "string" || !(TRIGGER_KINDS as readonly string[]).includes(m.after)) {
    return `${field}.after must be one of ${TRIGGER_KINDS.join(", ")}, got ${show(m.after)}`;
  }
  if (m.nth !== undefined) {
    const err = integerAtLeast(m.nth, 1, `${field}.nth`);
    if (err !== undefined) return err;
  }
  return m.delayMs === undefined ? undefined : finiteAtLeast(m.delayMs, 0, `${field}.delayMs`);
}

function checkGroup(g: unknown, field: string, nodes: readonly string[]): string | undefined {
  if (!Array.isArray(g) || g.length === 0) return `${field} must be a non-empty array of node ids, got ${show(g)}`;
  for (let i = 0; i < g.length; i++) {
    const err = knownNode(g[i], `${field}[${i}]`, nodes);
    if (err !== undefined) return err;
  }
  return undefined;
}

function checkVertex(f: Record<string, unknown>, field: string, vertices: readonly FaultVertex[] | undefined): string | undefined {
  const v = f.vertex;
  if (typeof v !== "string" || v.length === 0) return `${field}.vertex must be a non-empty vertex id, got ${show(v)}`;
  if (vertices === undefined) return undefined;
  const ids = vertices.map((x) => (typeof x === "string" ? x : x.id));
  if (!ids.includes(v)) return `${field}.vertex "${v}" is not a vertex of the job (vertices: ${ids.join(", ")})`;
  return undefined;
}

function parallelismOf(vertex: string, vertices: readonly FaultVertex[] | undefined): number | undefined {
  for (const x of vertices ?? []) if (typeof x !== "string" && x.id === vertex) return x.parallelism;
  return undefined;
}

function checkFault(f: unknown, field: string, nodes: readonly string[], vertices: readonly FaultVertex[] | undefined): string | undefined {
  if (!isRecord(f)) return `${field} must be a fault object, got ${show(f)}`;
  const kind = f.fault;
  if (typeof kind !== "string" || !(FAULT_KINDS as readonly string[]).includes(kind)) {
    return `${field}.fault must be one of ${FAULT_KINDS.join(", ")}, got ${show(kind)}`;
  }
  const momentErr = checkMoment(f.at, `${field}.at`);
  if (momentErr !== undefined) return momentErr;
  switch (kind as FaultKind) {
    case "crash":
      return knownNode(f.node, `${field}.node`, nodes) ??
        (f.restartAfterMs === undefined ? undefined : finiteAtLeast(f.restartAfterMs, 0, `${field}.restartAfterMs`));
    case "failTask": {
      const err = checkVertex(f, field, vertices) ?? integerAtLeast(f.subtask, 0, `${field}.subtask`);
      if (err !== undefined) return err;
      const p = parallelismOf(f.vertex as string, vertices);
      return p === undefined || (f.subtask as number) < p
        ? undefined
        : `${field}.subtask ${show(f.subtask)} is out of range for vertex "${String(f.vertex)}" (parallelism ${p})`;
    }
    case "partition": {
      const err = checkGroup(f.a, `${field}.a`, nodes) ?? checkGroup(f.b, `${field}.b`, nodes) ??
        optionalBoolean(f.oneWay, `${field}.oneWay`) ?? positive(f.durationMs, `${field}.durationMs`);
      if (err !== undefined) return err;
      const a = f.a as readonly string[];
      const b = f.b as readonly string[];
      for (let i = 0; i < b.length; i++) {
        const n = b[i] as string;
        if (a.includes(n)) return `${field}.b[${i}] "${n}" is also in ${field}.a; partition groups must be disjoint`;
      }
      return undefined;
    }
    case "clog":
      return knownNode(f.from, `${field}.from`, nodes) ?? knownNode(f.to, `${field}.to`, nodes) ??
        (f.from === f.to ? `${field}.to must differ from ${field}.from, both are "${String(f.to)}"` : undefined) ??
        optionalBoolean(f.bidirectional, `${field}.bidirectional`) ?? positive(f.durationMs, `${field}.durationMs`);
    case "slowDisk":
    case "diskFailures": {
      let err: string | undefined;
      if (f.node !== undefined) err = knownNode(f.node, `${field}.node`, nodes);
      else if (!nodes.includes(DEFAULT_DISK_NODE)) {
        err = `${field}.node is omitted, which means "${DEFAULT_DISK_NODE}", but "${DEFAULT_DISK_NODE}" is not a node of this cluster (nodes: ${nodes.join(", ")})`;
      }
      return err ??
        (kind === "slowDisk"
          ? finiteAtLeast(f.factor, 1, `${field}.factor`)
          : probability(f.writeFailureProbability, `${field}.writeFailureProbability`)) ??
        positive(f.durationMs, `${field}.durationMs`);
    }
    case "slowOperator":
      return checkVertex(f, field, vertices) ?? finiteAtLeast(f.factor, 1, `${field}.factor`) ?? positive(f.durationMs, `${field}.durationMs`);
    case "dropRpc":
      return typeof f.rpc === "string" && (RPC_KINDS as readonly string[]).includes(f.rpc)
        ? positive(f.durationMs, `${field}.durationMs`)
        : `${field}.rpc must be one of ${RPC_KINDS.join(", ")}, got ${show(f.rpc)}`;
    case "slowBroker":
      return finiteAtLeast(f.factor, 1, `${field}.factor`) ?? positive(f.durationMs, `${field}.durationMs`);
  }
}

/**
 * Checks a fault plan against a cluster's nodes (and the job's vertices, when given); returns an
 * error sentence naming the first bad field, or undefined. Times and delays >= 0, durations > 0
 * (`restartAfterMs` >= 0), probabilities in [0, 1], factors >= 1, nth an integer >= 1, partition
 * groups non-empty, disjoint and of known nodes. Accepts untyped data (a parsed scenario file).
 */
export function validateFaultPlan(plan: FaultPlan, nodes: readonly string[], vertices?: readonly FaultVertex[]): string | undefined {
  const p = plan as unknown;
  if (!isRecord(p)) return `faults must be a fault plan object, got ${show(p)}`;
  if (!Array.isArray(p.faults)) return `faults.faults must be an array, got ${show(p.faults)}`;
  for (let i = 0; i < p.faults.length; i++) {
    const err = checkFault(p.faults[i], `faults[${i}]`, nodes, vertices);
    if (err !== undefined) return err;
  }
  const chaos = p.chaos;
  if (chaos === undefined) return undefined;
  if (!isRecord(chaos)) return `chaos must be an object, got ${show(chaos)}`;
  return (chaos.rpcLossProbability === undefined ? undefined : probability(chaos.rpcLossProbability, "chaos.rpcLossProbability")) ??
    (chaos.storageWriteFailureProbability === undefined
      ? undefined
      : probability(chaos.storageWriteFailureProbability, "chaos.storageWriteFailureProbability")) ??
    optionalBoolean(chaos.buggify, "chaos.buggify");
}

// ---- the injector -------------------------------------------------------------------------

type MutableApplied = { -readonly [K in keyof AppliedFault]: AppliedFault[K] };

/** One active disk fault's contribution to its node's knobs. */
type DiskContribution = { readonly slowFactor: number; readonly writeFailureProbability: number };

/** One active slowdown; a per-fault object, so ending a fault removes exactly its own factor. */
type FactorEntry = { readonly factor: number };

type Waiting = { readonly index: number; readonly nth: number; readonly delayMs: number };

function traceFields(f: Fault): Record<string, JsonValue | undefined> {
  const data: Record<string, JsonValue | undefined> = {};
  for (const [k, v] of Object.entries(f)) data[k] = v as JsonValue | undefined;
  return data;
}

function diskNode(f: Fault & { readonly node?: string }): string {
  return f.node ?? DEFAULT_DISK_NODE;
}

function targetOf(f: Fault): string {
  switch (f.fault) {
    case "crash":
      return f.node;
    case "slowDisk":
    case "diskFailures":
      return diskNode(f);
    case "slowBroker":
      return "broker";
    default:
      return CLUSTER;
  }
}

/** Remove the first element identical to `x` (entries are per-fault objects, so identity is exact). */
function removeOne<T>(list: T[], x: T): void {
  const i = list.indexOf(x);
  assert(i >= 0, "an active fault entry being ended must be in its list");
  list.splice(i, 1);
}

export class FaultInjector {
  private readonly records: MutableApplied[] = [];
  private installed = false;
  /** Trigger faults by trigger kind, in plan order. */
  private readonly waiting = new Map<TriggerKind, Waiting[]>();
  /** Summary events of each trigger kind seen since install. */
  private readonly seen = new Map<TriggerKind, number>();
  private readonly diskActive = new Map<string, DiskContribution[]>();
  private readonly operatorActive = new Map<string, FactorEntry[]>();
  private readonly brokerActive: FactorEntry[] = [];
  private readonly rpcDrops = new Map<RpcKind, number>();
  private readonly clogs = new Map<string, number>();

  constructor(
    private readonly targets: FaultTargets,
    readonly plan: FaultPlan,
  ) {}

  /** The faults carried out so far, in start order, with their actual start and end times. */
  get applied(): readonly AppliedFault[] {
    return this.records;
  }

  /** Indices (in `plan.faults`) of faults not started yet: triggers not reached, times not reached. */
  notApplied(): number[] {
    const started = new Set(this.records.map((r) => r.index));
    const out: number[] = [];
    for (let i = 0; i < this.plan.faults.length; i++) if (!started.has(i)) out.push(i);
    return out;
  }

  /** Validate the plan against the cluster (throws an Error naming the field) and schedule every fault. */
  install(): void {
    assert(!this.installed, "FaultInjector.install must be called once");
    const { sim, nodes, vertices } = this.targets;
    const err = validateFaultPlan(this.plan, nodes, vertices) ?? this.checkAgainstSimulation();
    if (err !== undefined) throw new Error(err);
    this.installed = true;
    const faults = this.plan.faults;
    for (let i = 0; i < faults.length; i++) {
      const f = faults[i] as Fault;
      if (typeof f.at === "number") {
        sim.scheduler.at(f.at, () => this.start(i));
      } else {
        const kind = f.at.after;
        const list = this.waiting.get(kind) ?? [];
        list.push({ index: i, nth: f.at.nth ?? 1, delayMs: f.at.delayMs ?? 0 });
        this.waiting.set(kind, list);
      }
    }
    if (this.waiting.size > 0) sim.trace.subscribe((e) => this.onTraceEvent(e));
  }

  /** What only the live simulation can tell: disks exist where disk faults aim, absolute times are not past. */
  private checkAgainstSimulation(): string | undefined {
    const sim = this.targets.sim;
    const faults = this.plan.faults;
    for (let i = 0; i < faults.length; i++) {
      const f = faults[i] as Fault;
      if (typeof f.at === "number" && f.at < sim.now) return `faults[${i}].at ${f.at} is in the past (the simulation is at ${sim.now} ms)`;
      if (f.fault === "slowDisk" || f.fault === "diskFailures") {
        const node = diskNode(f);
        try {
          sim.disk(node);
        } catch {
          return `faults[${i}].node "${node}" has no disk (${f.fault} needs a node with a disk)`;
        }
      }
    }
    return undefined;
  }

  private onTraceEvent(e: TraceEvent): void {
    let kind: TriggerKind;
    if (e.kind === "job-status") {
      if (e.data.status !== "RUNNING") return;
      kind = "job-running";
    } else {
      kind = e.kind as TriggerKind;
    }
    const list = this.waiting.get(kind);
    if (list === undefined) return;
    const n = (this.seen.get(kind) ?? 0) + 1;
    this.seen.set(kind, n);
    for (const w of list) {
      // Through the scheduler even with delay 0: the fault lands right after the triggering step.
      if (w.nth === n) this.targets.sim.scheduler.schedule(w.delayMs, () => this.start(w.index));
    }
  }

  private emit(node: string, kind: "fault" | "fault-end", data: TraceData): void {
    this.targets.sim.trace.emit(node, kind, data);
  }

  private start(index: number): void {
    const f = this.plan.faults[index];
    assert(f !== undefined, `fault index ${index} must be in the plan`);
    const { sim } = this.targets;
    const target = targetOf(f);
    const rec: MutableApplied = { index, fault: f, target, startMs: sim.now, endMs: undefined, skipped: false };
    this.records.push(rec);
    if (f.fault === "crash" && !sim.scheduler.node(f.node).alive) {
      rec.skipped = true;
      rec.endMs = sim.now;
      this.emit(target, "fault", { ...traceFields(f), index, skipped: true });
      return;
    }
    this.emit(target, "fault", { ...traceFields(f), index });
    const undo = this.carryOut(f);
    if (f.fault === "failTask") {
      rec.endMs = sim.now;
      return;
    }
    const after = f.fault === "crash" ? f.restartAfterMs : f.durationMs;
    if (after === undefined) return;
    sim.scheduler.schedule(after, () => {
      this.emit(target, "fault-end", { fault: f.fault, index });
      undo();
      rec.endMs = sim.now;
    });
  }

  /** Start the fault's effect; returns its paired undo. */
  private carryOut(f: Fault): () => void {
    const t = this.targets;
    const { sim } = t;
    switch (f.fault) {
      case "crash": {
        sim.crash(f.node);
        return () => sim.restart(f.node);
      }
      case "failTask": {
        t.failTask(f.vertex, f.subtask);
        return () => {};
      }
      case "partition": {
        const id: PartitionId = sim.network.partition(f.a, f.b, { oneWay: f.oneWay === true });
        return () => sim.network.heal(id);
      }
      case "clog": {
        const links: Array<[string, string]> = [[f.from, f.to]];
        if (f.bidirectional === true) links.push([f.to, f.from]);
        for (const [a, b] of links) this.clog(a, b);
        return () => {
          for (const [a, b] of links) this.unclog(a, b);
        };
      }
      case "slowDisk":
      case "diskFailures": {
        const node = diskNode(f);
        const c: DiskContribution =
          f.fault === "slowDisk"
            ? { slowFactor: f.factor, writeFailureProbability: 0 }
            : { slowFactor: 1, writeFailureProbability: f.writeFailureProbability };
        const list = this.diskActive.get(node) ?? [];
        list.push(c);
        this.diskActive.set(node, list);
        this.applyDisk(node);
        return () => {
          removeOne(list, c);
          this.applyDisk(node);
        };
      }
      case "slowOperator": {
        const factors = this.operatorActive.get(f.vertex) ?? [];
        this.operatorActive.set(f.vertex, factors);
        const entry: FactorEntry = { factor: f.factor };
        factors.push(entry);
        t.setOperatorSlowdown(f.vertex, product(factors));
        return () => {
          removeOne(factors, entry);
          t.setOperatorSlowdown(f.vertex, product(factors));
        };
      }
      case "dropRpc": {
        const n = this.rpcDrops.get(f.rpc) ?? 0;
        this.rpcDrops.set(f.rpc, n + 1);
        if (n === 0) t.setRpcDrop(f.rpc, true);
        return () => {
          const m = this.rpcDrops.get(f.rpc) ?? 0;
          assert(m > 0, `rpc drop count of ${f.rpc} must be positive when a drop ends`);
          this.rpcDrops.set(f.rpc, m - 1);
          if (m === 1) t.setRpcDrop(f.rpc, false);
        };
      }
      case "slowBroker": {
        const factors = this.brokerActive;
        const entry: FactorEntry = { factor: f.factor };
        factors.push(entry);
        t.setBrokerSlowFactor(product(factors));
        return () => {
          removeOne(factors, entry);
          t.setBrokerSlowFactor(product(factors));
        };
      }
    }
  }

  private clog(from: string, to: string): void {
    const key = `${from}\u0000${to}`;
    const n = this.clogs.get(key) ?? 0;
    this.clogs.set(key, n + 1);
    if (n === 0) this.targets.sim.network.clog(from, to);
  }

  private unclog(from: string, to: string): void {
    const key = `${from}\u0000${to}`;
    const n = this.clogs.get(key) ?? 0;
    assert(n > 0, `clog count of ${from} -> ${to} must be positive when a clog ends`);
    this.clogs.set(key, n - 1);
    if (n === 1) this.targets.sim.network.unclog(from, to);
  }

  /** Set the node's disk knobs from its options and every disk fault active on it; clear them when none is. */
  private applyDisk(node: string): void {
    const disk = this.targets.sim.disk(node);
    const active = this.diskActive.get(node) ?? [];
    if (active.length === 0) {
      disk.clearFaults();
      return;
    }
    let slowFactor = disk.options.slowFactor;
    let writeFailureProbability = disk.options.writeFailureProbability;
    for (const c of active) {
      slowFactor *= c.slowFactor;
      // Independent causes: fails if any one fails (exact for a single fault over a base of 0).
      writeFailureProbability += c.writeFailureProbability * (1 - writeFailureProbability);
    }
    disk.setFaults({ slowFactor, writeFailureProbability: Math.min(1, writeFailureProbability) });
  }
}

/** Product of the active factors, in start order; 1 when none is active. */
function product(entries: readonly FactorEntry[]): number {
  let p = 1;
  for (const e of entries) p *= e.factor;
  return p;
}
