/**
 * Generated pipelines: a small grammar whose every sentence is a valid plan with a well-defined
 * result (see DESIGN.md, "The oracle" and "Mind running values").
 *
 *   sources (1..3, each with its own stateless chain; several sources merge into one node: a union)
 *   -> stateless chain (map / filter / flatMap, forward or rebalance edges; "rekey" only here)
 *   -> optional keyed stage, keyed by the "key" field:
 *        running  (reduce, runningCount)        -> optional forward map (identity / affine), nothing else
 *        settled  (tumbling / sliding window, bucketSum) or dedupe
 *                                               -> stateless chain (no rekey)
 *                                               -> optional second settled stage keyed by "key"
 *   -> 1..2 sinks (twoPhaseCommit / upsert / plain); the first reads the tail, a second may tap an
 *      earlier node.
 *
 * Per-key order is kept where it matters: running values and upsert sinks are read over `forward`
 * or `hash` (on "key") edges from a node that holds each key on one subtask, and an upsert sink
 * only reads a node whose last update per key is defined (not dedupe, whose arrival order is not).
 *
 * The arbitrary generates a `PlanDescriptor` from arrays and small integers (so the shrinker drops
 * operators and lowers parallelism), normalizes it (operator budget, forward edges inherit the
 * upstream parallelism, ordering rules for sinks), and `buildPlan` turns it into a `Plan`.
 */
import fc from "fast-check";
import type { FnRef, Plan, PlanNode, ReduceAgg, SinkKind, SinkNode, WindowAssigner, Edge } from "../engine/plan/plan.ts";

// ---- the grammar --------------------------------------------------------------------------------

/** One stateless operator. `edge: "forward"` means the same parallelism as its (first) input. */
export type StatelessStep = {
  readonly op: "map" | "filter" | "flatMap";
  readonly fn: FnRef;
  readonly edge: "forward" | "rebalance";
  readonly parallelism: number;
};

/** A keyed operator, fed by hash edges on the "key" field. */
export type KeyedStage =
  | { readonly op: "reduce"; readonly agg: ReduceAgg; readonly parallelism: number }
  | { readonly op: "reduce"; readonly fn: FnRef; readonly parallelism: number }
  | { readonly op: "process"; readonly fn: FnRef; readonly parallelism: number }
  | { readonly op: "window"; readonly assigner: WindowAssigner; readonly aggregate: FnRef; readonly parallelism: number };

/**
 * running: emits an updated value per record (reduce, runningCount);
 * settled: emits final results on event time (windows, bucketSum);
 * dedupe: emits first occurrences (defined as a multiset, not in order).
 */
export type StageClass = "running" | "settled" | "dedupe";

export type SourceDescriptor = {
  readonly parallelism: number;
  readonly outOfOrdernessMs: number;
  /** Stateless operators on this source's branch, before the branches merge. */
  readonly chain: readonly StatelessStep[];
};

export type SinkDescriptor = {
  readonly kind: SinkKind;
  readonly parallelism: number;
  readonly edge: "forward" | "rebalance" | "hash";
  /**
   * Which node the sink reads, counted back from the tail of the pipeline in plan order: 0 is the
   * tail (every branch end, when branches never merge), 1 the node before the last, and so on.
   */
  readonly tap: number;
};

export type PlanDescriptor = {
  readonly sources: readonly SourceDescriptor[];
  /** Stateless operators after the merge; the first one is the union when there are several sources. */
  readonly chain: readonly StatelessStep[];
  readonly keyed: KeyedStage | undefined;
  /** Operators after the keyed stage: one forward identity/affine map after a running stage, else any stateless chain. */
  readonly after: readonly StatelessStep[];
  /** A second settled stage (window / bucketSum), only after a settled or dedupe stage. */
  readonly second: KeyedStage | undefined;
  readonly sinks: readonly SinkDescriptor[];
};

export type PlanArbOptions = {
  /** Sink kinds to draw from (default all three). With only "upsert", every plan has a keyed stage. */
  readonly sinkKinds?: readonly SinkKind[];
  /** Most sources (1..3, default 3). */
  readonly maxSources?: number;
  /** Most operators (nodes that are neither sources nor sinks), default 8. */
  readonly maxOperators?: number;
  /** Most parallelism of any node (1..128, default 4). */
  readonly maxParallelism?: number;
  /** Most sinks (1 or 2, default 2). */
  readonly maxSinks?: number;
};

