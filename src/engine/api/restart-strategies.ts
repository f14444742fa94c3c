/**
 * Flink's RestartStrategies: factories for the restart strategy of a job, as plan data. Each
 * factory validates its arguments and throws an ApiError naming the argument.
 */
import { validateRestartStrategy, type RestartStrategyData } from "../config.ts";
import { ApiError } from "./errors.ts";

/** A restart strategy, as data (what a scenario stores). */
export type RestartStrategyConfiguration = RestartStrategyData;

function checked<T extends RestartStrategyData>(r: T, call: string): T {
  const problem = validateRestartStrategy(r, call);
  if (problem !== undefined) throw new ApiError(problem);
  return r;
}

export const RestartStrategies = {
  /** The job fails at the first failure. */
  noRestart(): RestartStrategyConfiguration {
    return { kind: "none" };
  },
  /** Restart up to `attempts` times, waiting `delayMs` before each restart. */
  fixedDelayRestart(attempts: number, delayMs: number): RestartStrategyConfiguration {
    return checked({ kind: "fixedDelay", attempts, delayMs }, "fixedDelayRestart");
  },
  /** Restart after `delayMs` unless more than `maxFailuresPerInterval` failures happened within `intervalMs`. */
  failureRateRestart(maxFailuresPerInterval: number, intervalMs: number, delayMs: number): RestartStrategyConfiguration {
    return checked({ kind: "failureRate", maxFailuresPerInterval, intervalMs, delayMs }, "failureRateRestart");
  },
  /**
   * Restart after a backoff that starts at `initialBackoffMs` and grows by `multiplier` up to
   * `maxBackoffMs`; it resets after `resetThresholdMs` without failures; `jitterFactor` in [0, 1].
   */
  exponentialDelayRestart(
    initialBackoffMs: number,
    maxBackoffMs: number,
    multiplier: number,
    resetThresholdMs: number,
    jitterFactor: number,
  ): RestartStrategyConfiguration {
    return checked(
      { kind: "exponentialDelay", initialBackoffMs, maxBackoffMs, multiplier, resetThresholdMs, jitterFactor },
      "exponentialDelayRestart",
    );
  },
} as const;
