import { describe, expect, test } from "vitest";
import { parseScenario, serializeScenario } from "../../scenario-schema.ts";
import type { KeyedProcessFunction, ProcessContext, Collector, Value, RuntimeContext, ValueState } from "../plan/functions.ts";
import type { InputRecord } from "../plan/plan.ts";
import {
  ApiError,
  CheckpointingMode,
  KafkaSource,
  PlainSink,
  RestartStrategies,
  SlidingEventTimeWindows,
  StreamExecutionEnvironment,
  TumblingEventTimeWindows,
  TwoPhaseCommitSink,
  UpsertSink,
  WatermarkStrategy,
  closureNames,
  copyInstance,
  formatCheckpointTable,
} from "./index.ts";

const recs = (values: number[], key = "a"): InputRecord[] => values.map((v, i) => ({ value: { key, value: v }, ts: i * 10 }));

describe("building a plan", () => {
  test("edges default to forward between equal parallelisms and rebalance otherwise, and keyBy makes hash edges", () => {
    const env = StreamExecutionEnvironment.create({ parallelism: 2 });
    env
      .fromSource(KafkaSource.topic("in").records(recs([1])), WatermarkStrategy.noWatermarks(), "in")
      .map("identity")
      .map({ fn: "affine", args: { a: 2, b: 1 } })
      .setParallelism(3)
      .keyBy("key")
      .sum()
      .sinkTo(TwoPhaseCommitSink.topic("out"));
    const plan = env.getPlan();
    expect(plan.nodes.map((n) => [n.id, n.kind, n.parallelism, n.inputs.map((e) => e.partition).join(",")])).toEqual([
      ["in", "source", 2, ""],
      ["map-2", "map", 2, "forward"],
      ["map-3", "map", 3, "rebalance"],
      ["reduce-4", "reduce", 2, "hash"],
      ["out", "sink", 2, "forward"],
    ]);
    expect(plan.nodes[3]?.inputs[0]?.key).toEqual({ fn: "field", args: { name: "key" } });
    expect(closureNames(plan)).toEqual([]);
  });

  test("ids come from uid, then name, then the sink's topic, and are made unique", () => {
    const env = StreamExecutionEnvironment.create();
    const s = env.fromCollection(recs([1]), { name: "My Source!" });
    s.map("identity").name("step").sinkTo(PlainSink.topic("a"));
    s.map("identity").name("step").sinkTo(PlainSink.topic("b")).uid("sink-b");
    expect(env.getPlan().nodes.map((n) => n.id)).toEqual(["My-Source", "step", "a", "step-2", "sink-b"]);
    expect(() => s.map("identity").uid("bad id")).toThrow(new ApiError("uid: use letters, digits, '_', '-' and '.' only, got \"bad id\""));
  });

  test("a stream that reaches no sink is not part of the job, and a job without a sink is rejected", () => {
    const env = StreamExecutionEnvironment.create();
    const s = env.fromElements({ key: "a", value: 1 });
    s.map("abs");
    expect(() => env.getPlan()).toThrow(/the pipeline has no sink/);
    s.filter("all").sinkTo(PlainSink.topic("out"));
    expect(env.getPlan().nodes.map((n) => n.kind)).toEqual(["source", "filter", "sink"]);
  });

  test("union feeds one operator from several streams, each keeping its partitioning", () => {
    const env = StreamExecutionEnvironment.create({ parallelism: 2 });
    const a = env.fromCollection([recs([1]), recs([2])], { topic: "a", name: "a" });
    const b = env.fromCollection(recs([3]), { topic: "b", name: "b" }).rebalance();
    a.union(b).keyBy("key").reduce("sumValue").sinkTo(UpsertSink.topic("t", "key"));
    const plan = env.getPlan();
    const reduce = plan.nodes.find((n) => n.kind === "reduce");
    expect(reduce?.inputs.map((e) => [e.from, e.partition])).toEqual([
      ["a", "hash"],
      ["b", "hash"],
    ]);
    const c = env.fromCollection(recs([4]), { topic: "c", name: "c" });
    a.union(c.rebalance()).map("identity").name("m").sinkTo(PlainSink.topic("u"));
    expect(env.getPlan().nodes.find((n) => n.id === "m")?.inputs.map((e) => e.partition)).toEqual(["forward", "rebalance"]);
    expect(env.getInputs().map((t) => [t.topic, t.partitions.length])).toEqual([
      ["a", 2],
      ["b", 1],
      ["c", 1],
    ]);
  });

  test("closures are registered under generated names in build order, so two builds give the same plan", () => {
    const build = (): StreamExecutionEnvironment => {
      const env = StreamExecutionEnvironment.create();
      env
        .fromElements({ key: "a", value: 1 })
        .map((v) => v)
        .filter(() => true)
        .keyBy((v) => String((v as { key: string }).key))
        .reduce((x, y) => ({ ...(x as object), value: (x as { value: number }).value + (y as { value: number }).value }))
        .sinkTo(TwoPhaseCommitSink.topic("out"));
      return env;
    };
    const a = build();
    expect(closureNames(a.getPlan())).toEqual(["closure:1", "closure:2", "closure:3", "closure:4"]);
    expect(a.usesClosures()).toBe(true);
    expect(JSON.stringify(build().getPlan())).toBe(JSON.stringify(a.getPlan()));
  });

  test("assignTimestampsAndWatermarks sets the watermarks of the source it follows, and is refused elsewhere", () => {
    const env = StreamExecutionEnvironment.create();
    const s = env.fromCollection(recs([1, 2])).assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness(25));
    const m = s.map("identity");
    m.sinkTo(PlainSink.topic("out"));
    expect(env.getPlan().nodes[0]).toMatchObject({ kind: "source", watermark: { outOfOrdernessMs: 25 } });
    expect(() => m.assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps())).toThrow(/makes watermarks in sources only/);
  });

  test("a builtin-only job serializes as a scenario that parses back unchanged", () => {
    const env = StreamExecutionEnvironment.create({ seed: 5, parallelism: 2, cluster: { taskManagers: 3 } });
    env.enableCheckpointing(100, CheckpointingMode.AT_LEAST_ONCE);
    env.getCheckpointConfig().setCheckpointTimeout(5000).setNumRetainedCheckpoints(2);
    env.setRestartStrategy(RestartStrategies.exponentialDelayRestart(10, 100, 2, 1000, 0.1));
    env
      .fromSource(KafkaSource.topic("in").partitions([recs([1, 2]), recs([3])]), WatermarkStrategy.forBoundedOutOfOrderness(5), "in")
      .keyBy("key")
      .window(SlidingEventTimeWindows.of(20, 10))
      .sum()
      .sinkTo(UpsertSink.topic("w", { fn: "field", args: { name: "key" } }));
    const s = env.toScenario("round-trip");
    expect(s.cluster.taskManagers).toBe(3);
    expect(s.config.checkpoint).toMatchObject({ intervalMs: 100, mode: "AT_LEAST_ONCE", timeoutMs: 5000, retained: 2 });
    const parsed = parseScenario(serializeScenario(s), "round-trip.json");
    expect(parsed).toEqual({ ok: true, scenario: s });
  });
});