const ALL_SINK_KINDS: readonly SinkKind[] = ["twoPhaseCommit", "upsert", "plain"];

export function validatePlanArbOptions(o: PlanArbOptions): string | undefined {
  const int = (v: number | undefined, name: string, min: number, max: number): string | undefined =>
    v === undefined || (Number.isInteger(v) && v >= min && v <= max)
      ? undefined
      : `planArb options.${name} must be an integer in [${min}, ${max}], got ${v}`;
  if (o.sinkKinds !== undefined) {
    if (o.sinkKinds.length === 0) return "planArb options.sinkKinds must name at least one sink kind";
    const bad = o.sinkKinds.find((k) => !ALL_SINK_KINDS.includes(k));
    if (bad !== undefined) return `planArb options.sinkKinds must hold twoPhaseCommit, upsert or plain, got ${JSON.stringify(bad)}`;
  }
  const onlyUpsert = o.sinkKinds !== undefined && o.sinkKinds.every((k) => k === "upsert");
  return (
    int(o.maxSources, "maxSources", 1, 3) ??
    int(o.maxOperators, "maxOperators", onlyUpsert ? 1 : 0, 64) ??
    int(o.maxParallelism, "maxParallelism", 1, 128) ??
    int(o.maxSinks, "maxSinks", 1, 2)
  );
}

type ResolvedOptions = Required<PlanArbOptions>;

function resolveOptions(o: PlanArbOptions): ResolvedOptions {
  const problem = validatePlanArbOptions(o);
  if (problem !== undefined) throw new RangeError(problem);
  return {
    sinkKinds: o.sinkKinds ?? ALL_SINK_KINDS,
    maxSources: o.maxSources ?? 3,
    maxOperators: o.maxOperators ?? 8,
    maxParallelism: o.maxParallelism ?? 4,
    maxSinks: o.maxSinks ?? 2,
  };
}

// ---- helpers on descriptors and plans ----------------------------------------------------------

/** The key selector every generated keyBy and upsert table uses. */
export const KEY_FIELD: FnRef = { fn: "field", args: { name: "key" } };

export function stageClass(s: KeyedStage): StageClass {
  if (s.op === "reduce") return "running";
  if (s.op === "window") return "settled";
  if (s.fn.fn === "runningCount") return "running";
  if (s.fn.fn === "dedupe") return "dedupe";
  return "settled";
}

/** Nodes that are neither sources nor sinks. */
export function operatorCount(plan: Plan): number {
  return plan.nodes.filter((n) => n.kind !== "source" && n.kind !== "sink").length;
}

export function descriptorOperatorCount(d: PlanDescriptor): number {
  let n = d.chain.length + d.after.length + (d.keyed ? 1 : 0) + (d.second ? 1 : 0);
  for (const s of d.sources) n += s.chain.length;
  return n;
}

export function maxParallelism(plan: Plan): number {
  return plan.nodes.reduce((m, n) => Math.max(m, n.parallelism), 1);
}

// ---- layout: the nodes a descriptor stands for, with the ordering facts of each ---------------

/** A node of the pipeline (not a sink) with what a sink reading it may rely on. */
type Point = {
  readonly id: string;
  readonly parallelism: number;
  /** Each key lives on one subtask and its updates leave in a defined order, as a table's last value needs. */
  readonly upsertOk: boolean;
  /** Carries running values: readers must keep per-key order (forward or hash edges only). */
  readonly ordered: boolean;
};

type Layout = { readonly nodes: PlanNode[]; readonly points: Point[]; readonly tails: Point[] };

