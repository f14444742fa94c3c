import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { defaultCheckpointConfig, defaultClusterConfig, defaultJobConfig } from "./engine/config.ts";
import { scenarioArb } from "./gen/scenario.ts";
import type { Scenario } from "./scenario.ts";
import { locateJsonError, parseScenario, serializeScenario } from "./scenario-schema.ts";

const FILE = "scenarios/x.json";

/** A scenario using every node kind, every fault kind, a restart strategy and an expectation. */
function fullScenario(): Record<string, unknown> {
  const hash = (from: string) => ({ from, partition: "hash", key: { fn: "field", args: { field: "key" } } });
  return {
    name: "every-kind",
    description: "uses every node and fault kind",
    seed: 7,
    expect: { verdict: "fail", failingCheck: "exactlyOnce", checks: ["exactlyOnce", "noLoss"], jobStatus: "FINISHED", traceHash: "0123456789abcdef" },
    plan: {
      nodes: [
        { id: "src", kind: "source", parallelism: 2, inputs: [], topic: "in", watermark: { outOfOrdernessMs: 5 } },
        { id: "m", kind: "map", name: "Affine", parallelism: 2, inputs: [{ from: "src", partition: "forward" }], fn: { fn: "affine", args: { a: 3, b: 1 } } },
        { id: "f", kind: "filter", parallelism: 2, inputs: [{ from: "m", partition: "rebalance" }], fn: { fn: "all" } },
        { id: "fm", kind: "flatMap", parallelism: 2, inputs: [{ from: "f", partition: "forward" }], fn: { fn: "explode" }, costMsPerRecord: 0.5 },
        { id: "r", kind: "reduce", parallelism: 2, inputs: [hash("fm")], agg: "sum", field: "value" },
        { id: "p", kind: "process", parallelism: 2, inputs: [hash("r")], fn: { fn: "runningCount" } },
        { id: "w", kind: "window", parallelism: 2, inputs: [hash("p")], assigner: { kind: "sliding", sizeMs: 100, slideMs: 50 }, aggregate: { fn: "sum" } },
        { id: "out", kind: "sink", parallelism: 2, inputs: [{ from: "w", partition: "forward" }], sink: "twoPhaseCommit", topic: "out" },
        { id: "up", kind: "sink", parallelism: 1, inputs: [{ from: "r", partition: "rebalance" }], sink: "upsert", topic: "table", upsertKey: { fn: "field", args: { field: "key" } } },
      ],
    },
    inputs: [{ topic: "in", partitions: [[{ value: { key: "a", value: 1 }, ts: 0 }], [{ value: { key: "b", value: 2 }, ts: 3 }]] }],
    config: {
      checkpoint: { intervalMs: 1000, mode: "EXACTLY_ONCE", timeoutMs: 60_000, minPauseMs: 500, maxConcurrent: 1, tolerableFailures: 2, retained: 2, unaligned: false },
      restart: { kind: "fixedDelay", attempts: 3, delayMs: 100 },
      costMsPerRecord: 0.02,
      bufferRecords: 16,
      bufferTimeoutMs: 2,
      channelCredits: 2,
      sourceFetchRecords: 32,
      autoWatermarkIntervalMs: 50,
    },
    cluster: { ...defaultClusterConfig, taskManagers: 3 },
    faults: {
      faults: [
        { fault: "crash", at: 1200, node: "tm-1", restartAfterMs: 300 },
        { fault: "failTask", at: { after: "checkpoint-completed", nth: 2, delayMs: 0 }, vertex: "p", subtask: 1 },
        { fault: "partition", at: 100, a: ["jm"], b: ["tm-0"], oneWay: true, durationMs: 50 },
        { fault: "clog", at: 100, from: "tm-0", to: "tm-1", bidirectional: true, durationMs: 50 },
        { fault: "slowDisk", at: 100, factor: 4, durationMs: 50 },
        { fault: "diskFailures", at: 100, node: "storage", writeFailureProbability: 0.5, durationMs: 50 },
        { fault: "slowOperator", at: { after: "alignment-started" }, vertex: "w", factor: 10, durationMs: 500 },
        { fault: "dropRpc", at: 10, rpc: "notifyCheckpointComplete", durationMs: 50 },
        { fault: "slowBroker", at: 10, factor: 2, durationMs: 50 },
      ],
      chaos: { rpcLossProbability: 0.01, storageWriteFailureProbability: 0, buggify: true },
    },
  };
}

/** The smallest valid file: plan and inputs only. */
function minimalScenario(): Record<string, unknown> {
  return {
    name: "tiny",
    seed: 1,
    plan: {
      nodes: [
        { id: "src", kind: "source", parallelism: 1, inputs: [], topic: "in" },
        { id: "out", kind: "sink", parallelism: 1, inputs: [{ from: "src", partition: "forward" }], sink: "plain", topic: "out" },
      ],
    },
    inputs: [{ topic: "in", partitions: [[{ value: 1, ts: 0 }]] }],
  };
}

