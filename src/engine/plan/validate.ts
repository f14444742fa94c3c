/**
 * Validation of a logical plan and of its input, before anything runs.
 *
 * Each validator returns one sentence that names the node (or input), the field and the fix, or
 * undefined when the value is valid. The rules are the structural ones the engine and the oracle
 * both rely on: ids, topological order, partitioning of keyed operators, function references that
 * resolve in the registry, window parameters, sinks and their topics.
 */
import type { FnKind, Registry } from "./registry.ts";
import type { Edge, FnRef, Inputs, Plan, PlanNode } from "./plan.ts";
import { KEYED_KINDS } from "./plan.ts";

/** Highest parallelism a plan node may declare. */
export const MAX_PARALLELISM = 128;

const NODE_KINDS: ReadonlySet<string> = new Set(["source", "map", "filter", "flatMap", "reduce", "process", "window", "sink"]);
const REDUCE_AGGS: ReadonlySet<string> = new Set(["sum", "min", "max", "count"]);

const label = (n: PlanNode): string => `node "${n.id}" (${n.kind})`;
const isFnRef = (v: unknown): v is FnRef =>
  typeof v === "object" && v !== null && typeof (v as { fn?: unknown }).fn === "string";

/**
 * Checks a plan against the structural rules and the registry. Returns the first problem found, as
 * one sentence naming the node, the field and the fix; undefined when the plan is valid.
 */
export function validatePlan(plan: Plan, registry: Registry): string | undefined {
  if (!Array.isArray(plan.nodes) || plan.nodes.length === 0)
    return "plan.nodes is empty; a plan needs at least one source and one sink";

  // Ids: non-empty and unique.
  const position = new Map<string, number>();
  for (let i = 0; i < plan.nodes.length; i++) {
    const n = plan.nodes[i] as PlanNode;
    if (typeof n.id !== "string" || n.id.length === 0)
      return `plan.nodes[${i}].id must be a non-empty string; give every node an id`;
    if (position.has(n.id))
      return `plan.nodes[${i}].id "${n.id}" is already used by plan.nodes[${position.get(n.id)}]; node ids must be unique`;
    position.set(n.id, i);
  }

  for (let i = 0; i < plan.nodes.length; i++) {
    const problem = validateNode(plan, i, position, registry);
    if (problem !== undefined) return problem;
  }

  // Sinks and topics.
  const sourceTopics = new Map<string, string>();
  for (const n of plan.nodes) if (n.kind === "source") sourceTopics.set(n.topic, n.id);
  const sinkTopics = new Map<string, string>();
  for (const n of plan.nodes) {
    if (n.kind !== "sink") continue;
    const reader = sourceTopics.get(n.topic);
    if (reader !== undefined)
      return `${label(n)}: topic "${n.topic}" is read by source "${reader}"; a sink must write a topic no source reads`;
    const other = sinkTopics.get(n.topic);
    if (other !== undefined)
      return `${label(n)}: topic "${n.topic}" is already written by sink "${other}"; give each sink its own topic`;
    sinkTopics.set(n.topic, n.id);
  }

  // Consumers: every node but a sink feeds something; nothing reads from a sink.
  const consumed = new Set<string>();
  for (const n of plan.nodes) for (const e of n.inputs) consumed.add(e.from);
  for (const n of plan.nodes) {
    if (n.kind === "sink" && consumed.has(n.id))
      return `${label(n)} is used as an input; a sink ends a pipeline, read its topic with a source instead`;
    if (n.kind !== "sink" && !consumed.has(n.id))
      return `${label(n)} has no consumer; connect it to a downstream operator or a sink, or remove it`;
  }
  return undefined;
}

