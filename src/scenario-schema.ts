/**
 * Scenario files: the zod schema, the one-line error messages, and the stable serialisation.
 *
 * A scenario file is data. `parseScenario` checks its shape with a zod schema that mirrors the
 * Scenario type exactly (unknown fields are errors, so a typo never silently falls back to a
 * default), fills omitted configuration fields from Flink's defaults (defaultJobConfig,
 * defaultCheckpointConfig, defaultClusterConfig), then runs the engine's semantic validators. Every
 * problem comes back as ONE line naming the file, the field path and what was expected:
 *
 *   scenarios/x.json: config.checkpoint.timeoutMs must be at least 10, got -5
 *   scenarios/x.json: plan.nodes[2].kind must be one of source, map, ..., got "mapp"
 *   scenarios/x.json: invalid JSON at line 3 column 5: expected ',' or '}' after a property value
 *
 * Operator functions are referred to by registry name (`{ "fn": "affine", "args": {...} }`) and
 * checked against the registry; nothing in a file is ever evaluated.
 */
import { z } from "zod";
import type { CheckpointingMode, ClusterConfigData, JobConfigData, RestartStrategyData } from "./engine/config.ts";
import {
  defaultCheckpointConfig,
  defaultClusterConfig,
  defaultJobConfig,
  validateClusterConfig,
  validateJobConfig,
} from "./engine/config.ts";
import type { NodeKind, Partitioning, ReduceAgg, SinkKind } from "./engine/plan/plan.ts";
import { builtins } from "./engine/plan/registry.ts";
import type { Registry } from "./engine/plan/registry.ts";
import { validateInputs, validatePlan } from "./engine/plan/validate.ts";
import { validateFaultPlan } from "./faults/injector.ts";
import type { FaultKind, TriggerKind } from "./faults/plan.ts";
import type { CheckName, Scenario } from "./scenario.ts";

// ---- enumerations (a Record per union: the compiler checks each list is complete) -----------

const keysOf = <K extends string>(r: Record<K, true>): [K, ...K[]] => Object.keys(r) as [K, ...K[]];

export const NODE_KINDS = keysOf<NodeKind>({
  source: true,
  map: true,
  filter: true,
  flatMap: true,
  reduce: true,
  process: true,
  window: true,
  sink: true,
});
const PARTITIONINGS = keysOf<Partitioning>({ forward: true, rebalance: true, hash: true, broadcast: true });
const REDUCE_AGGS = keysOf<ReduceAgg>({ sum: true, min: true, max: true, count: true });
const SINK_KINDS = keysOf<SinkKind>({ twoPhaseCommit: true, upsert: true, plain: true });
const MODES = keysOf<CheckpointingMode>({ EXACTLY_ONCE: true, AT_LEAST_ONCE: true });
const TRIGGERS = keysOf<TriggerKind>({
  "checkpoint-triggered": true,
  "checkpoint-completed": true,
  "alignment-started": true,
  "txn-opened": true,
  restore: true,
  "job-running": true,
});
type RpcKind = Extract<Scenario["faults"]["faults"][number], { readonly fault: "dropRpc" }>["rpc"];
const RPCS = keysOf<RpcKind>({ notifyCheckpointComplete: true, acknowledgeCheckpoint: true, triggerCheckpoint: true, heartbeat: true });
export const CHECK_NAMES = keysOf<CheckName>({
  exactlyOnce: true,
  noLoss: true,
  state: true,
  checkpointInvariants: true,
  noOpenTransactions: true,
  liveness: true,
  determinism: true,
});
/** Exhaustiveness only: the fault kinds the schema below knows. */
const _FAULT_KINDS = keysOf<FaultKind>({
  crash: true,
  failTask: true,
  partition: true,
  clog: true,
  slowDisk: true,
  diskFailures: true,
  slowOperator: true,
  dropRpc: true,
  slowBroker: true,
});

// ---- schema -------------------------------------------------------------------------------

