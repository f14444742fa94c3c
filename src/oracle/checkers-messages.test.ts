/**
 * The checkers' verdicts in full: for each kind of problem, the whole message (the sentence a
 * person acts on, with the context around the first problem) and the details, as inline
 * snapshots that were read and checked by hand against the problem fed in. checkers.test.ts tests
 * which runs pass and fail; this file pins what a failure says, so a checker that names the
 * wrong record, count, time or checkpoint fails here.
 */
import { describe, expect, test } from "vitest";
import type { CheckpointConfigData } from "../engine/config.ts";
import type { Inputs, Plan } from "../engine/plan/plan.ts";
import type { KeyedStateEntry, RunResult, SinkOutput } from "../engine/result.ts";
import type { FaultPlan } from "../faults/plan.ts";
import type { JsonValue, TraceData, TraceEvent } from "../sim/trace.ts";
import {
  bag,
  checkCheckpointInvariants,
  checkDeterminism,
  checkExactlyOnce,
  checkLiveness,
  checkNoLoss,
  checkNoOpenTransactions,
  checkState,
  defaultChecks,
  describeContext,
  faultsEndMs,
  judge,
  showRecord,
  type CheckResult,
} from "./checkers.ts";
import { interpret } from "./reference.ts";
import { byKey, config, Events, fixture, kv, rec } from "./test-fixtures.ts";

// ---- fixtures (shared code in test-fixtures.ts) -------------------------------------------------

/** src -> affine(x2) -> "out" (2PC); src -> sum by key -> "sums" (2PC, named) and "table" (upsert); src -> min by key -> "mins" (plain); src -> "raw" (plain). */
const plan: Plan = {
  nodes: [
    { id: "src", kind: "source", topic: "in", parallelism: 2, inputs: [] },
    { id: "double", kind: "map", fn: { fn: "affine", args: { a: 2 } }, parallelism: 2, inputs: [{ from: "src", partition: "forward" }] },
    { id: "out", kind: "sink", sink: "twoPhaseCommit", topic: "out", parallelism: 2, inputs: [{ from: "double", partition: "forward" }] },
    { id: "sum", kind: "reduce", agg: "sum", parallelism: 2, inputs: [{ from: "src", partition: "hash", key: byKey }] },
    { id: "sums", name: "Running sums", kind: "sink", sink: "twoPhaseCommit", topic: "sums", parallelism: 2, inputs: [{ from: "sum", partition: "forward" }] },
    { id: "table", kind: "sink", sink: "upsert", topic: "table", upsertKey: byKey, parallelism: 2, inputs: [{ from: "sum", partition: "forward" }] },
    { id: "min", kind: "reduce", agg: "min", parallelism: 1, inputs: [{ from: "src", partition: "hash", key: byKey }] },
    { id: "mins", kind: "sink", sink: "plain", topic: "mins", parallelism: 1, inputs: [{ from: "min", partition: "forward" }] },
    { id: "raw", kind: "sink", sink: "plain", topic: "raw", parallelism: 1, inputs: [{ from: "src", partition: "rebalance" }] },
  ],
};
const inputs: Inputs = [
  {
    topic: "in",
    partitions: [
      [rec("k1", 1, 1), rec("k2", 2, 2), rec("k1", 3, 3)],
      [rec("k3", 7, 1), rec("k1", 5, 4), rec("k3", 7, 5)],
    ],
  },
];
const events = new Events();
const ev = events.ev;

/** Checkpoints 1 and 2 complete, tm-1 crashes, the job restores 2, checkpoint 3 completes. */
function goodTrace(): TraceEvent[] {
  events.seq = 0;
  return [
    ev(0, "jm", "job-status", { status: "RUNNING", attempt: 0 }),
    ev(100, "jm", "checkpoint-triggered", { id: 1, attempt: 0 }),
    ev(150, "jm", "checkpoint-completed", { id: 1, attempt: 0, durationMs: 50, stateBytes: 10 }),
    ev(151, "broker", "txn-committed", { tid: "out-0", epoch: 0, records: 2, digest: "d1", checkpointId: 1 }),
    ev(300, "jm", "checkpoint-triggered", { id: 2, attempt: 0 }),
    ev(360, "jm", "checkpoint-completed", { id: 2, attempt: 0, durationMs: 60, stateBytes: 10 }),
    ev(400, "tm-1", "fault", { fault: "crash" }),
    ev(900, "jm", "failover", { attempt: 1, reason: "tm-1 lost", restartDelayMs: 100 }),
    ev(1000, "jm", "restore", { checkpointId: 2, attempt: 1 }),
    ev(1000, "jm", "job-status", { status: "RUNNING", attempt: 1 }),
    ev(1100, "jm", "checkpoint-triggered", { id: 3, attempt: 1 }),
    ev(1150.25, "jm", "checkpoint-completed", { id: 3, attempt: 1, durationMs: 50.25, stateBytes: 10 }),
    ev(1151, "broker", "txn-committed", { tid: "out-1", epoch: 1, records: 3, digest: "d2", checkpointId: 3 }),
    ev(1200, "jm", "job-status", { status: "FINISHED", attempt: 1 }),
  ];
}

const { ref, correctSinks, run } = fixture(plan, inputs, goodTrace);

function withSink(vertex: string, edit: (s: SinkOutput) => SinkOutput): SinkOutput[] {
  return correctSinks().map((s) => (s.vertex === vertex ? edit({ ...s, committed: [...s.committed] }) : s));
}

const verdict = (r: CheckResult): { ok: boolean; message: string; details?: JsonValue } => ({ ok: r.ok, message: r.message, ...(r.details === undefined ? {} : { details: r.details }) });

// ---- records and context -----------------------------------------------------------------------

describe("formatting", () => {
  test("a record is shown as canonical JSON, cut to 200 characters with an ellipsis", () => {
    expect(showRecord({ b: 1, a: [2, "x"] })).toBe('{"a":[2,"x"],"b":1}');
    const long = { s: "y".repeat(300) };
    expect(showRecord(long)).toBe(`{"s":"${"y".repeat(191)}...`);
    expect(showRecord(long).length).toBe(200);
    const exact = { s: "z".repeat(192) };
    expect(showRecord(exact)).toBe(`{"s":"${"z".repeat(192)}"}`);
  });

  test("a bag counts records by canonical JSON", () => {
    expect([...bag([{ a: 1, b: 2 }, { b: 2, a: 1 }, 3]).entries()]).toEqual([
      ['{"a":1,"b":2}', { value: { a: 1, b: 2 }, count: 2 }],
      ["3", { value: 3, count: 1 }],
    ]);
  });

  test("the context names the last checkpoint completed before the first restore and up to three faults", () => {
    events.seq = 0;
    expect(describeContext([])).toBe("no checkpoint completed and nothing was restored; faults: none");
    expect(describeContext([ev(5, "jm", "restore", { checkpointId: null })])).toBe("no checkpoint had completed before the first restore (at 5 ms); faults: none");
    expect(describeContext(goodTrace())).toBe("last completed checkpoint before the first restore (at 1000 ms) was 2 (completed at 360 ms); faults: crash tm-1 at 400 ms");
    const noRestore = goodTrace().filter((e) => e.kind !== "restore");
    expect(describeContext(noRestore)).toBe("nothing was restored; the last completed checkpoint was 3 (completed at 1150.25 ms); faults: crash tm-1 at 400 ms");
    events.seq = 100;
    const faults = [1, 2, 3, 4, 5].map((i) => ev(i * 10.5, `tm-${i}`, "fault", i === 2 ? {} : { fault: "partition" }));
    expect(describeContext(faults)).toBe("no checkpoint completed and nothing was restored; faults: partition tm-1 at 10.5 ms, fault tm-2 at 21 ms, partition tm-3 at 31.5 ms and 2 more");
    expect(describeContext(faults.slice(0, 3))).toBe("no checkpoint completed and nothing was restored; faults: partition tm-1 at 10.5 ms, fault tm-2 at 21 ms, partition tm-3 at 31.5 ms");
  });
});

// ---- exactly-once ------------------------------------------------------------------------------