function layout(d: PlanDescriptor): Layout {
  const nodes: PlanNode[] = [];
  const points: Point[] = [];
  let counter = 0;
  const nextId = (kind: string): string => `${kind}-${counter++}`;
  const push = (node: PlanNode, upsertOk: boolean, ordered: boolean): Point => {
    nodes.push(node);
    const p = { id: node.id, parallelism: node.parallelism, upsertOk, ordered };
    points.push(p);
    return p;
  };
  const stateless = (step: StatelessStep, inputs: readonly Point[]): Point => {
    const edges: Edge[] = inputs.map((t) => ({
      from: t.id,
      partition: step.edge === "forward" && t.parallelism === step.parallelism ? "forward" : "rebalance",
    }));
    const only = inputs.length === 1 ? inputs[0] : undefined;
    const keepsOrder = only !== undefined && edges[0]?.partition === "forward";
    const node = { id: nextId(step.op), kind: step.op, parallelism: step.parallelism, inputs: edges, fn: step.fn } as PlanNode;
    return push(node, keepsOrder && only.upsertOk, keepsOrder && only.ordered);
  };
  const keyed = (stage: KeyedStage, inputs: readonly Point[]): Point => {
    const edges: Edge[] = inputs.map((t) => ({ from: t.id, partition: "hash", key: KEY_FIELD }));
    const base = { id: nextId(stage.op), parallelism: stage.parallelism, inputs: edges };
    let node: PlanNode;
    if (stage.op === "reduce") {
      node = "agg" in stage ? { ...base, kind: "reduce", agg: stage.agg, field: "value" } : { ...base, kind: "reduce", fn: stage.fn };
    } else if (stage.op === "process") {
      node = { ...base, kind: "process", fn: stage.fn };
    } else {
      node = { ...base, kind: "window", assigner: stage.assigner, aggregate: stage.aggregate };
    }
    const cls = stageClass(stage);
    return push(node, cls !== "dedupe", cls === "running");
  };

  const branchTails: Point[] = [];
  for (let i = 0; i < d.sources.length; i++) {
    const s = d.sources[i] as SourceDescriptor;
    let tail = push(
      {
        id: `source-${i}`,
        kind: "source",
        topic: `in-${i}`,
        parallelism: s.parallelism,
        inputs: [],
        watermark: { outOfOrdernessMs: s.outOfOrdernessMs },
      },
      false,
      false,
    );
    for (const step of s.chain) tail = stateless(step, [tail]);
    branchTails.push(tail);
  }
  let tails: Point[] = branchTails;
  for (const step of d.chain) tails = [stateless(step, tails)];
  if (d.keyed !== undefined) {
    tails = [keyed(d.keyed, tails)];
    for (const step of d.after) tails = [stateless(step, tails)];
    if (d.second !== undefined) tails = [keyed(d.second, tails)];
  }
  return { nodes, points, tails };
}

/** The inputs a sink reading `tap` gets: the tails for tap 0, else one earlier node. */
function tapInputs(l: Layout, tap: number): readonly Point[] {
  if (tap === 0) return l.tails;
  const idx = Math.max(0, l.points.length - 1 - tap);
  return [l.points[idx] as Point];
}

/** Builds the plan a (normalized) descriptor stands for. */
export function buildPlan(d: PlanDescriptor): Plan {
  const l = layout(d);
  const nodes: PlanNode[] = [...l.nodes];
  for (let i = 0; i < d.sinks.length; i++) {
    const s = d.sinks[i] as SinkDescriptor;
    const inputs: Edge[] = tapInputs(l, s.tap).map((t) =>
      s.edge === "hash"
        ? { from: t.id, partition: "hash", key: KEY_FIELD }
        : { from: t.id, partition: s.edge === "forward" && t.parallelism === s.parallelism ? "forward" : "rebalance" },
    );
    const sink: SinkNode = {
      id: `sink-${i}`,
      kind: "sink",
      sink: s.kind,
      topic: `out-${i}`,
      parallelism: s.parallelism,
      inputs,
      ...(s.kind === "upsert" ? { upsertKey: KEY_FIELD } : {}),
    };
    nodes.push(sink);
  }
  return { nodes };
}

// ---- normalization -----------------------------------------------------------------------------

/** Forward steps take their input's parallelism. */
function flow(steps: readonly StatelessStep[], parallelism: number, forceForward: boolean): { steps: StatelessStep[]; parallelism: number } {
  let p = parallelism;
  const out: StatelessStep[] = [];
  for (const s of steps) {
    const edge = forceForward ? "forward" : s.edge;
    const step = edge === "forward" ? { ...s, edge, parallelism: p } : s;
    out.push(step);
    p = step.parallelism;
  }
  return { steps: out, parallelism: p };
}

/**
 * Makes a raw descriptor a sentence of the grammar: applies the operator budget, gives forward
 * edges their input's parallelism, and routes sinks so the result is defined (upsert and running
 * values over forward or hash edges from a node that keeps per-key order).
 */