/** Closest known field to a misspelt one (case-insensitive match, or edit distance <= 2). */
function suggest(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  const exact = known.find((k) => k.toLowerCase() === lower);
  if (exact !== undefined) return exact;
  let best: string | undefined;
  let bestDistance = 3;
  for (const k of known) {
    const d = editDistance(lower, k.toLowerCase());
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2 || a.length > 64 || b.length > 64) return 99;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur.push(Math.min((prev[j] as number) + 1, (cur[j - 1] as number) + 1, (prev[j - 1] as number) + cost));
    }
    prev = cur;
  }
  return prev[b.length] as number;
}

/**
 * A strict object: an unknown field is an error whose message (the part after the field path)
 * names the closest known field and lists the known ones.
 */
function obj<S extends z.ZodRawShape>(shape: S) {
  const known = Object.keys(shape);
  return z.strictObject(shape, {
    error: (issue) => {
      if (issue.code !== "unrecognized_keys") return undefined;
      const key = issue.keys[0] ?? "";
      const near = suggest(key, known);
      return `is not a known field${near === undefined ? "" : ` (did you mean ${near}?)`}; known fields: ${known.join(", ")}`;
    },
  });
}

const num = z.number();
const str = z.string();
const json = z.json();

const fnRef = obj({ fn: str, args: z.record(z.string(), json).optional() });
const edge = obj({ from: str, partition: z.enum(PARTITIONINGS), key: fnRef.optional() });
const nodeBase = {
  id: str,
  name: str.optional(),
  parallelism: num,
  inputs: z.array(edge),
  costMsPerRecord: num.optional(),
};
const assigner = z.discriminatedUnion("kind", [
  obj({ kind: z.literal("tumbling"), sizeMs: num }),
  obj({ kind: z.literal("sliding"), sizeMs: num, slideMs: num }),
]);
const planNode = z.discriminatedUnion("kind", [
  obj({ ...nodeBase, kind: z.literal("source"), topic: str, watermark: obj({ outOfOrdernessMs: num }).optional() }),
  obj({ ...nodeBase, kind: z.literal("map"), fn: fnRef }),
  obj({ ...nodeBase, kind: z.literal("filter"), fn: fnRef }),
  obj({ ...nodeBase, kind: z.literal("flatMap"), fn: fnRef }),
  obj({ ...nodeBase, kind: z.literal("reduce"), agg: z.enum(REDUCE_AGGS).optional(), field: str.optional(), fn: fnRef.optional() }),
  obj({ ...nodeBase, kind: z.literal("process"), fn: fnRef }),
  obj({ ...nodeBase, kind: z.literal("window"), assigner, aggregate: fnRef }),
  obj({ ...nodeBase, kind: z.literal("sink"), sink: z.enum(SINK_KINDS), topic: str, upsertKey: fnRef.optional() }),
]);
const plan = obj({ nodes: z.array(planNode) });

const inputRecord = obj({ value: json, ts: num });
const inputs = z.array(obj({ topic: str, partitions: z.array(z.array(inputRecord)) }));