describe("checkExactlyOnce messages", () => {
  test("a correct run: every compared sink named in the count", () => {
    expect(verdict(checkExactlyOnce(ref, run(), plan))).toMatchInlineSnapshot(`
      {
        "message": "5 sinks match the reference exactly",
        "ok": true,
      }
    `);
    expect(checkExactlyOnce(ref, run(), plan, { sinks: ["out"] }).message).toMatchInlineSnapshot(`"1 sink matches the reference exactly"`);
  });

  test("a lost record, a partly lost one, a duplicate and an unexpected record of a multiset sink", () => {
    const sinks = withSink("raw", (s) => {
      const c = s.committed.filter((v) => canonical(v) !== canonical(kv("k2", 2)));
      const once = c.findIndex((v) => canonical(v) === canonical(kv("k3", 7)));
      c.splice(once, 1);
      return { ...s, committed: [...c, kv("k1", 1), kv("zz", 9), kv("zz", 9)] };
    });
    expect(verdict(checkExactlyOnce(ref, run({ sinks }), plan, { sinks: ["raw"] }))).toMatchInlineSnapshot(`
      {
        "details": {
          "notes": [],
          "problems": [
            {
              "committed": 0,
              "expected": 1,
              "problem": "lost",
              "record": {
                "key": "k2",
                "value": 2,
              },
              "sink": "raw",
            },
            {
              "committed": 1,
              "expected": 2,
              "problem": "lost",
              "record": {
                "key": "k3",
                "value": 7,
              },
              "sink": "raw",
            },
            {
              "committed": 2,
              "expected": 1,
              "problem": "duplicated",
              "record": {
                "key": "k1",
                "value": 1,
              },
              "sink": "raw",
            },
            {
              "committed": 2,
              "expected": 0,
              "problem": "unexpected",
              "record": {
                "key": "zz",
                "value": 9,
              },
              "sink": "raw",
            },
          ],
          "total": 4,
        },
        "message": "sink "raw": record {"key":"k2","value":2} committed 0 times, expected 1 (lost); 2 records lost, 1 duplicated and 2 unexpected in all: committed 7 (5 distinct), expected 6 (5 distinct) (3 more problems in details); last completed checkpoint before the first restore (at 1000 ms) was 2 (completed at 360 ms); faults: crash tm-1 at 400 ms",
        "ok": false,
      }
    `);
  });

  test("a running sink: a duplicated key, a lost key, a wrong final value and an unexpected key", () => {
    const sums = ref.sinks.find((s) => s.vertex === "sums")?.records ?? [];
    const edit = (f: (c: JsonValue[]) => JsonValue[]) => withSink("sums", (s) => ({ ...s, committed: f([...sums]) }));
    const dup = edit((c) => [...c, kv("k2", 2)]);
    expect(verdict(checkExactlyOnce(ref, run({ sinks: dup }), plan, { sinks: ["sums"] }))).toMatchInlineSnapshot(`
      {
        "details": {
          "notes": [],
          "problems": [
            {
              "committed": 2,
              "expected": 1,
              "key": "k2",
              "problem": "duplicated",
              "sink": "sums",
            },
          ],
          "total": 1,
        },
        "message": "sink "sums" (Running sums): key "k2" has 2 committed running values, expected 1 (duplicated); last completed checkpoint before the first restore (at 1000 ms) was 2 (completed at 360 ms); faults: crash tm-1 at 400 ms",
        "ok": false,
      }
    `);
    const lost = edit((c) => c.filter((v) => canonical(v) !== canonical(kv("k2", 2))));
    expect(verdict(checkExactlyOnce(ref, run({ sinks: lost }), plan, { sinks: ["sums"] }))).toMatchInlineSnapshot(`
      {
        "details": {
          "notes": [],
          "problems": [
            {
              "committed": 0,
              "expected": 1,
              "key": "k2",
              "problem": "lost",
              "sink": "sums",
            },
          ],
          "total": 1,
        },
        "message": "sink "sums" (Running sums): key "k2" has 0 committed running values, expected 1 (lost); last completed checkpoint before the first restore (at 1000 ms) was 2 (completed at 360 ms); faults: crash tm-1 at 400 ms",
        "ok": false,
      }
    `);
    const wrongFinal = edit((c) => c.map((v) => (canonical(v) === canonical(kv("k1", 9)) ? kv("k1", 8) : v)));
    expect(verdict(checkExactlyOnce(ref, run({ sinks: wrongFinal }), plan, { sinks: ["sums"] }))).toMatchInlineSnapshot(`
      {
        "details": {
          "notes": [],
          "problems": [
            {
              "committed": 0,
              "expected": 1,
              "key": "k1",
              "problem": "final",
              "record": {
                "key": "k1",
                "value": 9,
              },
              "sink": "sums",
            },
          ],
          "total": 1,
        },
        "message": "sink "sums" (Running sums): final value {"key":"k1","value":9} of key "k1" committed 0 times, expected 1 (the final aggregate is wrong or lost); last completed checkpoint before the first restore (at 1000 ms) was 2 (completed at 360 ms); faults: crash tm-1 at 400 ms",
        "ok": false,
      }
    `);
    const unexpected = edit((c) => [...c, kv("k9", 1), kv("k9", 2)]);
    expect(verdict(checkExactlyOnce(ref, run({ sinks: unexpected }), plan, { sinks: ["sums"] }))).toMatchInlineSnapshot(`
      {
        "details": {
          "notes": [],
          "problems": [
            {
              "committed": 2,
              "expected": 0,
              "key": "k9",
              "problem": "unexpected",
              "sink": "sums",
            },
          ],
          "total": 1,
        },
        "message": "sink "sums" (Running sums): key "k9" has 2 committed values, expected none (e.g. {"key":"k9","value":1}); last completed checkpoint before the first restore (at 1000 ms) was 2 (completed at 360 ms); faults: crash tm-1 at 400 ms",
        "ok": false,
      }
    `);
    // An unfinished job: fewer values is fine, more is not, and finals are not demanded.
    expect(checkExactlyOnce(ref, run({ sinks: lost, status: "FAILED" }), plan, { sinks: ["sums"] }).ok).toBe(true);
    expect(checkExactlyOnce(ref, run({ sinks: wrongFinal, status: "FAILED" }), plan, { sinks: ["sums"] }).ok).toBe(true);
    expect(checkExactlyOnce(ref, run({ sinks: dup, status: "FAILED" }), plan, { sinks: ["sums"] }).ok).toBe(false);
  });

  test("an upsert table: a missing key, a wrong value, an unexpected row, and no table at all", () => {
    const table = (f: (t: Array<readonly [string, JsonValue]>) => Array<readonly [string, JsonValue]>) => withSink("table", (s) => ({ ...s, table: f([...(s.table ?? [])]) }));
    const bad = table((t) => [...t.filter(([k]) => k !== "k2").map(([k, v]): [string, JsonValue] => [k, k === "k3" ? kv("k3", 1) : v]), ["k7", kv("k7", 7)]]);
    expect(verdict(checkExactlyOnce(ref, run({ sinks: bad }), plan, { sinks: ["table"] }))).toMatchInlineSnapshot(`
      {
        "details": {
          "notes": [],
          "problems": [
            {
              "expected": {
                "key": "k2",
                "value": 2,
              },
              "key": "k2",
              "problem": "lost",
              "sink": "table",
            },
            {
              "expected": {
                "key": "k3",
                "value": 14,
              },
              "got": {
                "key": "k3",
                "value": 1,
              },
              "key": "k3",
              "problem": "wrong value",
              "sink": "table",
            },
            {
              "got": {
                "key": "k7",
                "value": 7,
              },
              "key": "k7",
              "problem": "unexpected",
              "sink": "table",
            },
          ],
          "total": 3,
        },
        "message": "sink "table": upsert key "k2" is missing from the table, expected {"key":"k2","value":2} (lost) (2 more problems in details); last completed checkpoint before the first restore (at 1000 ms) was 2 (completed at 360 ms); faults: crash tm-1 at 400 ms",
        "ok": false,
      }
    `);
    const none = withSink("table", (s) => ({ vertex: s.vertex, topic: s.topic, kind: s.kind, committed: s.committed }));
    expect(verdict(checkExactlyOnce(ref, run({ sinks: none }), plan, { sinks: ["table"] }))).toMatchInlineSnapshot(`
      {
        "details": {
          "notes": [],
          "problems": [
            {
              "problem": "no table",
              "sink": "table",
            },
          ],
          "total": 1,
        },
        "message": "sink "table": the run reports no upsert table for this upsert sink; last completed checkpoint before the first restore (at 1000 ms) was 2 (completed at 360 ms); faults: crash tm-1 at 400 ms",
        "ok": false,
      }
    `);
    // Unfinished: the table is partial and not compared.
    expect(verdict(checkExactlyOnce(ref, run({ sinks: bad, status: "RESTARTING" }), plan, { sinks: ["table", "out"] }))).toMatchInlineSnapshot(`
      {
        "details": {
          "notes": [
            "sink "table" not compared: an upsert table of an unfinished job is partial",
          ],
        },
        "message": "1 sink matches the reference exactly (safety only: the job did not finish); 1 not compared (sink "table" not compared: an upsert table of an unfinished job is partial)",
        "ok": true,
      }
    `);
  });

  test("a sink without output, and a safety-only pass of an unfinished run", () => {
    const missing = correctSinks().filter((s) => s.vertex !== "out");
    expect(verdict(checkExactlyOnce(ref, run({ sinks: missing }), plan, { sinks: ["out", "sums"] }))).toMatchInlineSnapshot(`
      {
        "details": {
          "notes": [],
          "problems": [
            {
              "problem": "no output",
              "sink": "out",
            },
          ],
          "total": 1,
        },
        "message": "sink "out": the run reports no output for this sink; last completed checkpoint before the first restore (at 1000 ms) was 2 (completed at 360 ms); faults: crash tm-1 at 400 ms",
        "ok": false,
      }
    `);
    const partial = withSink("out", (s) => ({ ...s, committed: s.committed.slice(1) }));
    expect(verdict(checkExactlyOnce(ref, run({ sinks: partial, status: "FAILED" }), plan, { sinks: ["out"] }))).toMatchInlineSnapshot(`
      {
        "message": "1 sink matches the reference exactly (safety only: the job did not finish)",
        "ok": true,
      }
    `);
    expect(checkExactlyOnce(ref, run({ sinks: partial }), plan, { sinks: ["out"], complete: false }).ok).toBe(true);
    expect(checkExactlyOnce(ref, run({ sinks: partial, status: "FAILED" }), plan, { sinks: ["out"], complete: true }).ok).toBe(false);
  });

  test("more than 20 problems: the first in the message, 20 in the details, the total counted", () => {
    const many = withSink("raw", (s) => ({ ...s, committed: [...s.committed, ...Array.from({ length: 25 }, (_, i) => kv(`x${i}`, i))] }));
    const r = checkExactlyOnce(ref, run({ sinks: many }), plan, { sinks: ["raw"] });
    expect(r.message).toMatchInlineSnapshot(`"sink "raw": record {"key":"x0","value":0} committed 1 time, expected 0 (not produced by the reference); 0 records lost, 0 duplicated and 25 unexpected in all: committed 31 (30 distinct), expected 6 (5 distinct) (24 more problems in details); last completed checkpoint before the first restore (at 1000 ms) was 2 (completed at 360 ms); faults: crash tm-1 at 400 ms"`);
    const d = r.details as { problems: JsonValue[]; total: number; notes: string[] };
    expect(d.problems.length).toBe(20);
    expect(d.total).toBe(25);
    expect(d.notes).toEqual([]);
  });
});

