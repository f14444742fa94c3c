/**
 * Generated fault plans, aimed at the moments that break checkpointing: crashes of every node
 * kind (TaskManagers, the JobManager, the checkpoint storage and the broker), partitions (random groups, the JobManager isolated from every TaskManager, a zombie
 * TaskManager cut off from the JobManager only), clogs, slow or failing checkpoint storage, slow
 * operators, lost checkpoint RPCs, a slow broker. Most faults happen at an absolute time within the
 * horizon; some on a trace trigger (0-30 ms after a checkpoint was triggered, between a
 * checkpoint's completion and its notification, at the start of an alignment, while a transaction
 * is open). Crashes of the storage and the broker are aimed mostly at a completion (the state files
 * and the writes a checkpoint covers must be durable by then), JobManager crashes also at a trigger
 * (state files written, metadata not yet).
 *
 * Raw faults name TaskManagers, vertices and nodes by small integers, so a fault plan can be drawn
 * before the cluster and plan are known (see scenario.ts) and shrinks toward fewer, earlier and
 * shorter faults on the first TaskManager and vertex.
 */
import fc from "fast-check";
import { FAULT_KINDS, type Fault, type FaultKind, type FaultPlan, type Moment } from "../faults/plan.ts";

/** A vertex a fault can target, with its parallelism (a bare id means parallelism 1). */
export type VertexInfo = { readonly id: string; readonly parallelism: number };

export type FaultPlanArbOptions = {
  readonly taskManagers: number;
  readonly vertices: readonly (string | VertexInfo)[];
  /** Most faults in a plan (default 5). */
  readonly maxFaults?: number;
  /** Absolute fault times fall in [0, horizonMs] (default 1000). */
  readonly horizonMs?: number;
  /** Fault kinds to draw from (default all). */
  readonly kinds?: readonly FaultKind[];
};

export type RawMoment =
  | { readonly at: "time"; readonly permille: number }
  | { readonly at: "checkpoint-completed" | "alignment-started" | "txn-opened"; readonly nth: number }
  /** `delayMs` (0..30) after the nth trigger: while the checkpoint's state is being written. */
  | { readonly at: "checkpoint-triggered"; readonly nth: number; readonly delayMs: number };

type Dur = { readonly durationMs: number };
export type RawFault = { readonly moment: RawMoment } & (
  | { readonly f: "crashTm"; readonly tm: number; readonly restartAfterMs: number }
  | { readonly f: "crashJm"; readonly restartAfterMs: number }
  /** A crash of the checkpoint storage ("storage") or the broker ("broker"): unsynced files and open connections are lost. */
  | { readonly f: "crashService"; readonly node: "storage" | "broker"; readonly restartAfterMs: number }
  | { readonly f: "failTask"; readonly vertex: number; readonly subtask: number }
  | ({ readonly f: "partition"; readonly shape: "isolateJm" | "zombieTm" | "groups"; readonly tm: number; readonly members: readonly boolean[]; readonly oneWay: boolean } & Dur)
  | ({ readonly f: "clog"; readonly from: number; readonly to: number; readonly bidirectional: boolean } & Dur)
  | ({ readonly f: "slowDisk"; readonly factor: number } & Dur)
  | ({ readonly f: "diskFailures"; readonly writeFailurePercent: number } & Dur)
  /** `vertex` counts from the first vertex, or from the last (a sink) when `fromEnd`. */
  | ({ readonly f: "slowOperator"; readonly vertex: number; readonly fromEnd: boolean; readonly factor: number } & Dur)
  | ({ readonly f: "dropRpc"; readonly rpc: "notifyCheckpointComplete" | "acknowledgeCheckpoint" } & Dur)
  | ({ readonly f: "slowBroker"; readonly factor: number } & Dur)
);

const ALL_KINDS: readonly FaultKind[] = FAULT_KINDS;
/** Most TaskManagers a raw fault can name; indices wrap to the real count. */
const RAW_NODES_MAX = 3 + 8;

const durationMs = fc.integer({ min: 50, max: 1000 });