const cp = defaultCheckpointConfig;
const checkpointConfig = obj({
  intervalMs: num.default(cp.intervalMs),
  mode: z.enum(MODES).default(cp.mode),
  timeoutMs: num.default(cp.timeoutMs),
  minPauseMs: num.default(cp.minPauseMs),
  maxConcurrent: num.default(cp.maxConcurrent),
  tolerableFailures: num.default(cp.tolerableFailures),
  retained: num.default(cp.retained),
  unaligned: z.boolean().default(cp.unaligned),
});
const restart = z.discriminatedUnion("kind", [
  obj({ kind: z.literal("none") }),
  obj({ kind: z.literal("fixedDelay"), attempts: num, delayMs: num }),
  obj({ kind: z.literal("failureRate"), maxFailuresPerInterval: num, intervalMs: num, delayMs: num }),
  obj({
    kind: z.literal("exponentialDelay"),
    initialBackoffMs: num,
    maxBackoffMs: num,
    multiplier: num,
    resetThresholdMs: num,
    jitterFactor: num,
  }),
]);
const job = defaultJobConfig;
const jobConfig = obj({
  checkpoint: checkpointConfig.prefault({}),
  restart: restart.optional(),
  costMsPerRecord: num.default(job.costMsPerRecord),
  bufferRecords: num.default(job.bufferRecords),
  bufferTimeoutMs: num.default(job.bufferTimeoutMs),
  channelCredits: num.default(job.channelCredits),
  sourceFetchRecords: num.default(job.sourceFetchRecords),
  autoWatermarkIntervalMs: num.default(job.autoWatermarkIntervalMs),
  sourcePacing: z.enum(["none", "eventTime"]).optional(),
});
const cl = defaultClusterConfig;
const clusterConfig = obj({
  taskManagers: num.default(cl.taskManagers),
  slotsPerTaskManager: num.default(cl.slotsPerTaskManager),
  heartbeatIntervalMs: num.default(cl.heartbeatIntervalMs),
  heartbeatTimeoutMs: num.default(cl.heartbeatTimeoutMs),
  networkLatencyMsMin: num.default(cl.networkLatencyMsMin),
  networkLatencyMsMax: num.default(cl.networkLatencyMsMax),
  storageLatencyMsMin: num.default(cl.storageLatencyMsMin),
  storageLatencyMsMax: num.default(cl.storageLatencyMsMax),
  maxTimeMs: num.default(cl.maxTimeMs),
  maxEvents: num.default(cl.maxEvents),
});

const moment = z.union([num, obj({ after: z.enum(TRIGGERS), nth: num.optional(), delayMs: num.optional() })], {
  error: () => `a time in ms or a trigger { "after": ${TRIGGERS.join(" | ")}, "nth"?, "delayMs"? }`,
});
const fault = z.discriminatedUnion("fault", [
  obj({ fault: z.literal("crash"), at: moment, node: str, restartAfterMs: num.optional() }),
  obj({ fault: z.literal("failTask"), at: moment, vertex: str, subtask: num }),
  obj({ fault: z.literal("partition"), at: moment, a: z.array(str), b: z.array(str), oneWay: z.boolean().optional(), durationMs: num }),
  obj({ fault: z.literal("clog"), at: moment, from: str, to: str, bidirectional: z.boolean().optional(), durationMs: num }),
  obj({ fault: z.literal("slowDisk"), at: moment, node: str.optional(), factor: num, durationMs: num }),
  obj({ fault: z.literal("diskFailures"), at: moment, node: str.optional(), writeFailureProbability: num, durationMs: num }),
  obj({ fault: z.literal("slowOperator"), at: moment, vertex: str, factor: num, durationMs: num }),
  obj({ fault: z.literal("dropRpc"), at: moment, rpc: z.enum(RPCS), durationMs: num }),
  obj({ fault: z.literal("slowBroker"), at: moment, factor: num, durationMs: num }),
]);
const faultPlan = obj({
  faults: z.array(fault).default([]),
  chaos: obj({
    rpcLossProbability: num.optional(),
    storageWriteFailureProbability: num.optional(),
    buggify: z.boolean().optional(),
  }).optional(),
});

const expectation = obj({
  verdict: z.enum(["pass", "fail"]),
  checks: z.array(z.enum(CHECK_NAMES)).optional(),
  failingCheck: z.enum(CHECK_NAMES).optional(),
  jobStatus: z.enum(["FINISHED", "FAILED"]).optional(),
  traceHash: str.optional(),
});

/** The scenario file schema; its output is a Scenario with every configuration default filled in. */
export const scenarioSchema = obj({
  name: str.min(1),
  description: str.optional(),
  seed: z.int(),
  plan,
  inputs,
  config: jobConfig.prefault({}),
  cluster: clusterConfig.prefault({}),
  faults: faultPlan.prefault({}),
  expect: expectation.optional(),
});

// Compile-time: the schema's output is a Scenario (the other direction is checked by the tests'
// round trip of generated scenarios).
const _isScenario = (s: z.output<typeof scenarioSchema>): Scenario => s;
const _isJobConfig = (c: z.output<typeof jobConfig>): JobConfigData => c;
const _isCluster = (c: z.output<typeof clusterConfig>): ClusterConfigData => c;
const _isRestart = (r: z.output<typeof restart>): RestartStrategyData => r;
void [_isScenario, _isJobConfig, _isCluster, _isRestart, _FAULT_KINDS];

