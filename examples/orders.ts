/**
 * A user pipeline: count the orders of every account, exactly once, into a transactional topic.
 *
 *   orders (Kafka-like topic) -> filter amount > 0 -> keyBy account -> RunningCount -> order-counts
 *
 * RunningCount keeps its count in ValueState, so a restore brings it back with the checkpoint.
 * RunningCountInAField keeps it in a plain field: it passes every test without failures, and
 * checkExactlyOnce catches it (examples' test: src/testing/check-exactly-once.test.ts).
 *
 * Run it: `npx tsx examples/orders.ts` (prints the job result and the checkpoint table).
 */
import { pathToFileURL } from "node:url";
import {
  CheckpointingMode,
  KafkaSource,
  StreamExecutionEnvironment,
  TwoPhaseCommitSink,
  WatermarkStrategy,
  type Collector,
  type KeyedProcessFunction,
  type ProcessContext,
  type RuntimeContext,
  type Value,
  type ValueState,
} from "streamsim";
import type { GeneratedRecord } from "streamsim/testing";

/** An order on the "orders" topic. */
export type Order = { readonly account: string; readonly amount: number };

/** The number of (positive) orders an account has placed so far. */
export type OrderCount = { readonly account: string; readonly orders: number };

/** Counts the orders of each account in keyed ValueState: checkpointed, restored after a failure. */
export class RunningCount implements KeyedProcessFunction {
  private count: ValueState<number> | undefined;

  open(ctx: RuntimeContext): void {
    this.count = ctx.getState<number>("count");
  }

  processElement(_order: Value, ctx: ProcessContext, out: Collector): void {
    const orders = (this.count?.value() ?? 0) + 1;
    this.count?.update(orders);
    out.collect({ account: ctx.currentKey, orders } satisfies OrderCount);
  }
}

/** The bug: the count per account lives in a plain field, which no checkpoint contains. */
export class RunningCountInAField implements KeyedProcessFunction {
  private readonly counts = new Map<string, number>();

  processElement(_order: Value, ctx: ProcessContext, out: Collector): void {
    const orders = (this.counts.get(ctx.currentKey) ?? 0) + 1;
    this.counts.set(ctx.currentKey, orders);
    out.collect({ account: ctx.currentKey, orders } satisfies OrderCount);
  }
}

/** The pipeline, with the given counter (RunningCount by default). */
export function buildOrdersPipeline(env: StreamExecutionEnvironment, counter: KeyedProcessFunction = new RunningCount()): void {
  env
    .fromSource(KafkaSource.topic("orders"), WatermarkStrategy.forBoundedOutOfOrderness(50), "orders")
    .filter((o) => (o as Order).amount > 0)
    .name("PositiveOrders")
    .keyBy("account")
    .process(counter)
    .name("RunningCount")
    .sinkTo(TwoPhaseCommitSink.topic("order-counts"));
}

/** The same pipeline with the plain-field counter. */
export function buildBuggyOrdersPipeline(env: StreamExecutionEnvironment): void {
  buildOrdersPipeline(env, new RunningCountInAField());
}

/** How checkExactlyOnce's generated records become orders: key "k3" -> account "acct-3". */
export function orderRecord(r: GeneratedRecord): Order {
  return { account: `acct-${r.key.slice(1)}`, amount: r.value };
}

// ---- run it ----------------------------------------------------------------------------------

function main(): void {
  const env = StreamExecutionEnvironment.create({
    seed: 42,
    parallelism: 2,
    // A TaskManager crashes right after the second checkpoint completes, and comes back 100 ms later.
    faults: { faults: [{ at: { after: "checkpoint-completed", nth: 2, delayMs: 1 }, fault: "crash", node: "tm-1", restartAfterMs: 100 }] },
  });
  env.enableCheckpointing(50, CheckpointingMode.EXACTLY_ONCE);
  // 2 partitions of 300 orders over 5 accounts; every record costs the counter 0.5 ms.
  const orders = [0, 1].map((p) =>
    Array.from({ length: 300 }, (_, i) => ({ value: { account: `acct-${(i * 7 + p) % 5}`, amount: 1 + ((i + p) % 9) }, ts: i * 5 })),
  );
  env
    .fromSource(KafkaSource.topic("orders").partitions(orders), WatermarkStrategy.forBoundedOutOfOrderness(50), "orders")
    .keyBy("account")
    .process(new RunningCount())
    .name("RunningCount")
    .setCostMsPerRecord(0.5)
    .sinkTo(TwoPhaseCommitSink.topic("order-counts"));
  const result = env.execute("orders");
  console.log(result.summary());
  console.log();
  console.log(result.checkpointTable());
  const last = new Map<string, number>();
  for (const c of result.committed("order-counts") as OrderCount[]) last.set(c.account, Math.max(last.get(c.account) ?? 0, c.orders));
  console.log();
  console.log("orders per account:", Object.fromEntries([...last.entries()].sort()));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