const nthArb = fc.integer({ min: 1, max: 3 });
const timeMoment = fc.integer({ min: 0, max: 1000 }).map((permille): RawMoment => ({ at: "time", permille }));
const completedMoment = nthArb.map((nth): RawMoment => ({ at: "checkpoint-completed", nth }));
const triggeredMoment = fc
  .record({ nth: nthArb, delayMs: fc.integer({ min: 0, max: 30 }) })
  .map(({ nth, delayMs }): RawMoment => ({ at: "checkpoint-triggered", nth, delayMs }));

/** Times first (a counterexample shrinks toward an early absolute time), then the trace triggers. */
const momentArb: fc.Arbitrary<RawMoment> = fc.oneof(
  { weight: 7, arbitrary: timeMoment },
  { weight: 2, arbitrary: completedMoment },
  { weight: 1, arbitrary: triggeredMoment },
  { weight: 1, arbitrary: nthArb.map((nth): RawMoment => ({ at: "alignment-started", nth })) },
  { weight: 1, arbitrary: nthArb.map((nth): RawMoment => ({ at: "txn-opened", nth })) },
);
/** JobManager crashes: often while a checkpoint is being written (its state files exist, its metadata not yet). */
const jmMomentArb: fc.Arbitrary<RawMoment> = fc.oneof(
  { weight: 3, arbitrary: timeMoment },
  { weight: 3, arbitrary: triggeredMoment },
  { weight: 1, arbitrary: completedMoment },
);
/** Storage and broker crashes: mostly the moment a checkpoint completes (what it covers must be durable then). */
const serviceMomentArb: fc.Arbitrary<RawMoment> = fc.oneof({ weight: 1, arbitrary: timeMoment }, { weight: 3, arbitrary: completedMoment });

/** Raw fault of the given kinds (which must not be empty). */
export function rawFaultArb(kinds: readonly FaultKind[] = ALL_KINDS): fc.Arbitrary<RawFault> {
  const idx = fc.nat({ max: 15 });
  const byKind: Record<FaultKind, Array<{ weight: number; arbitrary: fc.Arbitrary<RawFault> }>> = {
    crash: [
      {
        weight: 4,
        arbitrary: fc
          .record({ moment: momentArb, tm: idx, restartAfterMs: fc.integer({ min: 50, max: 500 }) })
          .map((r): RawFault => ({ f: "crashTm", ...r })),
      },
      {
        weight: 2,
        arbitrary: fc
          .record({ moment: jmMomentArb, restartAfterMs: fc.integer({ min: 50, max: 300 }) })
          .map((r): RawFault => ({ f: "crashJm", ...r })),
      },
      {
        weight: 2,
        arbitrary: fc
          .record({ moment: serviceMomentArb, node: fc.constantFrom("storage" as const, "broker" as const), restartAfterMs: fc.integer({ min: 10, max: 200 }) })
          .map((r): RawFault => ({ f: "crashService", ...r })),
      },
    ],
    failTask: [
      {
        weight: 2,
        arbitrary: fc.record({ moment: momentArb, vertex: idx, subtask: idx }).map((r): RawFault => ({ f: "failTask", ...r })),
      },
    ],
    partition: [
      {
        weight: 4,
        arbitrary: fc
          .record({
            moment: momentArb,
            shape: fc.constantFrom("isolateJm" as const, "zombieTm" as const, "groups" as const),
            tm: idx,
            members: fc.array(fc.boolean(), { minLength: RAW_NODES_MAX, maxLength: RAW_NODES_MAX }),
            oneWay: fc.boolean(),
            durationMs,
          })
          .map((r): RawFault => ({ f: "partition", ...r })),
      },
    ],
    clog: [
      {
        weight: 1,
        arbitrary: fc
          .record({ moment: momentArb, from: idx, to: idx, bidirectional: fc.boolean(), durationMs })
          .map((r): RawFault => ({ f: "clog", ...r })),
      },
    ],
    slowDisk: [
      {
        weight: 1,
        arbitrary: fc
          .record({ moment: momentArb, factor: fc.integer({ min: 2, max: 50 }), durationMs })
          .map((r): RawFault => ({ f: "slowDisk", ...r })),
      },
    ],
    diskFailures: [
      {
        weight: 1,
        arbitrary: fc
          .record({ moment: momentArb, writeFailurePercent: fc.integer({ min: 20, max: 100 }), durationMs })
          .map((r): RawFault => ({ f: "diskFailures", ...r })),
      },
    ],
    slowOperator: [
      {
        weight: 1,
        arbitrary: fc
          .record({ moment: momentArb, vertex: idx, fromEnd: fc.boolean(), factor: fc.integer({ min: 5, max: 200 }), durationMs })
          .map((r): RawFault => ({ f: "slowOperator", ...r })),
      },
    ],
    dropRpc: [
      {
        weight: 1,
        arbitrary: fc
          .record({
            moment: momentArb,
            rpc: fc.constantFrom("notifyCheckpointComplete" as const, "acknowledgeCheckpoint" as const),
            durationMs,
          })
          .map((r): RawFault => ({ f: "dropRpc", ...r })),
      },
    ],
    slowBroker: [
      {
        weight: 1,
        arbitrary: fc
          .record({ moment: momentArb, factor: fc.integer({ min: 2, max: 20 }), durationMs })
          .map((r): RawFault => ({ f: "slowBroker", ...r })),
      },
    ],
  };
  const choices = [...new Set(kinds)].flatMap((k) => byKind[k]);
  if (choices.length === 0) throw new RangeError("faultPlanArb options.kinds must name at least one fault kind");
  return fc.oneof(...choices);
}

