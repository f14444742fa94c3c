/**
 * Sources and sinks on the simulated log broker (Kafka-like topics with partitions).
 *
 * Sources: `KafkaSource.topic("orders").partitions([[...], [...]])` reads a topic whose input
 * records (value and event timestamp) are given per partition; they become the scenario's input.
 * Partition p is read by source subtask p % parallelism.
 *
 * Sinks: `TwoPhaseCommitSink.topic(t)` (Kafka transactions, exactly-once with EXACTLY_ONCE),
 * `UpsertSink.topic(t, key)` (an idempotent upsert table keyed by `key`), `PlainSink.topic(t)`
 * (non-transactional appends: at-least-once).
 */
import type { InputRecord, SinkKind } from "../plan/plan.ts";
import type { JsonValue } from "../../sim/trace.ts";
import { ApiError } from "./errors.ts";
import type { KeySelectorSpec } from "./functions.ts";

const topicName = (topic: string, call: string): string => {
  if (typeof topic !== "string" || topic.length === 0) throw new ApiError(`${call}: topic must be a non-empty topic name, got ${JSON.stringify(topic)}`);
  return topic;
};

export function checkRecords(partitions: readonly (readonly InputRecord[])[], call: string): void {
  if (partitions.length === 0) throw new ApiError(`${call}: a topic needs at least one partition`);
  partitions.forEach((records, p) =>
    records.forEach((r, i) => {
      if (typeof r !== "object" || r === null || !("value" in r))
        throw new ApiError(`${call}: partition ${p} record ${i} must be { value, ts }, got ${JSON.stringify(r)}`);
      if (!(Number.isInteger(r.ts) && r.ts >= 0))
        throw new ApiError(`${call}: partition ${p} record ${i} needs an integer timestamp ts >= 0, got ${JSON.stringify(r.ts)}`);
    }),
  );
}

/** A Kafka-like source: a topic and, optionally, the records on it. */
export class KafkaSource {
  private constructor(
    readonly topicName: string,
    /** The topic's records per partition; null: none given (empty, or supplied by checkExactlyOnce). */
    readonly data: ReadonlyArray<readonly InputRecord[]> | null,
  ) {}

  static topic(topic: string): KafkaSource {
    return new KafkaSource(topicName(topic, "KafkaSource.topic"), null);
  }

  /** The topic's records, per partition, in offset order. */
  partitions(partitions: ReadonlyArray<readonly InputRecord[]>): KafkaSource {
    checkRecords(partitions, `KafkaSource "${this.topicName}".partitions`);
    return new KafkaSource(this.topicName, partitions.map((p) => [...p]));
  }

  /** The topic's records, in one partition. */
  records(records: readonly InputRecord[]): KafkaSource {
    return this.partitions([records]);
  }

  /** Values with timestamps 0, 1, 2 ... in one partition. */
  values(values: readonly JsonValue[]): KafkaSource {
    return this.records(values.map((value, ts) => ({ value, ts })));
  }
}

/** What `sinkTo` accepts. */
export type Sink = {
  readonly kind: SinkKind;
  readonly topic: string;
  /** Upsert sinks: the table's key. */
  readonly key?: KeySelectorSpec;
};

export const TwoPhaseCommitSink = {
  /** Writes into broker transactions, committed when a checkpoint completes (Flink's TwoPhaseCommitSinkFunction). */
  topic(topic: string): Sink {
    return { kind: "twoPhaseCommit", topic: topicName(topic, "TwoPhaseCommitSink.topic") };
  },
} as const;

export const UpsertSink = {
  /** Idempotent writes into a table keyed by `key` (a field name, a key selector or a registry reference). */
  topic(topic: string, key: KeySelectorSpec): Sink {
    if (key === undefined) throw new ApiError("UpsertSink.topic: an upsert sink needs the key of its table");
    return { kind: "upsert", topic: topicName(topic, "UpsertSink.topic"), key };
  },
} as const;

export const PlainSink = {
  /** Non-transactional appends, flushed on every checkpoint barrier: at-least-once. */
  topic(topic: string): Sink {
    return { kind: "plain", topic: topicName(topic, "PlainSink.topic") };
  },
} as const;