export function normalizeDescriptor(raw: PlanDescriptor, options: PlanArbOptions = {}): PlanDescriptor {
  const o = resolveOptions(options);
  // Budget: the keyed stages first (the grammar needs them for upsert sinks), then stateless steps in plan order.
  let keyedStage = raw.keyed;
  // No event-time stage after dedupe: dedupe keeps whichever duplicate comes first, so the
  // timestamps of its output (and any window over them) depend on arrival order.
  let second = keyedStage === undefined || stageClass(keyedStage) === "dedupe" ? undefined : raw.second;
  if (o.maxOperators < 2) second = undefined;
  if (o.maxOperators < 1) keyedStage = undefined;
  let budget = o.maxOperators - (keyedStage ? 1 : 0) - (second ? 1 : 0);
  const take = (steps: readonly StatelessStep[]): StatelessStep[] => {
    const n = Math.max(0, Math.min(budget, steps.length));
    budget -= n;
    return steps.slice(0, n);
  };
  const sourceChains = raw.sources.slice(0, o.maxSources).map((s) => take(s.chain));
  const chainRaw = take(raw.chain);
  const afterRaw = keyedStage === undefined ? [] : take(raw.after);

  const cls = keyedStage === undefined ? undefined : stageClass(keyedStage);
  const lastClass = second !== undefined ? stageClass(second) : cls;
  const wantsUpsertTail = raw.sinks[0]?.kind === "upsert";
  const upsertTailPossible = lastClass === "running" || lastClass === "settled";
  // A running stage is followed by at most one forward identity/affine map; an upsert tail forces
  // the steps after the last keyed stage to forward edges so each key stays on one path.
  const forceForwardAfter = cls === "running" || (wantsUpsertTail && upsertTailPossible && second === undefined);

  const sources = raw.sources.slice(0, o.maxSources).map((s, i) => {
    const f = flow(sourceChains[i] ?? [], s.parallelism, false);
    return { ...s, chain: f.steps, tail: f.parallelism };
  });
  const firstTail = sources[0]?.tail ?? 1;
  const chain = flow(chainRaw, firstTail, false).steps;
  const keyedP = keyedStage?.parallelism ?? 1;
  const after = cls === "running" ? flow(afterRaw.slice(0, 1), keyedP, true).steps : flow(afterRaw, keyedP, forceForwardAfter).steps;

  const body: PlanDescriptor = {
    sources: sources.map((s) => ({ parallelism: s.parallelism, outOfOrdernessMs: s.outOfOrdernessMs, chain: s.chain })),
    chain,
    keyed: keyedStage,
    after,
    second,
    sinks: [],
  };
  const l = layout(body);
  const fallback: SinkKind | undefined = o.sinkKinds.includes("twoPhaseCommit")
    ? "twoPhaseCommit"
    : o.sinkKinds.includes("plain")
      ? "plain"
      : undefined;

  const sinks: SinkDescriptor[] = [];
  const rawSinks = raw.sinks.slice(0, o.maxSinks);
  for (let i = 0; i < rawSinks.length; i++) {
    const s = rawSinks[i] as SinkDescriptor;
    let tap = i === 0 ? 0 : Math.min(s.tap, l.points.length - 1);
    let kind = s.kind;
    if (kind === "upsert") {
      const at = tapInputs(l, tap);
      const ok = at.length === 1 && at[0]?.upsertOk === true;
      if (!ok) {
        // Sinks after the first move to the nearest node that keeps per-key order (earlier ones first).
        const idx = tap === 0 ? l.points.length - 1 : l.points.length - 1 - tap;
        let found = -1;
        for (let j = idx; j >= 0 && i > 0 && found < 0; j--) if (l.points[j]?.upsertOk === true) found = j;
        for (let j = idx + 1; j < l.points.length && i > 0 && found < 0; j++) if (l.points[j]?.upsertOk === true) found = j;
        if (found >= 0) tap = l.points.length - 1 - found;
        else if (fallback !== undefined) kind = fallback;
        else throw new RangeError("planArb: an upsert sink has no keyed stage to read; allow another sink kind");
      }
    }
    const inputs = tapInputs(l, tap);
    const first = inputs[0] as Point;
    const needsOrder = kind === "upsert" || inputs.some((p) => p.ordered);
    const edge = needsOrder && s.edge === "rebalance" ? "hash" : s.edge;
    const parallelism = edge === "forward" ? first.parallelism : s.parallelism;
    sinks.push({ kind, parallelism, edge, tap });
  }
  return { ...body, sinks };
}