// ---- no loss -----------------------------------------------------------------------------------

describe("checkNoLoss messages", () => {
  test("a correct run, and duplicates, pass", () => {
    expect(verdict(checkNoLoss(ref, run(), plan))).toMatchInlineSnapshot(`
      {
        "message": "nothing expected is missing from 5 sinks",
        "ok": true,
      }
    `);
    const dup = withSink("raw", (s) => ({ ...s, committed: [...s.committed, ...s.committed] }));
    expect(checkNoLoss(ref, run({ sinks: dup }), plan, { sinks: ["raw"] }).ok).toBe(true);
  });

  test("lost records of a stateless sink: the first named, the number missing counted", () => {
    const lost = withSink("raw", (s) => ({ ...s, committed: s.committed.filter((v) => (v as { key: string }).key !== "k1") }));
    expect(verdict(checkNoLoss(ref, run({ sinks: lost }), plan, { sinks: ["raw"] }))).toMatchInlineSnapshot(`
      {
        "details": {
          "notes": [],
          "problems": [
            {
              "problem": "lost",
              "record": {
                "key": "k1",
                "value": 1,
              },
              "sink": "raw",
            },
            {
              "problem": "lost",
              "record": {
                "key": "k1",
                "value": 3,
              },
              "sink": "raw",
            },
            {
              "problem": "lost",
              "record": {
                "key": "k1",
                "value": 5,
              },
              "sink": "raw",
            },
          ],
          "total": 3,
        },
        "message": "sink "raw": record {"key":"k1","value":1} committed 0 times, expected at least once (lost); 3 of 5 distinct expected records missing, committed 3 records (2 distinct) (2 more problems in details); last completed checkpoint before the first restore (at 1000 ms) was 2 (completed at 360 ms); faults: crash tm-1 at 400 ms",
        "ok": false,
      }
    `);
  });

  test("a lost key of a running sink, and a lost min/max final value", () => {
    const noK3 = withSink("sums", (s) => ({ ...s, committed: s.committed.filter((v) => (v as { key: string }).key !== "k3") }));
    expect(verdict(checkNoLoss(ref, run({ sinks: noK3 }), plan, { sinks: ["sums"] }))).toMatchInlineSnapshot(`
      {
        "details": {
          "notes": [],
          "problems": [
            {
              "keys": [
                "k3",
              ],
              "problem": "lost key",
              "sink": "sums",
            },
          ],
          "total": 1,
        },
        "message": "sink "sums" (Running sums): key "k3" has no committed record, expected at least one (lost); 1 of 3 expected keys missing; last completed checkpoint before the first restore (at 1000 ms) was 2 (completed at 360 ms); faults: crash tm-1 at 400 ms",
        "ok": false,
      }
    `);
    const noMin = withSink("mins", (s) => ({ ...s, committed: s.committed.filter((v) => canonical(v) !== canonical(kv("k1", 1))) }));
    expect(verdict(checkNoLoss(ref, run({ sinks: noMin }), plan, { sinks: ["mins"] }))).toMatchInlineSnapshot(`
      {
        "details": {
          "notes": [],
          "problems": [
            {
              "keys": [
                "k1",
              ],
              "problem": "lost key",
              "sink": "mins",
            },
            {
              "key": "k1",
              "problem": "lost final",
              "record": {
                "key": "k1",
                "value": 1,
              },
              "sink": "mins",
            },
          ],
          "total": 2,
        },
        "message": "sink "mins": key "k1" has no committed record, expected at least one (lost); 1 of 3 expected keys missing (1 more problem in details); last completed checkpoint before the first restore (at 1000 ms) was 2 (completed at 360 ms); faults: crash tm-1 at 400 ms",
        "ok": false,
      }
    `);
  });

  test("a missing upsert row, and a sink without output", () => {
    const rows = withSink("table", (s) => ({ ...s, table: (s.table ?? []).filter(([k]) => k === "k1") }));
    expect(verdict(checkNoLoss(ref, run({ sinks: rows }), plan, { sinks: ["table"] }))).toMatchInlineSnapshot(`
      {
        "details": {
          "notes": [],
          "problems": [
            {
              "keys": [
                "k2",
                "k3",
              ],
              "problem": "lost row",
              "sink": "table",
            },
          ],
          "total": 1,
        },
        "message": "sink "table": upsert key "k2" has no row, expected one (lost); 2 of 3 expected rows missing; last completed checkpoint before the first restore (at 1000 ms) was 2 (completed at 360 ms); faults: crash tm-1 at 400 ms",
        "ok": false,
      }
    `);
    const noTable = withSink("table", (s) => ({ vertex: s.vertex, topic: s.topic, kind: s.kind, committed: s.committed }));
    expect(checkNoLoss(ref, run({ sinks: noTable }), plan, { sinks: ["table"] }).message).toMatchInlineSnapshot(`"sink "table": upsert key "k1" has no row, expected one (lost); 3 of 3 expected rows missing; last completed checkpoint before the first restore (at 1000 ms) was 2 (completed at 360 ms); faults: crash tm-1 at 400 ms"`);
    const missing = correctSinks().filter((s) => s.vertex !== "raw");
    expect(verdict(checkNoLoss(ref, run({ sinks: missing }), plan, { sinks: ["raw"] }))).toMatchInlineSnapshot(`
      {
        "details": {
          "notes": [],
          "problems": [
            {
              "problem": "no output",
              "sink": "raw",
            },
          ],
          "total": 1,
        },
        "message": "sink "raw": the run reports no output for this sink; last completed checkpoint before the first restore (at 1000 ms) was 2 (completed at 360 ms); faults: crash tm-1 at 400 ms",
        "ok": false,
      }
    `);
  });
});

// ---- state -------------------------------------------------------------------------------------

describe("checkState messages", () => {
  const state = (f: (s: KeyedStateEntry[]) => KeyedStateEntry[]): RunResult => run({ finalState: f(ref.state.map((e) => ({ ...e }))) });

  test("a correct state, with empty lists and maps dropped and a key split over two entries merged", () => {
    const split = state((s) => [...s.flatMap((e) => Object.keys(e.state).map((n) => ({ vertex: e.vertex, key: e.key, state: { [n]: e.state[n] as JsonValue } }))), { vertex: "sum", key: "k8", state: { l: [], m: {} } }]);
    expect(verdict(checkState(ref, split))).toMatchInlineSnapshot(`
      {
        "message": "final keyed state matches the reference for 6 keys",
        "ok": true,
      }
    `);
    expect(verdict(checkState(ref, run({ finalState: null, status: "FAILED" })))).toMatchInlineSnapshot(`
      {
        "message": "not applicable: the run reports no final state (job FAILED)",
        "ok": true,
      }
    `);
  });

  test("an unexpected key, a lost key and a wrong value, named by operator and key", () => {
    const bad = state((s) => [...s.filter((e) => !(e.vertex === "sum" && e.key === "k2")).map((e) => (e.vertex === "min" && e.key === "k3" ? { ...e, state: { value: 6 } } : e)), { vertex: "sum", key: "k9", state: { value: 1 } }]);
    expect(verdict(checkState(ref, bad))).toMatchInlineSnapshot(`
      {
        "details": {
          "notes": [],
          "problems": [
            {
              "expected": {
                "reduce": {
                  "key": "k3",
                  "value": 7,
                },
              },
              "got": {
                "value": 6,
              },
              "key": "k3",
              "vertex": "min",
            },
            {
              "expected": {
                "reduce": {
                  "key": "k2",
                  "value": 2,
                },
              },
              "got": null,
              "key": "k2",
              "vertex": "sum",
            },
            {
              "expected": null,
              "got": {
                "value": 1,
              },
              "key": "k9",
              "vertex": "sum",
            },
          ],
          "total": 3,
        },
        "message": "operator "min" key "k3": state {"value":6}, expected {"reduce":{"key":"k3","value":7}} (2 more problems in details); last completed checkpoint before the first restore (at 1000 ms) was 2 (completed at 360 ms); faults: crash tm-1 at 400 ms",
        "ok": false,
      }
    `);
  });
});

// ---- what the plan does not define ---------------------------------------------------------------

