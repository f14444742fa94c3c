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
  /** Most raw faults in a plan (default 5); a structured one (a storage crash then a task failure, storage hiccups) resolves to two. */
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
  /**
   * A crash of the checkpoint storage ("storage") or the broker ("broker"): unsynced files and open
   * connections are lost. With `thenFailTask`, the first task fails `failAfterMs` after the restart,
   * so the job recovers from what the crash left (a structured schedule of two faults).
   */
  | {
      readonly f: "crashService";
      readonly node: "storage" | "broker";
      readonly restartAfterMs: number;
      readonly thenFailTask: boolean;
      readonly failAfterMs: number;
    }
  /**
   * Two short storage outages aimed at the nth and the (nth + gap)th trigger, so that checkpoints
   * fail with completed ones between them (what the failure counter's reset is about).
   */
  | { readonly f: "storageHiccups"; readonly nth: number; readonly gap: number; readonly durationMs: number }
  | { readonly f: "failTask"; readonly vertex: number; readonly subtask: number }
  | ({ readonly f: "partition"; readonly shape: "isolateJm" | "zombieTm" | "groups"; readonly tm: number; readonly members: readonly boolean[]; readonly oneWay: boolean } & Dur)
  /**
   * The JobManager's messages to one TaskManager are lost for a few ms from the nth trigger on (and,
   * `twice`, from the (n+1)th too): those checkpoints' triggers reach the other TaskManagers' sources
   * only, so with concurrent checkpoints a task with several inputs sees barriers of different
   * checkpoints on different channels, newer ones before older ones (what an aligning task must get
   * right). A structured schedule of one or two one-way partitions.
   */
  | ({ readonly f: "lostTrigger"; readonly tm: number; readonly nth: number; readonly twice: boolean } & Dur)
  | ({ readonly f: "clog"; readonly from: number; readonly to: number; readonly bidirectional: boolean } & Dur)
  | ({ readonly f: "slowDisk"; readonly factor: number } & Dur)
  | ({ readonly f: "diskFailures"; readonly writeFailurePercent: number } & Dur)
  /**
   * A vertex (`slowFromEnd` counts back from the last one, a sink) slows down from the start, so
   * barriers wait behind a backlog and reach a multi-input task's channels at different times, and
   * the first vertex fails the moment the nth checkpoint completes: the job restores a checkpoint
   * taken under backpressure.
   */
  | { readonly f: "backpressureFailover"; readonly nth: number; readonly slowFromEnd: number; readonly factor: number; readonly durationMs: number }
  /** `vertex` counts from the first vertex, or from the last (a sink) when `fromEnd`. */
  | ({ readonly f: "slowOperator"; readonly vertex: number; readonly fromEnd: boolean; readonly factor: number } & Dur)
  | ({ readonly f: "dropRpc"; readonly rpc: "notifyCheckpointComplete" | "acknowledgeCheckpoint" } & Dur)
  | ({ readonly f: "slowBroker"; readonly factor: number } & Dur)
  /**
   * The broker is slow from the start (writes queue up and are acknowledged late), and the broker
   * or a TaskManager crashes the moment the nth checkpoint completes: writes issued before its
   * barrier may still be in flight, and the checkpoint must not have completed without them.
   * (Slowing down only from the nth trigger on leaves too short a queue: 1 detection in 75.)
   */
  | ({ readonly f: "slowBrokerCrash"; readonly nth: number; readonly factor: number; readonly crashBroker: boolean; readonly tm: number; readonly restartAfterMs: number } & Dur)
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