// ---- one-line messages from zod issues ----------------------------------------------------

type Path = ReadonlyArray<PropertyKey>;

/** `config.checkpoint.timeoutMs`, `plan.nodes[2].kind`. */
export function formatPath(path: Path): string {
  let out = "";
  for (const p of path) {
    if (typeof p === "number") out += `[${p}]`;
    else {
      const s = String(p);
      out += /^[A-Za-z_$][\w$]*$/.test(s) ? (out === "" ? s : `.${s}`) : `[${JSON.stringify(s)}]`;
    }
  }
  return out;
}

function valueAt(root: unknown, path: Path): unknown {
  let v: unknown = root;
  for (const p of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

/** A short, one-line rendering of a value for "got ..." (strings quoted, containers by kind). */
export function showValue(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (Array.isArray(v)) return v.length === 0 ? "an empty array" : `an array (${v.length} ${v.length === 1 ? "item" : "items"})`;
  if (typeof v === "object") return "an object";
  if (typeof v === "string") {
    const s = JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
    return s;
  }
  return String(v);
}

const ARTICLE: Record<string, string> = {
  number: "a number",
  int: "an integer",
  string: "a string",
  boolean: "a boolean",
  object: "an object",
  array: "an array",
  record: "an object",
  null: "null",
};

type Issue = z.core.$ZodIssue;

/**
 * One sentence for a zod issue: field path, what was expected, what was found (looked up in
 * `root`, the parsed input). `rootName` names the whole input; `base` prefixes the path (issues of
 * union branches).
 */
export function formatIssue(issue: Issue, root: unknown, rootName = "the scenario", base: Path = []): string {
  const path = [...base, ...issue.path];
  const at = path.length === 0 ? rootName : formatPath(path);
  const value = valueAt(root, path);
  const got = showValue(value);
  switch (issue.code) {
    case "invalid_type": {
      const expected = ARTICLE[issue.expected] ?? issue.expected;
      if (issue.expected === "int" && typeof value === "number") return `${at} must be an integer, got ${got}`;
      return value === undefined ? `${at} is missing; expected ${expected}` : `${at} must be ${expected}, got ${got}`;
    }
    case "invalid_value": {
      const values = issue.values.map((v) => (typeof v === "string" ? v : JSON.stringify(v)));
      const what = values.length === 1 ? `"${values[0]}"` : `one of ${values.join(", ")}`;
      return value === undefined ? `${at} is missing; expected ${what}` : `${at} must be ${what}, got ${got}`;
    }
    case "invalid_union": {
      if (issue.discriminator !== undefined) {
        const options = ("options" in issue ? (issue.options ?? []) : []).map((o) => String(o));
        return value === undefined
          ? `${at} is missing; expected one of ${options.join(", ")}`
          : `${at} must be one of ${options.join(", ")}, got ${got}`;
      }
      // A plain union (a fault's moment): if exactly one branch has the right type, its problem is the one.
      const matching = issue.errors.filter((branch) => !branch.some((i) => i.path.length === 0 && i.code === "invalid_type"));
      const first = matching.length === 1 ? matching[0]?.[0] : undefined;
      if (first !== undefined) return formatIssue(first, root, rootName, path);
      const what = issue.message !== "Invalid input" ? issue.message : "another type";
      return value === undefined ? `${at} is missing; expected ${what}` : `${at} must be ${what}, got ${got}`;
    }
    case "unrecognized_keys": {
      const key = issue.keys[0] ?? "";
      const more = issue.keys.length > 1 ? ` (and ${issue.keys.length - 1} more unknown)` : "";
      return `${formatPath([...path, key])} ${issue.message}${more}`;
    }
    case "too_small": {
      if (issue.origin === "string" && Number(issue.minimum) === 1) return `${at} must be a non-empty string, got ${got}`;
      if (issue.origin === "array") return `${at} must have at least ${issue.minimum} items, got ${got}`;
      return `${at} must be ${issue.inclusive ? "at least" : "greater than"} ${issue.minimum}, got ${got}`;
    }
    case "too_big": {
      if (issue.origin === "array") return `${at} must have at most ${issue.maximum} items, got ${got}`;
      return `${at} must be ${issue.inclusive ? "at most" : "less than"} ${issue.maximum}, got ${got}`;
    }
    default:
      return `${at}: ${issue.message}`;
  }
}

// ---- JSON syntax errors with a position --------------------------------------------------

/**
 * Finds the first JSON syntax error in `text` (which JSON.parse rejected): its offset and what was
 * expected there. A small scanner, used only on the error path so the message can name a line and
 * a column on every Node version.
 */
export function locateJsonError(text: string): { offset: number; expected: string } {
  let i = 0;
  const n = text.length;
  const ws = (): void => {
    while (i < n && (text[i] === " " || text[i] === "\t" || text[i] === "\n" || text[i] === "\r")) i++;
  };
  class Stop {
    constructor(
      readonly offset: number,
      readonly expected: string,
    ) {}
  }
  const fail = (expected: string): never => {
    throw new Stop(i, expected);
  };
  const str = (): void => {
    i++; // opening quote
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return;
      }
      if (c < 0x20) fail("a closing quote (strings cannot contain raw line breaks or control characters)");
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
            i += 2;
            fail("four hex digits after \\u");
          }
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else {
          i++;
          fail('a valid escape (\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)');
        }
      } else i++;
    }
    fail("a closing quote");
  };
  const numberLit = (): void => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (m === null || m[0] === "" || m[0] === "-") fail("a value (a number, string, object, array, true, false or null)");
    i += (m as RegExpExecArray)[0].length;
  };
  const value = (depth: number): void => {
    if (depth > 10_000) fail("less nesting");
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      ws();
      if (text[i] === "}") {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail(text[i] === "}" ? "a property name after ',' (no trailing commas in JSON)" : "a double-quoted property name");
        str();
        ws();
        if (text[i] !== ":") fail("':' after a property name");
        i++;
        value(depth + 1);
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "}") {
          i++;
          return;
        }
        fail("',' or '}' after a property value");
      }
    }
    if (c === "[") {
      i++;
      ws();
      if (text[i] === "]") {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] === "]") fail("a value after ',' (no trailing commas in JSON)");
        value(depth + 1);
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "]") {
          i++;
          return;
        }
        fail("',' or ']' after an array element");
      }
    }
    if (c === '"') return str();
    for (const lit of ["true", "false", "null"]) {
      if (text.startsWith(lit, i)) {
        i += lit.length;
        return;
      }
    }
    if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) return numberLit();
    fail("a value (a number, string, object, array, true, false or null)");
  };
  try {
    if (text.charCodeAt(0) === 0xfeff) i = 1;
    value(0);
    ws();
    if (i < n) fail("the end of the file after the top-level value");
  } catch (e) {
    if (e instanceof Stop) return { offset: e.offset, expected: e.expected };
    throw e;
  }
  return { offset: n, expected: "valid JSON" };
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(offset, text.length);
  for (let k = 0; k < end; k++) {
    if (text.charCodeAt(k) === 10) {
      line++;
      lineStart = k + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}

/** "invalid JSON at line 3 column 5: expected ..., found ..." for text JSON.parse rejected. */
export function describeJsonError(text: string): string {
  if (text.trim() === "") return "invalid JSON: the file is empty";
  const { offset, expected } = locateJsonError(text);
  const { line, column } = lineColumn(text, offset);
  const c = text[offset];
  const found = c === undefined ? "the end of the file" : JSON.stringify(c);
  return `invalid JSON at line ${line} column ${column}: expected ${expected}, found ${found}`;
}

// ---- parse --------------------------------------------------------------------------------

export type ParseScenarioResult = { readonly ok: true; readonly scenario: Scenario } | { readonly ok: false; readonly error: string };

/** Cluster node ids for a number of TaskManagers, as the engine names them. */
function clusterNodeIds(taskManagers: number): string[] {
  return ["jm", ...Array.from({ length: Math.min(taskManagers, 10_000) }, (_, i) => `tm-${i}`), "broker", "storage"];
}

/** validateFaultPlan names fields relative to the plan (`faults[0]`, `chaos.x`); in a file they sit under `faults`. */
function faultField(message: string): string {
  if (message.startsWith("faults[")) return `faults.${message}`;
  if (message.startsWith("chaos")) return `faults.${message}`;
  return message;
}

/** The semantic checks after the shape is right; undefined when the scenario is valid. */
export function validateScenarioData(s: Scenario, registry: Registry = builtins): string | undefined {
  const planProblem = validatePlan(s.plan, registry);
  if (planProblem !== undefined) return planProblem.startsWith("plan") ? planProblem : `plan: ${planProblem}`;
  const problem = validateInputs(s.inputs, s.plan) ?? validateJobConfig(s.config) ?? validateClusterConfig(s.cluster);
  if (problem !== undefined) return problem;
  const slots = s.cluster.taskManagers * s.cluster.slotsPerTaskManager;
  const needed = Math.max(...s.plan.nodes.map((n) => n.parallelism));
  if (slots < needed)
    return `cluster has ${slots} ${slots === 1 ? "slot" : "slots"} (taskManagers x slotsPerTaskManager) but the plan needs ${needed}; raise cluster.taskManagers or cluster.slotsPerTaskManager`;
  const vertices = s.plan.nodes.map((n) => ({ id: n.id, parallelism: n.parallelism }));
  const faultProblem = validateFaultPlan(s.faults, clusterNodeIds(s.cluster.taskManagers), vertices);
  if (faultProblem !== undefined) return faultField(faultProblem);
  const e = s.expect;
  if (e?.failingCheck !== undefined && e.verdict !== "fail")
    return `expect.failingCheck (${e.failingCheck}) needs expect.verdict "fail", got "${e.verdict}"`;
  if (e?.failingCheck !== undefined && e.checks !== undefined && !e.checks.includes(e.failingCheck))
    return `expect.failingCheck (${e.failingCheck}) must be one of expect.checks (${e.checks.join(", ")})`;
  return undefined;
}

const oneLine = (s: string): string => s.replace(/[\r\n]+/g, " ");

/**
 * Parses a scenario file's text. On success the scenario has every omitted configuration field
 * filled with its default; on failure `error` is one line: `<fileLabel>: <field> <problem>`.
 */
export function parseScenario(text: string, fileLabel: string, registry: Registry = builtins): ParseScenarioResult {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, error: oneLine(`${fileLabel}: ${describeJsonError(text)}`) };
  }
  const parsed = scenarioSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const message = issue === undefined ? "is not a valid scenario" : formatIssue(issue, raw);
    return { ok: false, error: oneLine(`${fileLabel}: ${message}`) };
  }
  const scenario: Scenario = parsed.data;
  const problem = validateScenarioData(scenario, registry);
  if (problem !== undefined) return { ok: false, error: oneLine(`${fileLabel}: ${problem}`) };
  return { ok: true, scenario };
}