describe("results the plan does not define are skipped and noted", () => {
  /** src -> sum by key -> sum by key (consumes running values: undefined) -> "twice" (2PC); the first sum -> "once" (plain). */
  const plan2: Plan = {
    nodes: [
      { id: "src", kind: "source", topic: "in", parallelism: 1, inputs: [] },
      { id: "sum1", kind: "reduce", agg: "sum", parallelism: 1, inputs: [{ from: "src", partition: "hash", key: byKey }] },
      { id: "sum2", kind: "reduce", agg: "sum", parallelism: 1, inputs: [{ from: "sum1", partition: "hash", key: byKey }] },
      { id: "twice", kind: "sink", sink: "twoPhaseCommit", topic: "twice", parallelism: 1, inputs: [{ from: "sum2", partition: "forward" }] },
      { id: "once", kind: "sink", sink: "plain", topic: "once", parallelism: 1, inputs: [{ from: "sum1", partition: "forward" }] },
    ],
  };
  const ref2 = interpret(plan2, inputs);
  const sinks2 = (): SinkOutput[] => ref2.sinks.map((s) => ({ vertex: s.vertex, topic: s.vertex, kind: s.kind, committed: [...s.records] }));

  test("the reference marks the sink after two running sums undefined, and its state", () => {
    expect(ref2.sinks.map((s) => [s.vertex, s.mode, s.noLoss, s.reason])).toMatchInlineSnapshot(`
      [
        [
          "twice",
          "undefined",
          "none",
          "keyed reduce "sum2" consumes running values, whose intermediate values depend on arrival order",
        ],
        [
          "once",
          "running",
          "keys",
          null,
        ],
      ]
    `);
    expect(ref2.undefinedState).toMatchInlineSnapshot(`
      [
        {
          "key": null,
          "reason": "keyed reduce "sum2" consumes running values, whose intermediate values depend on arrival order",
          "vertex": "sum2",
        },
      ]
    `);
  });

  test("exactly-once, no-loss and state checks name what they did not compare", () => {
    const r = run({ sinks: sinks2(), finalState: ref2.state });
    expect(verdict(checkExactlyOnce(ref2, r, plan2))).toMatchInlineSnapshot(`
      {
        "details": {
          "notes": [
            "sink "twice" not compared: keyed reduce "sum2" consumes running values, whose intermediate values depend on arrival order",
          ],
        },
        "message": "1 sink matches the reference exactly; 1 not compared (sink "twice" not compared: keyed reduce "sum2" consumes running values, whose intermediate values depend on arrival order)",
        "ok": true,
      }
    `);
    expect(verdict(checkNoLoss(ref2, r, plan2))).toMatchInlineSnapshot(`
      {
        "details": {
          "notes": [
            "sink "twice" not checked: keyed reduce "sum2" consumes running values, whose intermediate values depend on arrival order",
          ],
        },
        "message": "nothing expected is missing from 1 sink; 1 not checked (sink "twice" not checked: keyed reduce "sum2" consumes running values, whose intermediate values depend on arrival order)",
        "ok": true,
      }
    `);
    expect(verdict(checkState(ref2, r))).toMatchInlineSnapshot(`
      {
        "message": "final keyed state matches the reference for 3 keys; not compared: operator "sum2"",
        "ok": true,
      }
    `);
    // A wrong undefined sink or state is not a failure.
    const wrong = run({ sinks: sinks2().map((s) => (s.vertex === "twice" ? { ...s, committed: [kv("zz", 1)] } : s)), finalState: [...ref2.state, { vertex: "sum2", key: "zz", state: { v: 1 } }] });
    expect(checkExactlyOnce(ref2, wrong, plan2).ok).toBe(true);
    expect(checkState(ref2, wrong).ok).toBe(true);
  });
});

// ---- checkpoint invariants ---------------------------------------------------------------------