export function rawFaultsArb(maxFaults: number, kinds?: readonly FaultKind[]): fc.Arbitrary<readonly RawFault[]> {
  if (!(Number.isInteger(maxFaults) && maxFaults >= 0))
    throw new RangeError(`faultPlanArb options.maxFaults must be an integer >= 0, got ${maxFaults}`);
  if (maxFaults === 0) return fc.constant([]);
  return fc.array(rawFaultArb(kinds), { maxLength: maxFaults, size: "max" });
}

export type FaultTargets = {
  readonly taskManagers: number;
  readonly vertices: readonly VertexInfo[];
  readonly horizonMs: number;
};

/** Nodes of a simulated cluster with `taskManagers` TaskManagers, in a fixed order. */
export function clusterNodes(taskManagers: number): string[] {
  return ["jm", ...Array.from({ length: taskManagers }, (_, i) => `tm-${i}`), "broker", "storage"];
}

function resolveMoment(m: RawMoment, horizonMs: number): Moment {
  if (m.at === "time") return Math.round((m.permille * horizonMs) / 1000);
  if (m.at === "checkpoint-completed") return { after: m.at, nth: m.nth, delayMs: 0 };
  if (m.at === "checkpoint-triggered") return { after: m.at, nth: m.nth, delayMs: m.delayMs };
  return { after: m.at, nth: m.nth };
}

/** One concrete fault from a raw one; undefined when it names a vertex and there is none. */
export function resolveFault(r: RawFault, t: FaultTargets): Fault | undefined {
  const at = resolveMoment(r.moment, t.horizonMs);
  const tms = clusterNodes(t.taskManagers).filter((n) => n.startsWith("tm-"));
  const nodes = clusterNodes(t.taskManagers);
  const tm = (i: number): string => tms[i % tms.length] as string;
  const vertex = (i: number): VertexInfo | undefined => t.vertices[i % Math.max(1, t.vertices.length)];
  switch (r.f) {
    case "crashTm":
      return { at, fault: "crash", node: tm(r.tm), restartAfterMs: r.restartAfterMs };
    case "crashJm":
      return { at, fault: "crash", node: "jm", restartAfterMs: r.restartAfterMs };
    case "crashService":
      return { at, fault: "crash", node: r.node, restartAfterMs: r.restartAfterMs };
    case "failTask": {
      const v = vertex(r.vertex);
      return v === undefined ? undefined : { at, fault: "failTask", vertex: v.id, subtask: r.subtask % v.parallelism };
    }
    case "partition": {
      let a: string[];
      let b: string[];
      if (r.shape === "zombieTm") {
        // The TaskManager loses the JobManager only: it keeps reaching the broker and storage.
        a = [tm(r.tm)];
        b = ["jm"];
      } else {
        a = r.shape === "groups" ? nodes.filter((_, i) => r.members[i] === true) : [];
        b = nodes.filter((n) => !a.includes(n));
        if (a.length === 0 || b.length === 0) {
          a = ["jm"];
          b = tms;
        }
      }
      return { at, fault: "partition", a, b, ...(r.oneWay ? { oneWay: true } : {}), durationMs: r.durationMs };
    }
    case "clog": {
      const from = nodes[r.from % nodes.length] as string;
      let to = nodes[r.to % nodes.length] as string;
      if (to === from) to = nodes[(r.to + 1) % nodes.length] as string;
      return { at, fault: "clog", from, to, ...(r.bidirectional ? { bidirectional: true } : {}), durationMs: r.durationMs };
    }
    case "slowDisk":
      return { at, fault: "slowDisk", node: "storage", factor: r.factor, durationMs: r.durationMs };
    case "diskFailures":
      return { at, fault: "diskFailures", node: "storage", writeFailureProbability: r.writeFailurePercent / 100, durationMs: r.durationMs };
    case "slowOperator": {
      const v = r.fromEnd ? t.vertices[t.vertices.length - 1 - (r.vertex % Math.max(1, t.vertices.length))] : vertex(r.vertex);
      return v === undefined ? undefined : { at, fault: "slowOperator", vertex: v.id, factor: r.factor, durationMs: r.durationMs };
    }
    case "dropRpc":
      return { at, fault: "dropRpc", rpc: r.rpc, durationMs: r.durationMs };
    case "slowBroker":
      return { at, fault: "slowBroker", factor: r.factor, durationMs: r.durationMs };
  }
}