// ---- serialize ----------------------------------------------------------------------------

/** Field order per object type; children name the type of a field's value (arrays: of their elements). */
type Shape = { readonly order: readonly string[]; readonly children?: { readonly [k: string]: Shape } };

const FN_REF: Shape = { order: ["fn", "args"] };
const SHAPES = ((): Shape => {
  const edge: Shape = { order: ["from", "partition", "key"], children: { key: FN_REF } };
  const node: Shape = {
    order: ["id", "kind", "name", "parallelism", "topic", "sink", "inputs", "fn", "agg", "field", "assigner", "aggregate", "upsertKey", "watermark", "costMsPerRecord"],
    children: {
      inputs: edge,
      fn: FN_REF,
      aggregate: FN_REF,
      upsertKey: FN_REF,
      assigner: { order: ["kind", "sizeMs", "slideMs"] },
      watermark: { order: ["outOfOrdernessMs"] },
    },
  };
  const moment: Shape = { order: ["after", "nth", "delayMs"] };
  const fault: Shape = {
    order: ["fault", "at", "node", "vertex", "subtask", "a", "b", "oneWay", "from", "to", "bidirectional", "rpc", "factor", "writeFailureProbability", "restartAfterMs", "durationMs"],
    children: { at: moment },
  };
  return {
    order: ["name", "description", "seed", "expect", "plan", "inputs", "config", "cluster", "faults"],
    children: {
      expect: { order: ["verdict", "failingCheck", "jobStatus", "checks", "traceHash"] },
      plan: { order: ["nodes"], children: { nodes: node } },
      inputs: { order: ["topic", "partitions"], children: { partitions: { order: ["value", "ts"] } } },
      config: {
        order: ["checkpoint", "restart", "costMsPerRecord", "bufferRecords", "bufferTimeoutMs", "channelCredits", "sourceFetchRecords", "autoWatermarkIntervalMs", "sourcePacing"],
        children: {
          checkpoint: { order: ["intervalMs", "mode", "timeoutMs", "minPauseMs", "maxConcurrent", "tolerableFailures", "retained", "unaligned"] },
          restart: {
            order: ["kind", "attempts", "maxFailuresPerInterval", "intervalMs", "delayMs", "initialBackoffMs", "maxBackoffMs", "multiplier", "resetThresholdMs", "jitterFactor"],
          },
        },
      },
      cluster: { order: Object.keys(defaultClusterConfig) },
      faults: {
        order: ["faults", "chaos"],
        children: { faults: fault, chaos: { order: ["rpcLossProbability", "storageWriteFailureProbability", "buggify"] } },
      },
    },
  };
})();