describe("checkCheckpointInvariants messages", () => {
  const check = (trace: TraceEvent[], cp: Partial<CheckpointConfigData> = {}, over: Partial<RunResult> = {}) => verdict(checkCheckpointInvariants(run({ trace, ...over }), config(cp)));
  const at = (t: TraceEvent[], i: number, data: TraceData, time?: number): TraceEvent[] =>
    t.map((e, j) => (j === i ? { ...e, data: { ...e.data, ...data }, time: time ?? e.time } : e));

  test("a correct run, in the words of the pass message", () => {
    expect(check(goodTrace())).toMatchInlineSnapshot(`
      {
        "message": "checkpoint invariants hold over 3 triggered checkpoints (3 completed) and 2 committed transactions",
        "ok": true,
      }
    `);
    events.seq = 0;
    expect(check([ev(0, "jm", "checkpoint-triggered", { id: 1, attempt: 0 }), ev(10, "jm", "checkpoint-completed", { id: 1, attempt: 0 })])).toMatchInlineSnapshot(`
      {
        "message": "checkpoint invariants hold over 1 triggered checkpoint (1 completed) and 0 committed transactions",
        "ok": true,
      }
    `);
  });

  test("ids that go down, completions out of order, and a completion never triggered", () => {
    const t = goodTrace();
    expect(check(at(t, 10, { id: 1 }))).toMatchInlineSnapshot(`
      {
        "details": {
          "notes": [],
          "problems": [
            {
              "id": 1,
              "rule": "ids increase",
              "seq": 10,
              "time": 1100,
            },
            {
              "id": 3,
              "rule": "completed after trigger",
              "seq": 11,
              "time": 1150.25,
            },
          ],
          "total": 2,
        },
        "message": "checkpoint 1 triggered at 1100 ms (attempt 1) reuses or lowers the id: checkpoint 2 was triggered at 300 ms (attempt 0) (1 more problem in details); last completed checkpoint before the first restore (at 1000 ms) was 2 (completed at 360 ms); faults: crash tm-1 at 400 ms",
        "ok": false,
      }
    `);
    expect(check(at(at(t, 10, { id: 5 }), 11, { id: 1 }))).toMatchInlineSnapshot(`
      {
        "details": {
          "notes": [],
          "problems": [
            {
              "id": 1,
              "rule": "completions increase",
              "seq": 11,
              "time": 1150.25,
            },
            {
              "checkpointId": 3,
              "epoch": 1,
              "rule": "commit after completion",
              "seq": 12,
              "tid": "out-1",
              "time": 1151,
            },
          ],
          "total": 2,
        },
        "message": "checkpoint 1 completed at 1150.25 ms after checkpoint 2 had completed at 360 ms (1 more problem in details); last completed checkpoint before the first restore (at 1000 ms) was 2 (completed at 360 ms); faults: crash tm-1 at 400 ms",
        "ok": false,
      }
    `);
    expect(check(at(t, 11, { id: 4 }))).toMatchInlineSnapshot(`
      {
        "details": {
          "notes": [],
          "problems": [
            {
              "id": 4,
              "rule": "completed after trigger",
              "seq": 11,
              "time": 1150.25,
            },
          ],
          "total": 1,
        },
        "message": "checkpoint 4 completed at 1150.25 ms but was never triggered; last completed checkpoint before the first restore (at 1000 ms) was 2 (completed at 360 ms); faults: crash tm-1 at 400 ms",
        "ok": false,
      }
    `);
  });

  test("max concurrent counts only the pending checkpoints of the trigger's attempt", () => {
    events.seq = 0;
    const t = [
      ev(0, "jm", "checkpoint-triggered", { id: 1, attempt: 0 }),
      ev(5, "jm", "checkpoint-triggered", { id: 2, attempt: 0 }),
      ev(6, "jm", "checkpoint-triggered", { id: 3, attempt: 0 }),
      ev(20, "jm", "checkpoint-completed", { id: 3, attempt: 0 }),
      ev(30, "jm", "checkpoint-triggered", { id: 4, attempt: 0 }),
    ];
    expect(check(t, { maxConcurrent: 2 })).toMatchInlineSnapshot(`
      {
        "details": {
          "notes": [],
          "problems": [
            {
              "id": 3,
              "pending": [
                1,
                2,
              ],
              "rule": "max concurrent",
              "seq": 2,
              "time": 6,
            },
          ],
          "total": 1,
        },
        "message": "checkpoint 3 triggered at 6 ms while 2 checkpoints (1, 2) pended in attempt 0; maxConcurrent is 2; nothing was restored; the last completed checkpoint was 3 (completed at 20 ms); faults: none",
        "ok": false,
      }
    `);
    expect(check(t, { maxConcurrent: 3 }).ok).toBe(true);
    // A failover ends the pending ones of the old attempt.
    events.seq = 0;
    const f = [
      ev(0, "jm", "checkpoint-triggered", { id: 1, attempt: 0 }),
      ev(5, "jm", "failover", { attempt: 1 }),
      ev(6, "jm", "checkpoint-triggered", { id: 2, attempt: 1 }),
    ];
    expect(check(f, { maxConcurrent: 1 }).ok).toBe(true);
    // A trigger of a newer attempt ends the older attempt's pending checkpoints too.
    events.seq = 0;
    const g = [ev(0, "jm", "checkpoint-triggered", { id: 1, attempt: 0 }), ev(6, "jm", "checkpoint-triggered", { id: 2, attempt: 1 })];
    expect(check(g, { maxConcurrent: 1 }).ok).toBe(true);
  });

  test("min pause is per attempt and counts from the previous completion", () => {
    expect(check(goodTrace(), { minPauseMs: 800 })).toMatchInlineSnapshot(`
      {
        "details": {
          "notes": [],
          "problems": [
            {
              "id": 2,
              "previous": 1,
              "rule": "min pause",
              "seq": 4,
              "time": 300,
            },
          ],
          "total": 1,
        },
        "message": "checkpoint 2 triggered at 300 ms, only 150 ms after checkpoint 1 completed at 150 ms; minPauseMs is 800; last completed checkpoint before the first restore (at 1000 ms) was 2 (completed at 360 ms); faults: crash tm-1 at 400 ms",
        "ok": false,
      }
    `);
    expect(check(goodTrace(), { minPauseMs: 150 }).ok).toBe(true);
  });

  test("timeouts: a late completion, a late abort, an early expiry, a pending checkpoint at a failover and at the end", () => {
    events.seq = 0;
    const base = [ev(0, "jm", "checkpoint-triggered", { id: 1, attempt: 0 })];
    expect(check([...base, ev(100.5, "jm", "checkpoint-completed", { id: 1, attempt: 0 })], { timeoutMs: 100 })).toMatchInlineSnapshot(`
      {
        "details": {
          "notes": [],
          "problems": [
            {
              "id": 1,
              "rule": "timeout",
              "seq": 1,
              "time": 100.5,
            },
          ],
          "total": 1,
        },
        "message": "checkpoint 1 completed at 100.5 ms, after its timeout at 100 ms (triggered at 0 ms, timeoutMs 100); it should have expired; nothing was restored; the last completed checkpoint was 1 (completed at 100.5 ms); faults: none",
        "ok": false,
      }
    `);
    expect(check([...base, ev(100, "jm", "checkpoint-completed", { id: 1, attempt: 0 })], { timeoutMs: 100 }).ok).toBe(true);
    expect(check([...base, ev(101.5, "jm", "checkpoint-aborted", { id: 1, attempt: 0, reason: "declined", counted: true })], { timeoutMs: 100, tolerableFailures: 5 })).toMatchInlineSnapshot(`
      {
        "details": {
          "notes": [],
          "problems": [
            {
              "id": 1,
              "rule": "timeout",
              "seq": 14,
              "time": 101.5,
            },
          ],
          "total": 1,
        },
        "message": "checkpoint 1 triggered at 0 ms was still pending at its timeout (100 ms) and was aborted only at 101.5 ms (declined); no checkpoint completed and nothing was restored; faults: none",
        "ok": false,
      }
    `);
    expect(check([...base, ev(98.5, "jm", "checkpoint-aborted", { id: 1, attempt: 0, reason: "expired", counted: true })], { timeoutMs: 100, tolerableFailures: 5 })).toMatchInlineSnapshot(`
      {
        "details": {
          "notes": [],
          "problems": [
            {
              "id": 1,
              "rule": "timeout",
              "seq": 14,
              "time": 98.5,
            },
          ],
          "total": 1,
        },
        "message": "checkpoint 1 triggered at 0 ms expired at 98.5 ms, before its timeout at 100 ms; no checkpoint completed and nothing was restored; faults: none",
        "ok": false,
      }
    `);
    expect(check([...base, ev(99.5, "jm", "checkpoint-aborted", { id: 1, attempt: 0, reason: "expired", counted: true })], { timeoutMs: 100, tolerableFailures: 5 }).ok).toBe(true);
    expect(check([...base, ev(101, "jm", "checkpoint-aborted", { id: 1, attempt: 0, reason: "", counted: false })], { timeoutMs: 100 }).ok).toBe(true);
    expect(check([...base, ev(102, "jm", "checkpoint-aborted", { id: 1, attempt: 0, counted: false })], { timeoutMs: 100 }).message).toMatchInlineSnapshot(`"checkpoint 1 triggered at 0 ms was still pending at its timeout (100 ms) and was aborted only at 102 ms (no reason); no checkpoint completed and nothing was restored; faults: none"`);
    expect(check([...base, ev(150, "jm", "failover", { attempt: 1 })], { timeoutMs: 100 })).toMatchInlineSnapshot(`
      {
        "details": {
          "notes": [],
          "problems": [
            {
              "id": 1,
              "rule": "timeout",
              "seq": 14,
              "time": 150,
            },
          ],
          "total": 1,
        },
        "message": "checkpoint 1 triggered at 0 ms was still pending at its timeout (100 ms) and was never aborted as expired before the failover at 150 ms; no checkpoint completed and nothing was restored; faults: none",
        "ok": false,
      }
    `);
    expect(check([...base, ev(101, "jm", "failover", { attempt: 1 })], { timeoutMs: 100 }).ok).toBe(true);
    expect(check([...base, ev(150, "jm", "restore", { checkpointId: null, attempt: 1 })], { timeoutMs: 100 }).ok).toBe(false);
    expect(check(base, { timeoutMs: 100 }, { endTimeMs: 102 })).toMatchInlineSnapshot(`
      {
        "details": {
          "notes": [],
          "problems": [
            {
              "id": 1,
              "rule": "timeout",
              "time": 0,
            },
          ],
          "total": 1,
        },
        "message": "checkpoint 1 triggered at 0 ms was still pending at its timeout (100 ms) and was never aborted; no checkpoint completed and nothing was restored; faults: none",
        "ok": false,
      }
    `);
    expect(check(base, { timeoutMs: 100 }, { endTimeMs: 101 }).ok).toBe(true);
    // The job's end, not the run's, is the horizon.
    expect(check([...base, ev(50, "jm", "job-status", { status: "FAILED", attempt: 0 })], { timeoutMs: 100 }, { endTimeMs: 500 }).ok).toBe(true);
    expect(check([...base, ev(50, "jm", "job-status", { status: "RESTARTING", attempt: 0 })], { timeoutMs: 100 }, { endTimeMs: 500 }).ok).toBe(false);
  });

  test("failure counting: an expired checkpoint must count, a subsumed one must not", () => {
    events.seq = 0;
    const base = [ev(0, "jm", "checkpoint-triggered", { id: 1, attempt: 0 })];
    expect(check([...base, ev(100, "jm", "checkpoint-aborted", { id: 1, attempt: 0, reason: "expired", counted: false })], { timeoutMs: 100 })).toMatchInlineSnapshot(`
      {
        "details": {
          "notes": [],
          "problems": [
            {
              "id": 1,
              "rule": "failure counting",
              "seq": 1,
              "time": 100,
            },
            {
              "rule": "tolerable failures",
              "time": 100,
            },
          ],
          "total": 2,
        },
        "message": "checkpoint 1 expired at 100 ms but was not counted as a failure (Flink counts expired checkpoints) (1 more problem in details); no checkpoint completed and nothing was restored; faults: none",
        "ok": false,
      }
    `);
    expect(check([...base, ev(10, "jm", "checkpoint-aborted", { id: 1, attempt: 0, reason: "subsumed", counted: true })], { tolerableFailures: 5 })).toMatchInlineSnapshot(`
      {
        "details": {
          "notes": [],
          "problems": [
            {
              "id": 1,
              "rule": "failure counting",
              "seq": 14,
              "time": 10,
            },
          ],
          "total": 1,
        },
        "message": "checkpoint 1 was aborted at 10 ms (subsumed) and counted as a failure, which Flink does not count; no checkpoint completed and nothing was restored; faults: none",
        "ok": false,
      }
    `);
  });

  test("tolerable failures: exceeding them must fail the job before the next trigger or the end", () => {
    events.seq = 0;
    const t = [
      ev(0, "jm", "checkpoint-triggered", { id: 1, attempt: 0 }),
      ev(10, "jm", "checkpoint-aborted", { id: 1, attempt: 0, reason: "declined", counted: true }),
      ev(20, "jm", "checkpoint-triggered", { id: 2, attempt: 0 }),
      ev(30, "jm", "checkpoint-aborted", { id: 2, attempt: 0, reason: "declined", counted: true }),
    ];
    expect(check(t, { tolerableFailures: 1 })).toMatchInlineSnapshot(`
      {
        "details": {
          "notes": [],
          "problems": [
            {
              "rule": "tolerable failures",
              "time": 30,
            },
          ],
          "total": 1,
        },
        "message": "2 counted checkpoint failures exceeded tolerableFailures 1 at 30 ms, but the job never failed; no checkpoint completed and nothing was restored; faults: none",
        "ok": false,
      }
    `);
    expect(check([...t, ev(40, "jm", "job-status", { status: "FINISHED", attempt: 0 })], { tolerableFailures: 1 })).toMatchInlineSnapshot(`
      {
        "details": {
          "notes": [],
          "problems": [
            {
              "rule": "tolerable failures",
              "seq": 14,
              "time": 40,
            },
          ],
          "total": 1,
        },
        "message": "the job FINISHED at 40 ms although 2 counted checkpoint failures exceeded tolerableFailures 1 at 30 ms; it should have failed; no checkpoint completed and nothing was restored; faults: none",
        "ok": false,
      }
    `);
    expect(check([...t, ev(40, "jm", "job-status", { status: "RESTARTING", attempt: 0 })], { tolerableFailures: 1 }).ok).toBe(true);
    // The threshold fails the job (a failover with its reason) and clears the count (Flink's clearCount before failJob).
    const thresholdFailover = ev(40, "jm", "failover", { attempt: 1, reason: "exceeded checkpoint tolerable failure threshold" });
    expect(check([...t, thresholdFailover, ev(50, "jm", "checkpoint-triggered", { id: 3, attempt: 1 })], { tolerableFailures: 1 }).ok).toBe(true);
    expect(check(t, { tolerableFailures: 2 }).ok).toBe(true);
    // A completion in between resets the count; a failure of an id older than the last completion is not counted (and the engine must not count it).
    const reset = [
      ...t.slice(0, 3),
      ev(25, "jm", "checkpoint-completed", { id: 2, attempt: 0 }),
      ev(26, "jm", "checkpoint-triggered", { id: 3, attempt: 0 }),
      ev(27, "jm", "checkpoint-aborted", { id: 3, attempt: 0, reason: "declined", counted: true }),
      ev(28, "jm", "checkpoint-triggered", { id: 4, attempt: 0 }),
    ];
    expect(check(reset, { tolerableFailures: 1 }).ok).toBe(true);
    expect(check(reset.filter((e) => e.kind !== "checkpoint-completed"), { tolerableFailures: 1, maxConcurrent: 5 }).ok).toBe(false);
    const old = [
      ev(0, "jm", "checkpoint-triggered", { id: 1, attempt: 0 }),
      ev(1, "jm", "checkpoint-triggered", { id: 2, attempt: 0 }),
      ev(2, "jm", "checkpoint-completed", { id: 2, attempt: 0 }),
      ev(3, "jm", "checkpoint-aborted", { id: 1, attempt: 0, reason: "declined", counted: false }),
      ev(4, "jm", "checkpoint-triggered", { id: 3, attempt: 0 }),
    ];
    expect(check(old, { tolerableFailures: 0, maxConcurrent: 3 }).ok).toBe(true);
    // The same id counted twice is one failure.
    const twice = [...t.slice(0, 2), ev(11, "jm", "checkpoint-aborted", { id: 1, attempt: 0, reason: "declined", counted: false }), ev(20, "jm", "checkpoint-triggered", { id: 2, attempt: 0 })];
    expect(check(twice, { tolerableFailures: 1 }).ok).toBe(true);
  });

  test("restores must use the latest completed checkpoint, including one a new JobManager recovered", () => {
    const t = goodTrace();
    expect(check(at(t, 8, { checkpointId: null }))).toMatchInlineSnapshot(`
      {
        "details": {
          "notes": [],
          "problems": [
            {
              "latest": 2,
              "rule": "restore latest",
              "seq": 8,
              "time": 1000,
              "used": null,
            },
          ],
          "total": 1,
        },
        "message": "restore at 1000 ms (attempt 1) used no checkpoint, but the latest completed checkpoint was 2 (completed at 360 ms); last completed checkpoint before the first restore (at 1000 ms) was 2 (completed at 360 ms); faults: crash tm-1 at 400 ms",
        "ok": false,
      }
    `);
    events.seq = 0;
    const recovered = [ev(0, "jm", "checkpoint-triggered", { id: 4, attempt: 0 }), ev(5, "jm", "crash"), ev(9, "jm", "jm-recovered", { checkpoints: [4, "x"] }), ev(10, "jm", "restore", { checkpointId: 3, attempt: 1 })];
    expect(check(recovered)).toMatchInlineSnapshot(`
      {
        "details": {
          "notes": [],
          "problems": [
            {
              "latest": 4,
              "rule": "restore latest",
              "seq": 3,
              "time": 10,
              "used": 3,
            },
          ],
          "total": 1,
        },
        "message": "restore at 10 ms (attempt 1) used checkpoint 3, but the latest completed checkpoint was 4 (completed at 9 ms); no checkpoint had completed before the first restore (at 10 ms); faults: none",
        "ok": false,
      }
    `);
    expect(check([ev(9, "jm", "jm-recovered", { checkpoints: "none" }), ev(10, "jm", "restore", { checkpointId: null, attempt: 1 })]).ok).toBe(true);
  });

  test("commits: for a checkpoint not completed, twice with other content, taken back", () => {
    const t = goodTrace();
    expect(check(at(t, 3, { checkpointId: 3 }))).toMatchInlineSnapshot(`
      {
        "details": {
          "notes": [],
          "problems": [
            {
              "checkpointId": 3,
              "epoch": 0,
              "rule": "commit after completion",
              "seq": 3,
              "tid": "out-0",
              "time": 151,
            },
          ],
          "total": 1,
        },
        "message": "transaction out-0 (epoch 0) committed at 151 ms for checkpoint 3, but the latest completed checkpoint then was 1; last completed checkpoint before the first restore (at 1000 ms) was 2 (completed at 360 ms); faults: crash tm-1 at 400 ms",
        "ok": false,
      }
    `);
    events.seq = 50;
    expect(check([...t, ev(1160, "broker", "txn-committed", { tid: "out-1", epoch: 1, digest: "other", checkpointId: 3 })])).toMatchInlineSnapshot(`
      {
        "details": {
          "notes": [],
          "problems": [
            {
              "epoch": 1,
              "rule": "commit once",
              "seq": 50,
              "tid": "out-1",
              "time": 1160,
            },
          ],
          "total": 1,
        },
        "message": "transaction out-1 (epoch 1) committed again at 1160 ms with different content (digest "other", first commit at 1151 ms had "d2"); last completed checkpoint before the first restore (at 1000 ms) was 2 (completed at 360 ms); faults: crash tm-1 at 400 ms",
        "ok": false,
      }
    `);
    expect(check([...t, ev(1160, "broker", "txn-committed", { tid: "out-1", epoch: 2, digest: "other", checkpointId: 3 })]).ok).toBe(true);
    expect(check([...t, ev(1160, "broker", "txn-aborted", { tid: "out-0", epoch: 0 })])).toMatchInlineSnapshot(`
      {
        "details": {
          "notes": [],
          "problems": [
            {
              "epoch": 0,
              "rule": "no take-back",
              "seq": 14,
              "tid": "out-0",
              "time": 1160,
            },
          ],
          "total": 1,
        },
        "message": "transaction out-0 (epoch 0) was aborted at 1160 ms after it had been committed at 151 ms: committed output taken back; last completed checkpoint before the first restore (at 1000 ms) was 2 (completed at 360 ms); faults: crash tm-1 at 400 ms",
        "ok": false,
      }
    `);
    expect(check([...t, ev(1160, "broker", "txn-aborted", { tid: "out-0", epoch: 1 })]).ok).toBe(true);
    expect(check([...t, ev(1160, "broker", "txn-committed", { epoch: 5 })]).ok).toBe(true);
  });

  test("events of full-level detail are ignored", () => {
    events.seq = 0;
    const detail: TraceEvent = { ...ev(0, "jm", "checkpoint-triggered", { id: 1, attempt: 0 }), level: "full" };
    expect(check([detail], { timeoutMs: 10 }, { endTimeMs: 100 }).ok).toBe(true);
  });
});