// ---- arbitraries -------------------------------------------------------------------------------

const ref = (fn: string, args?: FnRef["args"]): FnRef => (args === undefined ? { fn } : { fn, args });

const mapFnArb = (withRekey: boolean): fc.Arbitrary<FnRef> =>
  fc.oneof(
    fc.constant(ref("identity")),
    fc.record({ a: fc.integer({ min: 1, max: 3 }), b: fc.integer({ min: -5, max: 5 }) }).map((args) => ref("affine", args)),
    fc.constant(ref("abs")),
    ...(withRekey ? [fc.integer({ min: 2, max: 5 }).map((mod) => ref("rekey", { mod }))] : []),
  );

const filterFnArb: fc.Arbitrary<FnRef> = fc.oneof(
  fc.constant(ref("all")),
  fc
    .record({ m: fc.integer({ min: 2, max: 4 }), r: fc.integer({ min: 0, max: 3 }) })
    .map(({ m, r }) => ref("valueMod", { m, r: Math.min(r, m - 1) })),
  fc.integer({ min: -10, max: 10 }).map((min) => ref("valueAtLeast", { min })),
);

const flatMapFnArb: fc.Arbitrary<FnRef> = fc.oneof(
  fc.integer({ min: 0, max: 3 }).map((n) => ref("explode", { n })),
  fc.constant(ref("dropOdd")),
);

function statelessStepArb(withRekey: boolean, maxPar: number): fc.Arbitrary<StatelessStep> {
  const opFn = fc.oneof(
    { weight: 3, arbitrary: mapFnArb(withRekey).map((fn) => ({ op: "map" as const, fn })) },
    { weight: 2, arbitrary: filterFnArb.map((fn) => ({ op: "filter" as const, fn })) },
    { weight: 1, arbitrary: flatMapFnArb.map((fn) => ({ op: "flatMap" as const, fn })) },
  );
  return fc
    .record({ opFn, edge: fc.constantFrom("forward" as const, "rebalance" as const), parallelism: fc.integer({ min: 1, max: maxPar }) })
    .map(({ opFn: { op, fn }, edge, parallelism }) => ({ op, fn, edge, parallelism }));
}

/** identity or affine, forward (the parallelism is set by normalization). */
const afterRunningStepArb: fc.Arbitrary<StatelessStep> = fc
  .oneof(
    fc.constant(ref("identity")),
    fc.record({ a: fc.integer({ min: 1, max: 3 }), b: fc.integer({ min: -5, max: 5 }) }).map((args) => ref("affine", args)),
  )
  .map((fn) => ({ op: "map", fn, edge: "forward", parallelism: 1 }));

const sizeMsArb = fc.integer({ min: 50, max: 500 });

function runningStageArb(maxPar: number): fc.Arbitrary<KeyedStage> {
  const p = fc.integer({ min: 1, max: maxPar });
  return fc.oneof(
    fc.record({ agg: fc.constantFrom<ReduceAgg>("sum", "min", "max", "count"), parallelism: p }).map((r): KeyedStage => ({ op: "reduce", ...r })),
    fc
      .record({ fn: fc.constantFrom("sumValue", "minValue", "maxValue"), parallelism: p })
      .map((r): KeyedStage => ({ op: "reduce", fn: ref(r.fn), parallelism: r.parallelism })),
    p.map((parallelism): KeyedStage => ({ op: "process", fn: ref("runningCount"), parallelism })),
  );
}

function windowStageArb(maxPar: number): fc.Arbitrary<KeyedStage> {
  const p = fc.integer({ min: 1, max: maxPar });
  const aggregate = fc.constantFrom("sum", "count", "min", "max").map((a) => ref(a));
  const tumbling = sizeMsArb.map((sizeMs): WindowAssigner => ({ kind: "tumbling", sizeMs }));
  // Sliding: the slide divides the size; 2..4 windows per record, size in 50..500.
  const sliding = fc
    .record({ slideMs: fc.integer({ min: 25, max: 250 }), windows: fc.integer({ min: 2, max: 4 }) })
    .map(({ slideMs, windows }): WindowAssigner => {
      const k = Math.max(1, Math.min(windows, Math.floor(500 / slideMs)));
      return { kind: "sliding", sizeMs: slideMs * k, slideMs };
    });
  return fc.oneof(
    fc.record({ assigner: fc.oneof(tumbling, sliding), aggregate, parallelism: p }).map((r): KeyedStage => ({ op: "window", ...r })),
    fc
      .record({ sizeMs: sizeMsArb, parallelism: p })
      .map((r): KeyedStage => ({ op: "process", fn: ref("bucketSum", { sizeMs: r.sizeMs }), parallelism: r.parallelism })),
  );
}