/** A copy with keys in the shape's order (unknown keys after, sorted); JSON payloads fully sorted. */
function ordered(v: unknown, shape: Shape | undefined, depth: number): unknown {
  if (depth > 200) throw new RangeError("serializeScenario: value nested deeper than 200 levels");
  if (Array.isArray(v)) return v.map((x) => ordered(x, shape, depth + 1));
  if (v === null || typeof v !== "object") return v;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).filter((k) => o[k] !== undefined);
  const rank = (k: string): number => {
    const r = shape?.order.indexOf(k) ?? -1;
    return r < 0 ? Number.MAX_SAFE_INTEGER : r;
  };
  keys.sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
  const out: Record<string, unknown> = {};
  for (const k of keys) out[k] = ordered(o[k], shape?.children?.[k], depth + 1);
  return out;
}

/**
 * JSON with 2-space indentation; arrays and objects that fit on their line (within `width` columns,
 * counting the `lead` characters before them on it) stay on one line.
 */
function pretty(v: unknown, indent: string, lead: number, width: number): string {
  const flat = flatJson(v);
  if (lead + flat.length <= width || v === null || typeof v !== "object") return flat;
  const inner = indent + "  ";
  if (Array.isArray(v)) {
    if (v.length === 0) return "[]";
    return "[\n" + v.map((x) => inner + pretty(x, inner, inner.length, width)).join(",\n") + "\n" + indent + "]";
  }
  const entries = Object.entries(v as Record<string, unknown>);
  if (entries.length === 0) return "{}";
  const lines = entries.map(([k, x]) => {
    const key = `${inner}${JSON.stringify(k)}: `;
    return key + pretty(x, inner, key.length, width);
  });
  return "{\n" + lines.join(",\n") + "\n" + indent + "}";
}

function flatJson(v: unknown): string {
  if (v === null || typeof v !== "object") return JSON.stringify(v) ?? "null";
  if (Array.isArray(v)) return "[" + v.map(flatJson).join(", ") + "]";
  const entries = Object.entries(v as Record<string, unknown>);
  if (entries.length === 0) return "{}";
  return "{ " + entries.map(([k, x]) => `${JSON.stringify(k)}: ${flatJson(x)}`).join(", ") + " }";
}

/**
 * A scenario as a file: stable key order (the order of the Scenario type, then anything unknown
 * sorted; JSON payloads sorted), 2-space indentation, short arrays and objects on one line, and a
 * final newline. `parseScenario(serializeScenario(s))` gives `s` back.
 */
export function serializeScenario(s: Scenario): string {
  return pretty(ordered(s, SHAPES, 0), "", 0, 100) + "\n";
}