// ---- transactions, liveness, determinism, judge ------------------------------------------------

describe("checkNoOpenTransactions, checkLiveness, checkDeterminism messages", () => {
  test("open transactions: not applicable unless FINISHED; the first named and the number open", () => {
    expect(verdict(checkNoOpenTransactions(run({ status: "FAILED", openTransactions: [{ tid: "a", epoch: 1 }] })))).toMatchInlineSnapshot(`
      {
        "message": "not applicable: the job ended FAILED, not FINISHED",
        "ok": true,
      }
    `);
    expect(verdict(checkNoOpenTransactions(run()))).toMatchInlineSnapshot(`
      {
        "message": "no transaction is open at the end of the finished job",
        "ok": true,
      }
    `);
    expect(verdict(checkNoOpenTransactions(run({ openTransactions: [{ tid: "a", epoch: 1 }, { tid: "b", epoch: 2 }] })))).toMatchInlineSnapshot(`
      {
        "details": {
          "open": [
            {
              "epoch": 1,
              "tid": "a",
            },
            {
              "epoch": 2,
              "tid": "b",
            },
          ],
          "total": 2,
        },
        "message": "transaction a (epoch 1) is still open after the job FINISHED (2 open in all); last completed checkpoint before the first restore (at 1000 ms) was 2 (completed at 360 ms); faults: crash tm-1 at 400 ms",
        "ok": false,
      }
    `);
    expect(checkNoOpenTransactions(run({ openTransactions: [{ tid: "a", epoch: 1 }] })).message).toMatchInlineSnapshot(`"transaction a (epoch 1) is still open after the job FINISHED; last completed checkpoint before the first restore (at 1000 ms) was 2 (completed at 360 ms); faults: crash tm-1 at 400 ms"`);
  });

  test("when the faults end: from the plan, or from the trace for triggered faults", () => {
    expect(faultsEndMs({ faults: [{ at: 400, fault: "crash", node: "tm-1", restartAfterMs: 500 }] }, [])).toBe(900);
    events.seq = 0;
    const trace = [ev(10, "tm-1", "fault"), ev(30, "tm-1", "restart"), ev(20, "x", "fault-end"), ev(99, "jm", "checkpoint-completed")];
    expect(faultsEndMs({ faults: [{ at: { after: "checkpoint-completed" }, fault: "crash", node: "tm-1" }] }, trace)).toBe(30);
    expect(faultsEndMs({ faults: [{ at: { after: "checkpoint-completed" }, fault: "crash", node: "tm-1" }] }, [])).toBe(0);
  });

  test("liveness: a bound exceeded, a wrong status, too late after the faults, chaos without a time bound", () => {
    const faults: FaultPlan = { faults: [{ at: 400, fault: "crash", node: "tm-1", restartAfterMs: 500 }] };
    expect(verdict(checkLiveness(run({ status: "RUNNING", boundExceeded: "maxTimeMs", endTimeMs: 5000.5 }), faults, 1000))).toMatchInlineSnapshot(`
      {
        "details": {
          "boundExceeded": "maxTimeMs",
          "endTimeMs": 5000.5,
          "status": "RUNNING",
        },
        "message": "the run exceeded its maxTimeMs bound at 5000.5 ms after 1000 events with the job RUNNING; last completed checkpoint before the first restore (at 1000 ms) was 2 (completed at 360 ms); faults: crash tm-1 at 400 ms",
        "ok": false,
      }
    `);
    expect(checkLiveness(run({ status: "FAILED", boundExceeded: "maxEvents", failureReason: "boom" }), faults, 1000).message).toMatchInlineSnapshot(`"the run exceeded its maxEvents bound at 1200 ms after 1000 events with the job FAILED (boom); last completed checkpoint before the first restore (at 1000 ms) was 2 (completed at 360 ms); faults: crash tm-1 at 400 ms"`);
    expect(verdict(checkLiveness(run({ status: "FAILED", failureReason: "too many failures" }), faults, 1000))).toMatchInlineSnapshot(`
      {
        "details": {
          "endTimeMs": 1200,
          "expected": "FINISHED",
          "status": "FAILED",
        },
        "message": "the job ended FAILED at 1200 ms, expected FINISHED (too many failures); last completed checkpoint before the first restore (at 1000 ms) was 2 (completed at 360 ms); faults: crash tm-1 at 400 ms",
        "ok": false,
      }
    `);
    expect(checkLiveness(run({ status: "FINISHED" }), faults, 1000, "FAILED").message).toMatchInlineSnapshot(`"the job ended FINISHED at 1200 ms, expected FAILED; last completed checkpoint before the first restore (at 1000 ms) was 2 (completed at 360 ms); faults: crash tm-1 at 400 ms"`);
    expect(verdict(checkLiveness(run({ endTimeMs: 1901 }), faults, 1000))).toMatchInlineSnapshot(`
      {
        "details": {
          "boundMs": 1000,
          "endTimeMs": 1901,
          "faultsEndMs": 900,
        },
        "message": "the job FINISHED only at 1901 ms, more than 1000 ms after the last fault ended at 900 ms; last completed checkpoint before the first restore (at 1000 ms) was 2 (completed at 360 ms); faults: crash tm-1 at 400 ms",
        "ok": false,
      }
    `);
    expect(verdict(checkLiveness(run({ endTimeMs: 1900 }), faults, 1000))).toMatchInlineSnapshot(`
      {
        "message": "the job FINISHED at 1900 ms, within 1000 ms of the last fault (900 ms)",
        "ok": true,
      }
    `);
    for (const chaos of [{ rpcLossProbability: 0.1 }, { storageWriteFailureProbability: 0.1 }, { buggify: true }]) {
      expect(verdict(checkLiveness(run({ endTimeMs: 99_999 }), { ...faults, chaos }, 1000))).toEqual({
        ok: true,
        message: "the job FINISHED at 99999 ms (background chaos never stops, so no time bound applies)",
      });
    }
    expect(checkLiveness(run({ endTimeMs: 99_999 }), { ...faults, chaos: { rpcLossProbability: 0 } }, 1000).ok).toBe(false);
  });

  test("determinism: the first differing summary event, or the end of one trace, or no recorded difference", () => {
    const a = run();
    expect(verdict(checkDeterminism(a, run()))).toMatchInlineSnapshot(`
      {
        "message": "both runs have trace hash 0123456789abcdef",
        "ok": true,
      }
    `);
    const b = run({ traceHash: "ffff", trace: goodTrace().map((e, i) => (i === 4 ? { ...e, data: { id: 2, attempt: 1 } } : e)) });
    expect(verdict(checkDeterminism(a, b))).toMatchInlineSnapshot(`
      {
        "details": {
          "firstDifference": 4,
          "hashes": [
            "0123456789abcdef",
            "ffff",
          ],
        },
        "message": "two runs of the same scenario gave different trace hashes 0123456789abcdef and ffff; first difference at summary event 4: 300 ms jm checkpoint-triggered {"attempt":0,"id":2} vs 300 ms jm checkpoint-triggered {"attempt":1,"id":2}",
        "ok": false,
      }
    `);
    const shorter = run({ traceHash: "eeee", trace: goodTrace().slice(0, 3) });
    expect(checkDeterminism(a, shorter).message).toMatchInlineSnapshot(`"two runs of the same scenario gave different trace hashes 0123456789abcdef and eeee; first difference at summary event 3: 151 ms broker txn-committed {"checkpointId":1,"digest":"d1","epoch":0,"records":2,"tid":"out-0"} vs (end)"`);
    expect(checkDeterminism(shorter, a).message).toMatchInlineSnapshot(`"two runs of the same scenario gave different trace hashes eeee and 0123456789abcdef; first difference at summary event 3: (end) vs 151 ms broker txn-committed {"checkpointId":1,"digest":"d1","epoch":0,"records":2,"tid":"out-0"}"`);
    expect(checkDeterminism(a, run({ traceHash: "dddd" })).message).toMatchInlineSnapshot(`"two runs of the same scenario gave different trace hashes 0123456789abcdef and dddd; the recorded traces agree (the difference is in unrecorded events)"`);
    // Full-level events are not compared.
    const withDetail = run({ traceHash: "cccc", trace: [{ ...(goodTrace()[0] as TraceEvent), level: "full", kind: "x" }, ...goodTrace()] });
    expect(checkDeterminism(a, withDetail).message).toContain("the recorded traces agree");
  });
});