function validateNode(plan: Plan, index: number, position: ReadonlyMap<string, number>, registry: Registry): string | undefined {
  const n = plan.nodes[index] as PlanNode;
  if (!NODE_KINDS.has(n.kind))
    return `node "${n.id}".kind must be one of ${[...NODE_KINDS].join(", ")}, got ${JSON.stringify(n.kind)}`;
  const at = label(n);

  if (!Number.isInteger(n.parallelism) || n.parallelism < 1 || n.parallelism > MAX_PARALLELISM)
    return `${at}: parallelism must be an integer from 1 to ${MAX_PARALLELISM}, got ${n.parallelism}`;
  if (n.costMsPerRecord !== undefined && !(Number.isFinite(n.costMsPerRecord) && n.costMsPerRecord >= 0))
    return `${at}: costMsPerRecord must be a finite number >= 0 (or omitted for the job default), got ${n.costMsPerRecord}`;
  if (!Array.isArray(n.inputs)) return `${at}: inputs must be an array of edges`;

  if (n.kind === "source") {
    if (n.inputs.length > 0) return `${at}: a source reads a topic and must have no inputs, got ${n.inputs.length}`;
    if (typeof n.topic !== "string" || n.topic.length === 0) return `${at}: topic must be a non-empty topic name`;
    if (n.watermark !== undefined) {
      const ooo = n.watermark.outOfOrdernessMs;
      if (!(Number.isFinite(ooo) && ooo >= 0))
        return `${at}: watermark.outOfOrdernessMs must be a finite number >= 0, got ${ooo}`;
    }
    return undefined;
  }
  if (n.inputs.length === 0) return `${at}: inputs is empty; every operator and sink needs at least one input edge`;

  for (let k = 0; k < n.inputs.length; k++) {
    const problem = validateEdge(plan, n, k, index, position, registry);
    if (problem !== undefined) return problem;
  }

  switch (n.kind) {
    case "map":
    case "filter":
    case "flatMap":
      return checkRef(registry, at, "fn", n.fn, n.kind);
    case "process":
      return checkRef(registry, at, "fn", n.fn, "process");
    case "reduce": {
      const hasAgg = n.agg !== undefined;
      const hasFn = n.fn !== undefined;
      if (hasAgg === hasFn)
        return `${at}: set exactly one of agg (sum, min, max, count) and fn (a registry reduce function), got ${hasAgg ? "both" : "neither"}`;
      if (hasAgg && !REDUCE_AGGS.has(n.agg as string))
        return `${at}: agg must be one of sum, min, max, count, got ${JSON.stringify(n.agg)}`;
      if (n.field !== undefined && (typeof n.field !== "string" || n.field.length === 0))
        return `${at}: field must be a non-empty field name (or omitted), got ${JSON.stringify(n.field)}`;
      return hasFn ? checkRef(registry, at, "fn", n.fn, "reduce") : undefined;
    }
    case "window": {
      const a = n.assigner;
      if (!(Number.isFinite(a.sizeMs) && a.sizeMs > 0)) return `${at}: assigner.sizeMs must be > 0, got ${a.sizeMs}`;
      if (a.kind === "sliding") {
        if (!(Number.isFinite(a.slideMs) && a.slideMs > 0)) return `${at}: assigner.slideMs must be > 0, got ${a.slideMs}`;
        if (a.slideMs > a.sizeMs)
          return `${at}: assigner.slideMs must be <= sizeMs (${a.sizeMs}), got ${a.slideMs}; a slide longer than the window drops records`;
      } else if (a.kind !== "tumbling") {
        return `${at}: assigner.kind must be "tumbling" or "sliding", got ${JSON.stringify((a as { kind: unknown }).kind)}`;
      }
      return checkRef(registry, at, "aggregate", n.aggregate, "aggregate");
    }
    case "sink":
      if (typeof n.topic !== "string" || n.topic.length === 0) return `${at}: topic must be a non-empty topic name`;
      if (n.sink !== "twoPhaseCommit" && n.sink !== "upsert" && n.sink !== "plain")
        return `${at}: sink must be one of twoPhaseCommit, upsert, plain, got ${JSON.stringify(n.sink)}`;
      if (n.sink === "upsert") {
        if (n.upsertKey === undefined) return `${at}: an upsert sink needs upsertKey, the key selector of its table`;
        return checkRef(registry, at, "upsertKey", n.upsertKey, "key");
      }
      return undefined;
  }
}