function dedupeStageArb(maxPar: number): fc.Arbitrary<KeyedStage> {
  return fc.integer({ min: 1, max: maxPar }).map((parallelism): KeyedStage => ({ op: "process", fn: ref("dedupe"), parallelism }));
}

type Tail = Pick<PlanDescriptor, "keyed" | "after" | "second">;

function tailArb(o: ResolvedOptions): fc.Arbitrary<Tail> {
  const onlyUpsert = o.sinkKinds.every((k) => k === "upsert");
  const stateless = statelessStepArb(false, o.maxParallelism);
  const none: fc.Arbitrary<Tail> = fc.constant({ keyed: undefined, after: [], second: undefined });
  const running: fc.Arbitrary<Tail> = fc
    .record({ keyed: runningStageArb(o.maxParallelism), after: fc.array(afterRunningStepArb, { maxLength: 1 }) })
    .map((r) => ({ ...r, second: undefined }));
  const firstSettled = onlyUpsert
    ? windowStageArb(o.maxParallelism)
    : fc.oneof({ weight: 3, arbitrary: windowStageArb(o.maxParallelism) }, { weight: 1, arbitrary: dedupeStageArb(o.maxParallelism) });
  const settled: fc.Arbitrary<Tail> = fc.record({
    keyed: firstSettled,
    after: fc.array(stateless, { maxLength: 2, size: "max" }),
    second: fc.option(windowStageArb(o.maxParallelism), { nil: undefined, freq: 3 }),
  });
  return onlyUpsert
    ? fc.oneof({ weight: 2, arbitrary: running }, { weight: 3, arbitrary: settled })
    : fc.oneof({ weight: 2, arbitrary: none }, { weight: 2, arbitrary: running }, { weight: 3, arbitrary: settled });
}

function sinkArb(o: ResolvedOptions): fc.Arbitrary<SinkDescriptor> {
  return fc.record({
    kind: fc.constantFrom(...o.sinkKinds),
    parallelism: fc.integer({ min: 1, max: o.maxParallelism }),
    edge: fc.constantFrom("forward" as const, "hash" as const, "rebalance" as const),
    tap: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.integer({ min: 1, max: 6 }) }),
  });
}

/** Raw descriptors (before normalization): what the shrinker works on. */
function rawDescriptorArb(o: ResolvedOptions): fc.Arbitrary<PlanDescriptor> {
  const source = fc.record({
    parallelism: fc.integer({ min: 1, max: o.maxParallelism }),
    outOfOrdernessMs: fc.integer({ min: 0, max: 50 }),
    chain: fc.array(statelessStepArb(true, o.maxParallelism), { maxLength: 2, size: "max" }),
  });
  return fc
    .record({
      sources: fc.array(source, { minLength: 1, maxLength: o.maxSources, size: "max" }),
      chain: fc.array(statelessStepArb(true, o.maxParallelism), { maxLength: 3, size: "max" }),
      tail: tailArb(o),
      sinks: fc.array(sinkArb(o), { minLength: 1, maxLength: o.maxSinks, size: "max" }),
    })
    .map(({ sources, chain, tail, sinks }) => ({ sources, chain, ...tail, sinks }));
}

/** Normalized plan descriptors (sentences of the grammar). */
export function planDescriptorArb(options: PlanArbOptions = {}): fc.Arbitrary<PlanDescriptor> {
  const o = resolveOptions(options);
  return rawDescriptorArb(o).map((d) => normalizeDescriptor(d, o));
}

/** Valid plans with a well-defined result, built from `planDescriptorArb`. */
export function planArb(options: PlanArbOptions = {}): fc.Arbitrary<Plan> {
  return planDescriptorArb(options).map(buildPlan);
}