/** Failures of the job (task failures, TaskManager crashes): often right after a completion, so the job restores that checkpoint. */
const failureMomentArb: fc.Arbitrary<RawMoment> = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 1000 }).map((permille): RawMoment => ({ at: "time", permille })) },
  { weight: 3, arbitrary: nthArb.map((nth): RawMoment => ({ at: "checkpoint-completed", nth })) },
  {
    weight: 1,
    arbitrary: fc
      .record({ nth: nthArb, delayMs: fc.integer({ min: 0, max: 30 }) })
      .map(({ nth, delayMs }): RawMoment => ({ at: "checkpoint-triggered", nth, delayMs })),
  },
  { weight: 1, arbitrary: nthArb.map((nth): RawMoment => ({ at: "alignment-started", nth })) },
  { weight: 1, arbitrary: nthArb.map((nth): RawMoment => ({ at: "txn-opened", nth })) },
);

/** Times first (a counterexample shrinks toward an early absolute time), then the trace triggers. */
const momentArb: fc.Arbitrary<RawMoment> = fc.oneof(
  { weight: 7, arbitrary: timeMoment },
  { weight: 2, arbitrary: completedMoment },
  { weight: 1, arbitrary: triggeredMoment },
  { weight: 1, arbitrary: nthArb.map((nth): RawMoment => ({ at: "alignment-started", nth })) },
  { weight: 1, arbitrary: nthArb.map((nth): RawMoment => ({ at: "txn-opened", nth })) },
);
/**
 * JobManager crashes: often while the 2nd..4th checkpoint is being written (its state files exist,
 * its metadata not yet; after the 1st, a recovery to nothing would look like a fresh start).
 */
const jmMomentArb: fc.Arbitrary<RawMoment> = fc.oneof(
  { weight: 2, arbitrary: timeMoment },
  {
    weight: 5,
    arbitrary: fc
      .record({ nth: fc.integer({ min: 2, max: 4 }), delayMs: fc.integer({ min: 0, max: 30 }) })
      .map(({ nth, delayMs }): RawMoment => ({ at: "checkpoint-triggered", nth, delayMs })),
  },
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
          .record({ moment: failureMomentArb, tm: idx, restartAfterMs: fc.integer({ min: 50, max: 500 }) })
          .map((r): RawFault => ({ f: "crashTm", ...r })),
      },
      {
        weight: 4,
        arbitrary: fc
          .record({ moment: jmMomentArb, restartAfterMs: fc.integer({ min: 50, max: 300 }) })
          .map((r): RawFault => ({ f: "crashJm", ...r })),
      },
      {
        weight: 2,
        arbitrary: fc
          .record({
            moment: serviceMomentArb,
            node: fc.constantFrom("storage" as const, "broker" as const),
            restartAfterMs: fc.integer({ min: 10, max: 200 }),
            thenFailTask: kinds.includes("failTask") ? fc.boolean() : fc.constant(false),
            failAfterMs: fc.integer({ min: 0, max: 100 }),
          })
          .map((r): RawFault => ({ f: "crashService", ...r })),
      },
    ],
    failTask: [
      {
        weight: 2,
        arbitrary: fc.record({ moment: failureMomentArb, vertex: idx, subtask: idx }).map((r): RawFault => ({ f: "failTask", ...r })),
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
      {
        weight: 2,
        arbitrary: fc
          .record({ nth: fc.integer({ min: 1, max: 3 }), tm: idx, twice: fc.boolean(), durationMs: fc.integer({ min: 5, max: 30 }) })
          .map((r): RawFault => ({ f: "lostTrigger", moment: { at: "checkpoint-triggered", nth: r.nth, delayMs: 0 }, ...r })),
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
      {
        // Intermittent: some checkpoints fail, others complete between them (what the failure counter's reset is about).
        weight: 1,
        arbitrary: fc
          .record({ moment: momentArb, writeFailurePercent: fc.integer({ min: 1, max: 8 }), durationMs: fc.integer({ min: 500, max: 3000 }) })
          .map((r): RawFault => ({ f: "diskFailures", ...r })),
      },
      {
        weight: 2,
        arbitrary: fc
          .record({ nth: fc.integer({ min: 1, max: 2 }), gap: fc.constant(2), durationMs: fc.integer({ min: 5, max: 30 }) })
          .map((r): RawFault => ({ f: "storageHiccups", moment: { at: "checkpoint-triggered", nth: r.nth, delayMs: 0 }, ...r })),
      },
    ],
    slowOperator: [
      {
        weight: 1,
        arbitrary: fc
          .record({ moment: momentArb, vertex: idx, fromEnd: fc.boolean(), factor: fc.integer({ min: 5, max: 200 }), durationMs })
          .map((r): RawFault => ({ f: "slowOperator", ...r })),
      },
      {
        weight: 4,
        arbitrary: fc
          .record({ nth: nthArb, slowFromEnd: fc.nat({ max: 15 }), factor: fc.integer({ min: 20, max: 200 }), durationMs: fc.integer({ min: 1000, max: 3000 }) })
          .map((r): RawFault => ({ f: "backpressureFailover", moment: { at: "time", permille: 0 }, ...r })),
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
          .record({
            moment: momentArb,
            factor: fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 2, max: 20 }) }, { weight: 1, arbitrary: fc.integer({ min: 100, max: 2000 }) }),
            durationMs,
          })
          .map((r): RawFault => ({ f: "slowBroker", ...r })),
      },
      {
        weight: 4,
        arbitrary: fc
          .record({
            nth: nthArb,
            // 25..100 ms a request: a write issued just before the barrier is still queued when the checkpoint completes (~50 ms later).
            factor: fc.integer({ min: 500, max: 2000 }),
            durationMs: fc.integer({ min: 1000, max: 2000 }),
            crashBroker: fc.boolean(),
            tm: idx,
            restartAfterMs: fc.integer({ min: 10, max: 200 }),
          })
          .map((r): RawFault => ({ f: "slowBrokerCrash", moment: { at: "time", permille: 0 }, ...r })),
      },
    ],
  };
  const choices = [...new Set(kinds)].flatMap((k) => byKind[k]);
  if (choices.length === 0) throw new RangeError("faultPlanArb options.kinds must name at least one fault kind");
  // Cross-shrinking: a counterexample also tries the first choice (a plain TaskManager crash), so
  // structured schedules and rare kinds shrink toward one simple fault when that still fails.
  return fc.oneof({ withCrossShrink: true }, ...choices);
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