export function resolveFaults(raw: readonly RawFault[], t: FaultTargets): FaultPlan {
  const faults: Fault[] = [];
  for (const r of raw) {
    const f = resolveFault(r, t);
    if (f !== undefined) faults.push(f);
  }
  return { faults };
}

export function validateFaultPlanArbOptions(o: FaultPlanArbOptions): string | undefined {
  if (!(Number.isInteger(o.taskManagers) && o.taskManagers >= 1 && o.taskManagers <= 8))
    return `faultPlanArb options.taskManagers must be an integer in [1, 8], got ${o.taskManagers}`;
  for (const v of o.vertices) {
    if (typeof v === "string") {
      if (v.length === 0) return "faultPlanArb options.vertices must not hold an empty id";
    } else if (!(Number.isInteger(v.parallelism) && v.parallelism >= 1)) {
      return `faultPlanArb options.vertices: vertex "${v.id}" needs an integer parallelism >= 1, got ${v.parallelism}`;
    }
  }
  if (o.maxFaults !== undefined && !(Number.isInteger(o.maxFaults) && o.maxFaults >= 0))
    return `faultPlanArb options.maxFaults must be an integer >= 0, got ${o.maxFaults}`;
  if (o.horizonMs !== undefined && !(Number.isFinite(o.horizonMs) && o.horizonMs >= 0))
    return `faultPlanArb options.horizonMs must be a finite number >= 0, got ${o.horizonMs}`;
  if (o.kinds !== undefined && o.kinds.length === 0) return "faultPlanArb options.kinds must name at least one fault kind";
  return undefined;
}

/** Fault plans over a cluster of `taskManagers` and the given vertices; shrinks toward fewer, shorter faults. */
export function faultPlanArb(options: FaultPlanArbOptions): fc.Arbitrary<FaultPlan> {
  const problem = validateFaultPlanArbOptions(options);
  if (problem !== undefined) throw new RangeError(problem);
  const vertices = options.vertices.map((v) => (typeof v === "string" ? { id: v, parallelism: 1 } : v));
  // Without vertices, vertex faults cannot be aimed: leave them out rather than drop them after drawing.
  const kinds = (options.kinds ?? ALL_KINDS).filter((k) => vertices.length > 0 || (k !== "failTask" && k !== "slowOperator"));
  if (kinds.length === 0) throw new RangeError("faultPlanArb options.kinds only names vertex faults, but options.vertices is empty");
  const targets: FaultTargets = { taskManagers: options.taskManagers, vertices, horizonMs: options.horizonMs ?? 1000 };
  return rawFaultsArb(options.maxFaults ?? 5, kinds).map((raw) => resolveFaults(raw, targets));
}
