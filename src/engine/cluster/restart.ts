/**
 * Restart strategies (Flink's RestartBackoffTimeStrategy implementations), as pure state machines:
 * `onFailure(nowMs)` records a failure and says whether to restart and after how long.
 */
import type { RestartStrategyData } from "../config.ts";

export type RestartDecision = { readonly restart: true; readonly delayMs: number } | { readonly restart: false; readonly reason: string };

export interface RestartStrategy {
  onFailure(nowMs: number, uniform01: number): RestartDecision;
}

export function createRestartStrategy(d: RestartStrategyData): RestartStrategy {
  switch (d.kind) {
    case "none":
      return { onFailure: () => ({ restart: false, reason: "restart strategy is none" }) };
    case "fixedDelay": {
      let failures = 0;
      return {
        onFailure: () => {
          failures++;
          return failures <= d.attempts
            ? { restart: true, delayMs: d.delayMs }
            : { restart: false, reason: `fixed-delay restart attempts exhausted (${d.attempts})` };
        },
      };
    }
    case "failureRate": {
      const times: number[] = [];
      return {
        onFailure: (now) => {
          times.push(now);
          while (times.length > 0 && (times[0] as number) <= now - d.intervalMs) times.shift();
          return times.length <= d.maxFailuresPerInterval
            ? { restart: true, delayMs: d.delayMs }
            : { restart: false, reason: `more than ${d.maxFailuresPerInterval} failures within ${d.intervalMs} ms` };
        },
      };
    }
    case "exponentialDelay": {
      let backoff = 0;
      let lastFailure: number | undefined;
      return {
        onFailure: (now, u) => {
          if (lastFailure !== undefined && now - lastFailure >= d.resetThresholdMs) backoff = 0;
          lastFailure = now;
          backoff = backoff === 0 ? d.initialBackoffMs : Math.min(d.maxBackoffMs, backoff * d.multiplier);
          const jitter = backoff * d.jitterFactor * (2 * u - 1);
          return { restart: true, delayMs: Math.max(0, Math.round(backoff + jitter)) };
        },
      };
    }
  }
}