describe("judge and the default checks", () => {
  const faults: FaultPlan = { faults: [{ at: 400, fault: "crash", node: "tm-1" }] };
  const onePlan = (sink: "plain" | "upsert" | "twoPhaseCommit"): Plan => ({ nodes: [plan.nodes[0], { id: "o", kind: "sink", sink, topic: "o", parallelism: 1, inputs: [{ from: "src", partition: "forward" }], ...(sink === "upsert" ? { upsertKey: byKey } : {}) }] as Plan["nodes"] });

  test("the default checks follow the mode and the sinks", () => {
    const eo = config();
    const alo = config({ mode: "AT_LEAST_ONCE" });
    expect(defaultChecks(onePlan("plain"), eo, false)).toEqual(["noLoss", "state", "checkpointInvariants", "noOpenTransactions", "liveness"]);
    expect(defaultChecks(onePlan("upsert"), eo, true)).toEqual(["exactlyOnce", "state", "checkpointInvariants", "noOpenTransactions", "liveness", "determinism"]);
    expect(defaultChecks(onePlan("twoPhaseCommit"), alo, false)).toEqual(["noLoss", "checkpointInvariants", "noOpenTransactions", "liveness"]);
    expect(defaultChecks(plan, eo, false)).toEqual(["exactlyOnce", "noLoss", "state", "checkpointInvariants", "noOpenTransactions", "liveness"]);
  });

  test("the summary: every check that holds, or the first failing check's message and the others failing", () => {
    expect(judge({ plan, inputs, result: run(), config: config(), faults }).summary).toMatchInlineSnapshot(`"pass: exactlyOnce, noLoss, state, checkpointInvariants, noOpenTransactions, liveness hold"`);
    const lost = withSink("out", (s) => ({ ...s, committed: s.committed.slice(1) }));
    const j = judge({ plan, reference: ref, result: run({ sinks: lost, openTransactions: [{ tid: "t", epoch: 0 }] }), config: config(), faults });
    expect(j.summary).toMatchInlineSnapshot(`"fail: exactlyOnce: sink "out": record {"key":"k3","value":14} committed 1 time, expected 2 (partly lost); 1 record lost, 0 duplicated and 0 unexpected in all: committed 5 (5 distinct), expected 6 (5 distinct); last completed checkpoint before the first restore (at 1000 ms) was 2 (completed at 360 ms); faults: crash tm-1 at 400 ms (also failing: noOpenTransactions)"`);
    expect(j.results.filter((r) => !r.ok).map((r) => r.check)).toEqual(["exactlyOnce", "noOpenTransactions"]);
  });

  test("the exactly-once check leaves plain sinks to no-loss, unless the checks are explicit", () => {
    const dupRaw = withSink("raw", (s) => ({ ...s, committed: [...s.committed, ...s.committed] }));
    const j = judge({ plan, reference: ref, result: run({ sinks: dupRaw }), config: config(), faults });
    expect(j.verdict).toBe("pass");
    expect(j.results.find((r) => r.check === "exactlyOnce")?.message).toMatchInlineSnapshot(`"3 sinks match the reference exactly"`);
    const lostRaw = withSink("raw", (s) => ({ ...s, committed: [] }));
    const k = judge({ plan, reference: ref, result: run({ sinks: lostRaw }), config: config(), faults });
    expect(k.results.find((r) => r.check === "noLoss")?.ok).toBe(false);
    const explicit = judge({ plan, reference: ref, result: run({ sinks: dupRaw }), config: config(), faults, expect: { verdict: "fail", checks: ["noLoss", "exactlyOnce"] } });
    expect(explicit.results.map((r) => [r.check, r.ok])).toEqual([
      ["noLoss", true],
      ["exactlyOnce", false],
    ]);
  });

  test("no-loss of an unfinished job is not applicable; determinism without a second run fails; the expected status is the scenario's", () => {
    const failed = run({ status: "FAILED", sinks: withSink("raw", (s) => ({ ...s, committed: [] })) });
    const j = judge({ plan, reference: ref, result: failed, config: config(), faults, expect: { verdict: "pass", jobStatus: "FAILED", checks: ["noLoss", "liveness", "determinism"] } });
    expect(j.results.map((r) => verdict(r))).toMatchInlineSnapshot(`
      [
        {
          "message": "not applicable: the job ended FAILED, so its output is incomplete",
          "ok": true,
        },
        {
          "message": "the job FAILED at 1200 ms, within 120000 ms of the last fault (400 ms)",
          "ok": true,
        },
        {
          "message": "the determinism check needs a second run of the same scenario, and none was given",
          "ok": false,
        },
      ]
    `);
    const rerun = judge({ plan, reference: ref, result: run(), config: config(), faults, rerun: run({ traceHash: "x" }), livenessBoundMs: 1 });
    expect(rerun.results.map((r) => [r.check, r.ok])).toMatchInlineSnapshot(`
      [
        [
          "exactlyOnce",
          true,
        ],
        [
          "noLoss",
          true,
        ],
        [
          "state",
          true,
        ],
        [
          "checkpointInvariants",
          true,
        ],
        [
          "noOpenTransactions",
          true,
        ],
        [
          "liveness",
          false,
        ],
        [
          "determinism",
          false,
        ],
      ]
    `);
  });
});