function validateEdge(
  plan: Plan,
  n: PlanNode,
  k: number,
  index: number,
  position: ReadonlyMap<string, number>,
  registry: Registry,
): string | undefined {
  const at = label(n);
  const e = n.inputs[k] as Edge;
  const field = `inputs[${k}]`;
  const from = position.get(e.from);
  if (from === undefined) return `${at}: ${field}.from names no node ("${e.from}"); point it at a node of the plan`;
  if (from >= index)
    return `${at}: ${field}.from "${e.from}" is not an earlier node; list nodes in topological order (inputs before consumers)`;
  const upstream = plan.nodes[from] as PlanNode;
  if (e.partition !== "forward" && e.partition !== "rebalance" && e.partition !== "hash" && e.partition !== "broadcast")
    return `${at}: ${field}.partition must be forward, rebalance, hash or broadcast, got ${JSON.stringify(e.partition)}`;
  if (e.partition === "hash") {
    if (e.key === undefined) return `${at}: ${field} is a hash edge without a key; set key to a key selector (keyBy)`;
    const bad = checkRef(registry, at, `${field}.key`, e.key, "key");
    if (bad !== undefined) return bad;
  } else if (e.key !== undefined) {
    return `${at}: ${field} is a ${e.partition} edge with a key; only hash edges carry a key, make it a hash edge or drop the key`;
  }
  if (KEYED_KINDS.has(n.kind) && e.partition !== "hash")
    return `${at}: ${field} is a ${e.partition} edge; a keyed ${n.kind} needs hash inputs (keyBy before it)`;
  if (e.partition === "forward" && upstream.parallelism !== n.parallelism)
    return `${at}: ${field} is a forward edge from "${e.from}" (parallelism ${upstream.parallelism}) to parallelism ${n.parallelism}; forward needs equal parallelism, use rebalance or equal parallelism`;
  return undefined;
}

function checkRef(registry: Registry, at: string, field: string, ref: unknown, kind: FnKind): string | undefined {
  if (!isFnRef(ref)) return `${at}: ${field} must be a function reference { fn, args? } naming a registered ${kind} function`;
  if (!registry.has(kind, ref.fn)) {
    const known = registry.names(kind);
    return `${at}: ${field} names no registered ${kind} function ("${ref.fn}"); register it or use one of ${known.join(", ") || "(none)"}`;
  }
  return undefined;
}

/**
 * Checks a job's input against its plan: every topic a source reads is present with at least one
 * partition, topics appear once, and every timestamp is a finite integer >= 0.
 */
export function validateInputs(inputs: Inputs, plan: Plan): string | undefined {
  if (!Array.isArray(inputs)) return "inputs must be an array of { topic, partitions }";
  const seen = new Map<string, number>();
  for (let t = 0; t < inputs.length; t++) {
    const topic = inputs[t] as Inputs[number];
    if (typeof topic.topic !== "string" || topic.topic.length === 0) return `inputs[${t}].topic must be a non-empty topic name`;
    if (seen.has(topic.topic))
      return `inputs[${t}].topic "${topic.topic}" already appears at inputs[${seen.get(topic.topic)}]; list each topic once`;
    seen.set(topic.topic, t);
    if (!Array.isArray(topic.partitions) || topic.partitions.length === 0)
      return `inputs[${t}].partitions (topic "${topic.topic}") must list at least one partition`;
    for (let p = 0; p < topic.partitions.length; p++) {
      const records = topic.partitions[p];
      if (!Array.isArray(records)) return `inputs[${t}].partitions[${p}] (topic "${topic.topic}") must be an array of records`;
      for (let r = 0; r < records.length; r++) {
        const ts = (records[r] as Inputs[number]["partitions"][number][number]).ts;
        if (!(Number.isInteger(ts) && ts >= 0))
          return `inputs[${t}].partitions[${p}][${r}].ts (topic "${topic.topic}") must be a finite integer >= 0, got ${ts}`;
      }
    }
  }
  for (const n of plan.nodes) {
    if (n.kind === "source" && !seen.has(n.topic))
      return `inputs has no topic "${n.topic}" read by source "${n.id}"; add it with at least one partition`;
  }
  return undefined;
}