/** The concrete faults of a raw one: one, two for a structured schedule, none when it names a vertex and there is none. */
export function resolveFault(r: RawFault, t: FaultTargets): Fault[] {
  if (r.f === "crashService" && r.thenFailTask) {
    const crash = resolveSingle(r, t);
    const first = t.vertices[0];
    if (crash === undefined || first === undefined) return crash === undefined ? [] : [crash];
    const failAt: Moment =
      r.moment.at === "time"
        ? Math.max(crash.at as number, Math.min(t.horizonMs, (crash.at as number) + r.restartAfterMs + r.failAfterMs))
        : { after: r.moment.at, nth: r.moment.nth, delayMs: ("delayMs" in r.moment ? r.moment.delayMs : 0) + r.restartAfterMs + r.failAfterMs };
    return [crash, { at: failAt, fault: "failTask", vertex: first.id, subtask: 0 }];
  }
  if (r.f === "backpressureFailover") {
    const n = t.vertices.length;
    const slow = t.vertices[n - 1 - (r.slowFromEnd % Math.max(1, n))];
    const first = t.vertices[0];
    if (slow === undefined || first === undefined) return [];
    return [
      { at: 0, fault: "slowOperator", vertex: slow.id, factor: r.factor, durationMs: r.durationMs },
      { at: { after: "checkpoint-completed", nth: r.nth, delayMs: 0 }, fault: "failTask", vertex: first.id, subtask: 0 },
    ];
  }
  if (r.f === "slowBrokerCrash") {
    const tms = clusterNodes(t.taskManagers).filter((n) => n.startsWith("tm-"));
    const node = r.crashBroker ? "broker" : (tms[r.tm % tms.length] as string);
    return [
      { at: 0, fault: "slowBroker", factor: r.factor, durationMs: r.durationMs },
      { at: { after: "checkpoint-completed", nth: r.nth, delayMs: 0 }, fault: "crash", node, restartAfterMs: r.restartAfterMs },
    ];
  }
  if (r.f === "lostTrigger") {
    const tms = clusterNodes(t.taskManagers).filter((n) => n.startsWith("tm-"));
    const lose = (nth: number): Fault => ({
      at: { after: "checkpoint-triggered", nth, delayMs: 0 },
      fault: "partition",
      a: ["jm"],
      b: [tms[r.tm % tms.length] as string],
      oneWay: true,
      durationMs: r.durationMs,
    });
    return r.twice ? [lose(r.nth), lose(r.nth + 1)] : [lose(r.nth)];
  }
  if (r.f === "storageHiccups") {
    const outage = (nth: number): Fault => ({
      at: { after: "checkpoint-triggered", nth, delayMs: 0 },
      fault: "diskFailures",
      node: "storage",
      writeFailureProbability: 1,
      durationMs: r.durationMs,
    });
    return [outage(r.nth), outage(r.nth + r.gap)];
  }
  const f = resolveSingle(r, t);
  return f === undefined ? [] : [f];
}