describe("edge cases the checks must get right", () => {
  const faults: FaultPlan = { faults: [{ at: 400, fault: "crash", node: "tm-1" }] };

  test("a summary with one failing check names no others", () => {
    const lost = withSink("out", (s) => ({ ...s, committed: s.committed.slice(1) }));
    const j = judge({ plan, reference: ref, result: run({ sinks: lost }), config: config(), faults });
    expect(j.summary).toMatchInlineSnapshot(`"fail: exactlyOnce: sink "out": record {"key":"k3","value":14} committed 1 time, expected 2 (partly lost); 1 record lost, 0 duplicated and 0 unexpected in all: committed 5 (5 distinct), expected 6 (5 distinct); last completed checkpoint before the first restore (at 1000 ms) was 2 (completed at 360 ms); faults: crash tm-1 at 400 ms"`);
  });

  test("AT_LEAST_ONCE: no-loss covers the two-phase-commit sinks too; explicit checks cover every sink in either mode", () => {
    const lost = withSink("out", (s) => ({ ...s, committed: [] }));
    const alo = judge({ plan, reference: ref, result: run({ sinks: lost }), config: config({ mode: "AT_LEAST_ONCE" }), faults });
    expect(alo.results.find((r) => r.check === "noLoss")?.message).toMatch(/^sink "out": record /);
    const eo = judge({ plan, reference: ref, result: run({ sinks: lost }), config: config(), faults, expect: { verdict: "fail", checks: ["noLoss"] } });
    expect(eo.results.map((r) => [r.check, r.ok])).toEqual([["noLoss", false]]);
    const eoDefault = judge({ plan, reference: ref, result: run({ sinks: lost }), config: config(), faults });
    expect(eoDefault.results.find((r) => r.check === "noLoss")?.ok).toBe(true);
  });

  test("the state check names the problems in key order, whatever order the run reports them in", () => {
    const bad = run({ finalState: [{ vertex: "sum", key: "a0", state: { v: 1 } }, ...ref.state.filter((e) => !(e.vertex === "sum" && e.key === "k2")), { vertex: "min", key: "b0", state: { v: 2 } }] });
    const r = checkState(ref, bad);
    expect((r.details as { problems: Array<{ vertex: string; key: string }> }).problems.map((p) => `${p.vertex}/${p.key}`)).toEqual(["min/b0", "sum/a0", "sum/k2"]);
  });

  test("lost keys of a running sink are listed in key order", () => {
    const none = withSink("sums", (s) => ({ ...s, committed: [] }));
    const r = checkNoLoss(ref, run({ sinks: none }), plan, { sinks: ["sums"] });
    expect(r.details).toMatchInlineSnapshot(`
      {
        "notes": [],
        "problems": [
          {
            "keys": [
              "k1",
              "k2",
              "k3",
            ],
            "problem": "lost key",
            "sink": "sums",
          },
        ],
        "total": 1,
      }
    `);
  });

  test("determinism compares summary events only, on both sides", () => {
    const detail: TraceEvent = { ...(goodTrace()[0] as TraceEvent), level: "full", kind: "record" };
    const a = run({ traceHash: "aaaa", trace: [detail, ...goodTrace()] });
    expect(checkDeterminism(a, run()).message).toMatchInlineSnapshot(`"two runs of the same scenario gave different trace hashes aaaa and 0123456789abcdef; the recorded traces agree (the difference is in unrecorded events)"`);
  });

  test("the end of the faults from the trace is the latest fault, fault end or restart", () => {
    events.seq = 0;
    const triggered: FaultPlan = { faults: [{ at: { after: "checkpoint-completed" }, fault: "crash", node: "tm-1" }] };
    expect(faultsEndMs(triggered, [ev(10, "x", "restart"), ev(40, "x", "fault-end"), ev(99, "jm", "crash")])).toBe(40);
    expect(faultsEndMs(triggered, [ev(10, "x", "restart"), ev(50, "x", "fault"), ev(99, "jm", "crash")])).toBe(50);
  });

  test("checkpoint events without an attempt field belong to the current attempt", () => {
    events.seq = 0;
    const t = [
      ev(0, "jm", "checkpoint-triggered", { id: 1 }),
      ev(5, "jm", "checkpoint-triggered", { id: 2 }),
      ev(10, "jm", "checkpoint-completed", { id: 2 }),
      ev(20, "jm", "checkpoint-triggered", { id: 3 }),
    ];
    // 2's trigger finds 1 pending; 2's completion subsumes 1, so nothing pends at 3's trigger.
    expect(checkCheckpointInvariants(run({ trace: t }), config({ maxConcurrent: 1 })).message).toMatchInlineSnapshot(`"checkpoint 2 triggered at 5 ms while 1 checkpoint (1) pended in attempt 0; maxConcurrent is 1; nothing was restored; the last completed checkpoint was 2 (completed at 10 ms); faults: none"`);
    expect(checkCheckpointInvariants(run({ trace: t }), config({ maxConcurrent: 2 })).ok).toBe(true);
    // An expired abort without an attempt field counts toward the current attempt.
    const counted = [ev(0, "jm", "checkpoint-triggered", { id: 1 }), ev(100, "jm", "checkpoint-aborted", { id: 1, reason: "expired: late", counted: true }), ev(200, "jm", "checkpoint-triggered", { id: 2 })];
    expect(checkCheckpointInvariants(run({ trace: counted }), config({ timeoutMs: 100 })).message).toMatchInlineSnapshot(`"checkpoint 2 triggered at 200 ms although 1 counted checkpoint failures exceeded tolerableFailures 0 at 100 ms; the job should have failed (2 more problems in details); no checkpoint completed and nothing was restored; faults: none"`);
  });

  test("a job status of a newer attempt, or a failover without an attempt, ends the pending checkpoints; CANCELED ends the job", () => {
    events.seq = 0;
    const base = [ev(0, "jm", "checkpoint-triggered", { id: 1, attempt: 0 })];
    expect(checkCheckpointInvariants(run({ trace: [...base, ev(50, "jm", "job-status", { status: "RESTARTING", attempt: 1 }), ev(60, "jm", "checkpoint-triggered", { id: 2, attempt: 1 })], endTimeMs: 100 }), config({ maxConcurrent: 1, timeoutMs: 100 })).ok).toBe(true);
    expect(checkCheckpointInvariants(run({ trace: [...base, ev(50, "jm", "job-status", { status: "RUNNING", attempt: 0 }), ev(60, "jm", "checkpoint-triggered", { id: 2, attempt: 0 })], endTimeMs: 100 }), config({ maxConcurrent: 1, timeoutMs: 100 })).ok).toBe(false);
    expect(checkCheckpointInvariants(run({ trace: [...base, ev(50, "jm", "failover", {}), ev(60, "jm", "checkpoint-triggered", { id: 2, attempt: 0 })], endTimeMs: 100 }), config({ maxConcurrent: 1, timeoutMs: 100 })).ok).toBe(true);
    expect(checkCheckpointInvariants(run({ trace: [...base, ev(50, "jm", "job-status", { status: "CANCELED" })], endTimeMs: 500 }), config({ timeoutMs: 100 })).ok).toBe(true);
    expect(checkCheckpointInvariants(run({ trace: [...base, ev(50, "jm", "job-status", { status: "FINISHED" })], endTimeMs: 500 }), config({ timeoutMs: 100 })).ok).toBe(true);
    // Exceeded failures and then CANCELED: the job did fail.
    const exceeded = [...base, ev(10, "jm", "checkpoint-aborted", { id: 1, attempt: 0, reason: "declined", counted: true })];
    expect(checkCheckpointInvariants(run({ trace: [...exceeded, ev(20, "jm", "job-status", { status: "CANCELED", attempt: 0 })] }), config({ tolerableFailures: 0 })).ok).toBe(true);
    expect(checkCheckpointInvariants(run({ trace: [...exceeded, ev(20, "jm", "job-status", { status: "RUNNING", attempt: 0 })] }), config({ tolerableFailures: 0 })).ok).toBe(false);
  });

  test("a transaction without a checkpoint id or tid is still checked for commit-once", () => {
    events.seq = 0;
    const t = [ev(0, "broker", "txn-committed", { epoch: 1, digest: "a" }), ev(1, "broker", "txn-committed", { epoch: 1, digest: "b" }), ev(2, "broker", "txn-aborted", { epoch: 1 })];
    expect(checkCheckpointInvariants(run({ trace: t }), config()).message).toMatchInlineSnapshot(`"transaction ? (epoch 1) committed again at 1 ms with different content (digest "b", first commit at 0 ms had "a") (1 more problem in details); no checkpoint completed and nothing was restored; faults: none"`);
  });
});

function canonical(v: JsonValue): string {
  return JSON.stringify(v);
}