describe("running a job", () => {
  test("tumbling windows with a closure reduce and the builtin count emit the exact window results", () => {
    const env = StreamExecutionEnvironment.create();
    env.enableCheckpointing(10);
    const s = env.fromSource(KafkaSource.topic("in").records(recs([1, 2, 3, 4, 5])), WatermarkStrategy.forMonotonousTimestamps(), "in").keyBy("key");
    // ts 0, 10, 20, 30, 40 in windows of 20 ms: [0, 20) holds 1 and 2, [20, 40) 3 and 4, [40, 60) 5.
    s.window(TumblingEventTimeWindows.of(20))
      .reduce((a, b) => ({ key: (a as { key: string }).key, value: (a as { value: number }).value + (b as { value: number }).value }))
      .sinkTo(TwoPhaseCommitSink.topic("sums"));
    s.window(TumblingEventTimeWindows.of(20)).count().sinkTo(TwoPhaseCommitSink.topic("counts"));
    const r = env.execute("windows");
    expect(r.status).toBe("FINISHED");
    expect(r.committed("sums")).toEqual([
      { key: "a", value: 3 },
      { key: "a", value: 7 },
      { key: "a", value: 5 },
    ]);
    expect(r.committed("counts")).toEqual([
      { key: "a", value: 2, windowStart: 0, windowEnd: 20 },
      { key: "a", value: 2, windowStart: 20, windowEnd: 40 },
      { key: "a", value: 1, windowStart: 40, windowEnd: 60 },
    ]);
    expect(r.judgement.verdict).toBe("pass");
    expect(() => r.committed("nope")).toThrow(/no sink "nope"/);
  });

  test("a process function instance is copied per deployment, so a field starts from its initial value", () => {
    class Counter implements KeyedProcessFunction {
      seen = 0;
      state: ValueState<number> | undefined;
      open(ctx: RuntimeContext): void {
        this.state = ctx.getState<number>("n");
      }
      processElement(_v: Value, ctx: ProcessContext, out: Collector): void {
        this.seen++;
        const n = (this.state?.value() ?? 0) + 1;
        this.state?.update(n);
        out.collect({ key: ctx.currentKey, value: n, seen: this.seen });
      }
    }
    const template = new Counter();
    template.seen = 100;
    const env = StreamExecutionEnvironment.create();
    env.enableCheckpointing(10);
    env.fromCollection(recs([1, 1, 1])).keyBy("key").process(template).sinkTo(TwoPhaseCommitSink.topic("out"));
    const r = env.execute();
    expect(r.committed("out")).toEqual([
      { key: "a", value: 1, seen: 101 },
      { key: "a", value: 2, seen: 102 },
      { key: "a", value: 3, seen: 103 },
    ]);
    // The instance passed in is never run.
    expect(template.seen).toBe(100);
    const copy = copyInstance(template, new Map(), 0);
    expect(copy).toBeInstanceOf(Counter);
    expect(copy).not.toBe(template);
  });

  test("the checkpoint table lists every checkpoint with its status, timing and failure", () => {
    const env = StreamExecutionEnvironment.create();
    env.enableCheckpointing(10);
    env.fromCollection(recs(Array.from({ length: 50 }, (_, i) => i))).map("identity").setCostMsPerRecord(1).sinkTo(TwoPhaseCommitSink.topic("out"));
    const r = env.execute();
    const table = r.checkpointTable().split("\n");
    expect(table[0]).toMatch(/^checkpoint +status +attempt +triggered +duration +state +max alignment +failure$/);
    expect(table.length).toBe(r.checkpoints.length + 1);
    expect(table[1]).toMatch(/^1 +COMPLETED +0 +[\d.]+ ms/);
    expect(formatCheckpointTable([])).toBe("no checkpoints");
    expect(r.summary()).toContain(`job "job": FINISHED`);
  });
});