/** Parses a `mutate`d copy of the full scenario and returns the error line (or "ok"). */
// Mutations write arbitrary (badly typed) values into nested fields, which is the point.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function errorOf(mutate: (s: any) => void, base = fullScenario()): string {
  mutate(base);
  const r = parseScenario(JSON.stringify(base, null, 2), FILE);
  return r.ok ? "ok" : r.error;
}

describe("parseScenario", () => {
  test("a full valid scenario is accepted as written", () => {
    const r = parseScenario(JSON.stringify(fullScenario()), FILE);
    expect(r).toEqual({ ok: true, scenario: fullScenario() });
  });

  test("omitted configuration, cluster and faults are filled with the defaults", () => {
    const r = parseScenario(JSON.stringify(minimalScenario()), FILE);
    if (!r.ok) throw new Error(r.error);
    expect(r.scenario.config).toEqual(defaultJobConfig);
    expect(r.scenario.config.checkpoint).toEqual(defaultCheckpointConfig);
    expect(r.scenario.cluster).toEqual(defaultClusterConfig);
    expect(r.scenario.faults).toEqual({ faults: [] });
    expect(r.scenario.expect).toBeUndefined();
  });

  test("a partly written checkpoint config keeps its fields and fills the rest", () => {
    const s = { ...minimalScenario(), config: { checkpoint: { intervalMs: 1000, timeoutMs: 60_000 }, bufferRecords: 8 } };
    const r = parseScenario(JSON.stringify(s), FILE);
    if (!r.ok) throw new Error(r.error);
    expect(r.scenario.config).toEqual({ ...defaultJobConfig, bufferRecords: 8, checkpoint: { ...defaultCheckpointConfig, intervalMs: 1000, timeoutMs: 60_000 } });
    expect(r.scenario.config.restart).toBeUndefined();
  });

  test("every error is a single line", () => {
    const r = parseScenario('{\n  "name": "x\n"\n}', FILE);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).not.toMatch(/\n/);
  });
});

describe("parseScenario error messages", () => {
  test("bad JSON names the line and column", () => {
    const text = '{\n  "name": "x",\n  "seed": 1,\n}\n';
    expect(parseScenario(text, FILE)).toEqual({
      ok: false,
      error: `${FILE}: invalid JSON at line 4 column 1: expected a property name after ',' (no trailing commas in JSON), found "}"`,
    });
    expect(parseScenario('{ "a": 1 "b": 2 }', FILE)).toEqual({
      ok: false,
      error: `${FILE}: invalid JSON at line 1 column 10: expected ',' or '}' after a property value, found "\\""`,
    });
    expect(parseScenario("", FILE)).toEqual({ ok: false, error: `${FILE}: invalid JSON: the file is empty` });
  });

  test("a value of the wrong type names the field, the type and the value", () => {
    expect(errorOf((s) => (s.plan.nodes[1].parallelism = "2"))).toBe(`${FILE}: plan.nodes[1].parallelism must be a number, got "2"`);
    expect(errorOf((s) => (s.config.checkpoint.unaligned = 1))).toBe(`${FILE}: config.checkpoint.unaligned must be a boolean, got 1`);
    expect(errorOf((s) => (s.inputs = {}))).toBe(`${FILE}: inputs must be an array, got an object`);
    expect(errorOf((s) => (s.seed = 1.5))).toBe(`${FILE}: seed must be an integer, got 1.5`);
    expect(parseScenario("[1]", FILE)).toEqual({ ok: false, error: `${FILE}: the scenario must be an object, got an array (1 item)` });
  });

  test("a missing required field says what was expected", () => {
    expect(errorOf((s) => delete s.plan.nodes[0].parallelism)).toBe(`${FILE}: plan.nodes[0].parallelism is missing; expected a number`);
    expect(errorOf((s) => delete s.plan)).toBe(`${FILE}: plan is missing; expected an object`);
  });

  test("an unknown node kind lists the kinds", () => {
    expect(errorOf((s) => (s.plan.nodes[2].kind = "mapp"))).toBe(
      `${FILE}: plan.nodes[2].kind must be one of source, map, filter, flatMap, reduce, process, window, sink, got "mapp"`,
    );
    expect(errorOf((s) => (s.faults.faults[0].fault = "explode"))).toBe(
      `${FILE}: faults.faults[0].fault must be one of crash, failTask, partition, clog, slowDisk, diskFailures, slowOperator, dropRpc, slowBroker, got "explode"`,
    );
  });

  test("an unknown enum value lists the allowed values", () => {
    expect(errorOf((s) => (s.config.checkpoint.mode = "EXACTLY"))).toBe(
      `${FILE}: config.checkpoint.mode must be one of EXACTLY_ONCE, AT_LEAST_ONCE, got "EXACTLY"`,
    );
    expect(errorOf((s) => (s.faults.faults[1].at.after = "soon"))).toBe(
      `${FILE}: faults.faults[1].at.after must be one of checkpoint-triggered, checkpoint-completed, alignment-started, txn-opened, restore, job-running, got "soon"`,
    );
  });

  test("a misspelt field is rejected with a suggestion instead of silently defaulted", () => {
    expect(errorOf((s) => (s.config.checkpoint.timeoutMS = 5))).toBe(
      `${FILE}: config.checkpoint.timeoutMS is not a known field (did you mean timeoutMs?); known fields: intervalMs, mode, timeoutMs, minPauseMs, maxConcurrent, tolerableFailures, retained, unaligned`,
    );
  });

  test("a moment that is neither a time nor a trigger says both forms", () => {
    expect(errorOf((s) => (s.faults.faults[0].at = "soon"))).toMatch(
      new RegExp(`^${FILE}: faults\\.faults\\[0\\]\\.at must be a time in ms or a trigger \\{ "after": checkpoint-triggered \\| .*, got "soon"$`),
    );
  });

  test("out-of-range configuration gives the validator's sentence", () => {
    expect(errorOf((s) => (s.config.checkpoint.timeoutMs = -5))).toBe(`${FILE}: config.checkpoint.timeoutMs must be at least 10, got -5`);
    expect(errorOf((s) => (s.cluster.heartbeatTimeoutMs = 50))).toBe(
      `${FILE}: cluster.heartbeatTimeoutMs must be greater than heartbeatIntervalMs (100), got 50`,
    );
    expect(errorOf((s) => (s.config.restart.attempts = -1))).toBe(`${FILE}: config.restart.attempts must be an integer >= 0, got -1`);
  });

  test("plan, input and fault problems name their field", () => {
    expect(errorOf((s) => (s.plan.nodes[1].fn.fn = "nope"))).toBe(
      `${FILE}: plan: node "m" (map): fn names no registered map function ("nope"); register it or use one of abs, affine, identity, rekey`,
    );
    expect(errorOf((s) => (s.inputs[0].partitions[0][0].ts = -1))).toBe(
      `${FILE}: inputs[0].partitions[0][0].ts (topic "in") must be a finite integer >= 0, got -1`,
    );
    expect(errorOf((s) => (s.faults.faults[0].node = "tm-9"))).toBe(
      `${FILE}: faults.faults[0].node "tm-9" is not a node of this cluster (nodes: jm, tm-0, tm-1, tm-2, broker, storage)`,
    );
    expect(errorOf((s) => (s.faults.chaos.rpcLossProbability = 2))).toBe(`${FILE}: faults.chaos.rpcLossProbability must be in [0, 1], got 2`);
    expect(errorOf((s) => (s.cluster = { taskManagers: 1, slotsPerTaskManager: 1 }))).toBe(
      `${FILE}: cluster has 1 slot (taskManagers x slotsPerTaskManager) but the plan needs 2; raise cluster.taskManagers or cluster.slotsPerTaskManager`,
    );
    expect(errorOf((s) => (s.expect.verdict = "pass"))).toBe(`${FILE}: expect.failingCheck (exactlyOnce) needs expect.verdict "fail", got "pass"`);
  });

  test("functions are names from the registry, never code", () => {
    expect(errorOf((s) => (s.plan.nodes[1].fn = "(v) => v"))).toBe(
      `${FILE}: plan.nodes[1].fn must be an object, got "(v) => v"`,
    );
  });
});

