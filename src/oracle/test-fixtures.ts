/**
 * Fixtures shared by the checkers' tests (checkers.test.ts: which runs pass and fail;
 * checkers-messages.test.ts: what a failure says). Each file keeps its own plan, input and trace;
 * the way a run result is made from them lives here once.
 */
import type { CheckpointConfigData, JobConfigData } from "../engine/config.ts";
import { defaultJobConfig } from "../engine/config.ts";
import type { FnRef, Inputs, Plan } from "../engine/plan/plan.ts";
import type { RunResult, SinkOutput } from "../engine/result.ts";
import type { JsonValue, TraceData, TraceEvent } from "../sim/trace.ts";
import { interpret, type Reference } from "./reference.ts";

export const byKey: FnRef = { fn: "field", args: { name: "key" } };

/** An input record `{ key, value }` at event time `ts`. */
export const rec = (key: string, value: number, ts: number) => ({ value: { key, value }, ts });

/** A committed record `{ key, value }`. */
export const kv = (key: string, value: number): JsonValue => ({ key, value });

/** Trace events numbered in the order they are made; set `seq` to start a trace over. */
export class Events {
  seq = 0;
  readonly ev = (time: number, node: string, kind: string, data: TraceData = {}): TraceEvent => ({ seq: this.seq++, time, node, kind, level: "summary", data });
}

/** The job configuration with a 100 ms interval and the given checkpoint options. */
export const config = (cp: Partial<CheckpointConfigData> = {}): JobConfigData => ({
  ...defaultJobConfig,
  checkpoint: { ...defaultJobConfig.checkpoint, intervalMs: 100, ...cp },
});

export type Fixture = {
  readonly plan: Plan;
  readonly ref: Reference;
  /** A sink's output with the kind its plan node has. */
  sinkOutput(vertex: string, committed: JsonValue[], table?: Array<[string, JsonValue]>): SinkOutput;
  /** What a correct run commits: the reference's own records, in another (reversed) order. */
  correctSinks(): SinkOutput[];
  /** A finished run with the correct sinks and state and the fixture's good trace, with `over` on top. */
  run(over?: Partial<RunResult>): RunResult;
};

/** The reference of `plan` over `inputs`, and correct runs of it whose trace is `goodTrace()`. */
export function fixture(plan: Plan, inputs: Inputs, goodTrace: () => TraceEvent[]): Fixture {
  const ref = interpret(plan, inputs);
  const sinkOutput = (vertex: string, committed: JsonValue[], table?: Array<[string, JsonValue]>): SinkOutput => {
    const node = plan.nodes.find((n) => n.id === vertex);
    const kind = node?.kind === "sink" ? node.sink : "plain";
    return { vertex, topic: vertex, kind, committed, ...(table !== undefined ? { table } : {}) };
  };
  const correctSinks = (): SinkOutput[] =>
    ref.sinks.map((s) => sinkOutput(s.vertex, [...s.records].reverse(), s.table === null ? undefined : s.table.map((row): [string, JsonValue] => [row.key, row.value])));
  const run = (over: Partial<RunResult> = {}): RunResult => ({
    status: "FINISHED",
    failureReason: null,
    boundExceeded: null,
    endTimeMs: 1200,
    events: 1000,
    traceHash: "0123456789abcdef",
    sinks: correctSinks(),
    finalState: ref.state,
    checkpoints: [],
    restores: [],
    openTransactions: [],
    trace: goodTrace(),
    faultPoints: [],
    ...over,
  });
  return { plan, ref, sinkOutput, correctSinks, run };
}
