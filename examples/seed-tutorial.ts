/**
 * The seed tutorial's checkpoint configuration (a Flink tutorial on debugging checkpoints, in
 * Chinese), translated line by line into streamsim's API, then used on a small job: a sliding
 * event-time sum per key (the tutorial's "sliding window model") written to a two-phase-commit
 * sink. A TaskManager crashes after the second checkpoint, so the table shows the restore.
 *
 * Run it: `npx tsx examples/seed-tutorial.ts`
 *
 * The Java, as in the tutorial:
 *
 *   StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
 *   env.enableCheckpointing(1000);
 *   env.getCheckpointConfig().setCheckpointingMode(CheckpointingMode.EXACTLY_ONCE);
 *   env.getCheckpointConfig().setCheckpointTimeout(60000);
 *   env.getCheckpointConfig().setMinPauseBetweenCheckpoints(500);
 *   env.getCheckpointConfig().setMaxConcurrentCheckpoints(1);
 */
import {
  CheckpointingMode,
  KafkaSource,
  SlidingEventTimeWindows,
  StreamExecutionEnvironment,
  TwoPhaseCommitSink,
  WatermarkStrategy,
  type InputRecord,
} from "streamsim";

const env = StreamExecutionEnvironment.getExecutionEnvironment();

// Checkpoint every 1000 ms.
env.enableCheckpointing(1000);

// EXACTLY_ONCE (the default): barriers are aligned, so every checkpoint is a consistent cut.
env.getCheckpointConfig().setCheckpointingMode(CheckpointingMode.EXACTLY_ONCE);

// A checkpoint not completed within 60000 ms is aborted (expired).
env.getCheckpointConfig().setCheckpointTimeout(60000);

// At least 500 ms from the completion of one checkpoint to the start of the next.
env.getCheckpointConfig().setMinPauseBetweenCheckpoints(500);

// At most one checkpoint in progress: none starts before the previous one ends.
env.getCheckpointConfig().setMaxConcurrentCheckpoints(1);

// ---- a job to checkpoint ------------------------------------------------------------------

// tm-0 crashes 10 ms after checkpoint 2 completes and restarts 200 ms later; the job restores checkpoint 2.
env.setFaultPlan({ faults: [{ at: { after: "checkpoint-completed", nth: 2, delayMs: 10 }, fault: "crash", node: "tm-0", restartAfterMs: 200 }] });

// Sensor readings on 2 partitions: 2500 each, one every 10 ms of event time, 4 sensors.
const readings: InputRecord[][] = [0, 1].map((p) =>
  Array.from({ length: 2500 }, (_, i) => ({ value: { key: `sensor-${(i + 2 * p) % 4}`, value: (i % 7) + 1 }, ts: i * 10 })),
);

env
  .fromSource(KafkaSource.topic("readings").partitions(readings), WatermarkStrategy.forBoundedOutOfOrderness(100), "readings")
  .keyBy("key")
  // The total of each sensor over the last 1000 ms of event time, every 500 ms.
  .window(SlidingEventTimeWindows.of(1000, 500))
  .sum()
  .name("SlidingSum")
  // About 1 ms of work per reading, so the job runs long enough to take a few checkpoints.
  .setCostMsPerRecord(1)
  .sinkTo(TwoPhaseCommitSink.topic("totals"));

const result = env.execute("seed-tutorial");

console.log(result.summary());
console.log();
console.log(result.checkpointTable());
console.log();
for (const r of result.restores) console.log(`restore at ${r.timeMs.toFixed(1)} ms from checkpoint ${r.checkpointId ?? "none (from scratch)"} (attempt ${r.attempt})`);
console.log(`committed window totals: ${result.committed("totals").length}`);