describe("locateJsonError", () => {
  test("points at the offending character", () => {
    expect(locateJsonError('[1, 2,]')).toEqual({ offset: 6, expected: "a value after ',' (no trailing commas in JSON)" });
    expect(locateJsonError('{"a": tru}')).toEqual({ offset: 6, expected: "a value (a number, string, object, array, true, false or null)" });
    expect(locateJsonError('{"a": 1} x')).toEqual({ offset: 9, expected: "the end of the file after the top-level value" });
  });
});

describe("serializeScenario", () => {
  test("writes keys in the Scenario type's order with 2-space indentation and a final newline", () => {
    const r = parseScenario(JSON.stringify(minimalScenario()), FILE);
    if (!r.ok) throw new Error(r.error);
    const text = serializeScenario(r.scenario);
    expect(text.endsWith("}\n")).toBe(true);
    expect(Object.keys(JSON.parse(text))).toEqual(["name", "seed", "plan", "inputs", "config", "cluster", "faults"]);
    expect(text).toContain('\n  "plan": {\n    "nodes": [\n      { "id": "src", "kind": "source", "parallelism": 1, "topic": "in", "inputs": [] },');
  });

  test("the same scenario built in a different key order serializes to the same text", () => {
    const a = fullScenario();
    const b = Object.fromEntries(Object.entries(fullScenario()).reverse()) as Record<string, unknown>;
    expect(serializeScenario(a as unknown as Scenario)).toBe(serializeScenario(b as unknown as Scenario));
  });

  test("parse(serialize(s)) gives s back for generated scenarios", () => {
    fc.assert(
      fc.property(scenarioArb({ maxRecords: 40 }), (s) => {
        const r = parseScenario(serializeScenario(s), FILE);
        if (!r.ok) throw new Error(r.error);
        expect(r.scenario).toEqual(s);
      }),
      { numRuns: 60, seed: 5 },
    );
  });

  test("the full scenario survives a round trip", () => {
    const r = parseScenario(serializeScenario(fullScenario() as unknown as Scenario), FILE);
    expect(r).toEqual({ ok: true, scenario: fullScenario() });
  });
});
