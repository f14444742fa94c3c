/**
 * Flink's WatermarkStrategy, for the event time of source records. Record timestamps are the
 * broker records' timestamps (`InputRecord.ts`, as Kafka record timestamps); the strategy sets how
 * far watermarks trail them. Watermarks are computed per partition by the source, as Flink's Kafka
 * source does.
 */
import { ApiError } from "./errors.ts";

export class WatermarkStrategy {
  private constructor(
    /** Bounded out-of-orderness in ms, or null for no watermarks (event-time windows and timers then fire only at the end of input). */
    readonly outOfOrdernessMs: number | null,
  ) {}

  /** Watermarks trail the largest timestamp seen by `maxOutOfOrdernessMs`. */
  static forBoundedOutOfOrderness(maxOutOfOrdernessMs: number): WatermarkStrategy {
    if (!(Number.isFinite(maxOutOfOrdernessMs) && maxOutOfOrdernessMs >= 0))
      throw new ApiError(`WatermarkStrategy.forBoundedOutOfOrderness: max out-of-orderness must be a finite number of ms >= 0, got ${maxOutOfOrdernessMs}`);
    return new WatermarkStrategy(maxOutOfOrdernessMs);
  }
  /** Timestamps only grow: watermarks follow the largest timestamp. */
  static forMonotonousTimestamps(): WatermarkStrategy {
    return new WatermarkStrategy(0);
  }
  static noWatermarks(): WatermarkStrategy {
    return new WatermarkStrategy(null);
  }
}