function resolveSingle(r: RawFault, t: FaultTargets): Fault | undefined {
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
    case "lostTrigger":
      return undefined; // always resolved as a schedule (resolveFault)
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
    case "slowBrokerCrash":
      return { at, fault: "slowBroker", factor: r.factor, durationMs: r.durationMs };
    case "backpressureFailover":
      return undefined; // always resolved as a schedule of two (resolveFault)
    case "storageHiccups":
      return { at, fault: "diskFailures", node: "storage", writeFailureProbability: 1, durationMs: r.durationMs };
  }
}

/** Most product of the slow-broker factors of one plan (factors multiply where faults overlap): 100 ms a request. */
export const SLOW_BROKER_PRODUCT_MAX = 2000;
/** Most product of the slow-operator factors on one vertex. */
export const SLOW_OPERATOR_PRODUCT_MAX = 200;
/**
 * Most product of the slow-disk factors on one node's disk: 200 times a 12 ms write is 2.4 s. (Three
 * overlapping slow disks of 29, 45 and 36 made one read take 141 s, and the job, restoring behind
 * it, finished 121 s after the faults had ended: a false liveness failure, sweep seed 19.)
 */
export const SLOW_DISK_PRODUCT_MAX = 200;

/** The product budget a slowdown draws on and who shares it (the broker, each vertex, each disk); undefined for other faults. */
function slowdownBudget(f: Fault): { readonly key: string; readonly max: number } | undefined {
  switch (f.fault) {
    case "slowBroker":
      return { key: "broker", max: SLOW_BROKER_PRODUCT_MAX };
    case "slowOperator":
      return { key: `operator:${f.vertex}`, max: SLOW_OPERATOR_PRODUCT_MAX };
    case "slowDisk":
      return { key: `disk:${f.node ?? "storage"}`, max: SLOW_DISK_PRODUCT_MAX };
    default:
      return undefined;
  }
}

export function resolveFaults(raw: readonly RawFault[], t: FaultTargets): FaultPlan {
  const faults: Fault[] = [];
  // Overlapping slowdowns multiply: two slow brokers of 2000 make one request take 200 s, which no
  // job outlives. Later slowdowns get what is left of their budget (none left: left out); the
  // budget is per plan, not per overlap, so it holds whatever the faults' times turn out to be.
  const used = new Map<string, number>();
  for (const r of raw)
    for (const f of resolveFault(r, t)) {
      const budget = slowdownBudget(f);
      if (budget === undefined || !("factor" in f)) {
        faults.push(f);
        continue;
      }
      const sofar = used.get(budget.key) ?? 1;
      const factor = Math.min(f.factor, Math.floor(budget.max / sofar));
      if (factor < 2) continue;
      used.set(budget.key, sofar * factor);
      faults.push({ ...f, factor });
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
