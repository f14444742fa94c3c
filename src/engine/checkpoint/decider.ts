/**
 * Pure checkpoint decisions, Flink's rules (CheckpointRequestDecider, CheckpointFailureManager).
 * No effects here: the coordinator asks, then carries the answer out. Unit tests drive these
 * without a simulation.
 */
import type { CheckpointConfigData } from "../config.ts";

export type TriggerDecision =
  | { readonly action: "trigger" }
  /** Too early after the last completion: try again after `delayMs`. */
  | { readonly action: "delay"; readonly delayMs: number }
  /** Not now (a trigger in progress, or max concurrent pending): queue and retry when a pending one ends. */
  | { readonly action: "queue"; readonly reason: "trigger-in-progress" | "too-many-concurrent" };

export type DeciderView = {
  readonly nowMs: number;
  readonly pendingCount: number;
  readonly triggerInProgress: boolean;
  /** Completion time of the last completed checkpoint (undefined: none yet). */
  readonly lastCompletionMs: number | undefined;
};

/** How long a trigger must still wait for the min pause after the last completion (<= 0: not at all). */
export function minPauseDelayMs(cfg: CheckpointConfigData, lastCompletionMs: number | undefined, nowMs: number): number {
  if (lastCompletionMs === undefined) return 0;
  return lastCompletionMs + cfg.minPauseMs - nowMs;
}

/** Decide a checkpoint request. `periodic` requests obey min pause; forced ones (final checkpoint) don't wait for it. */
export function decideTrigger(cfg: CheckpointConfigData, v: DeciderView, periodic: boolean): TriggerDecision {
  if (v.triggerInProgress) return { action: "queue", reason: "trigger-in-progress" };
  if (v.pendingCount >= cfg.maxConcurrent) return { action: "queue", reason: "too-many-concurrent" };
  if (periodic) {
    const delay = minPauseDelayMs(cfg, v.lastCompletionMs, v.nowMs);
    if (delay > 0) return { action: "delay", delayMs: delay };
  }
  return { action: "trigger" };
}

/** The interval actually used: the min pause when the interval is below it. */
export function effectiveIntervalMs(cfg: CheckpointConfigData): number {
  return Math.max(cfg.intervalMs, cfg.minPauseMs);
}

/** The first periodic trigger: a random delay between the min pause and the interval (Flink). */
export function initialTriggerDelayMs(cfg: CheckpointConfigData, uniform01: number): number {
  const lo = Math.min(cfg.minPauseMs, effectiveIntervalMs(cfg));
  const hi = effectiveIntervalMs(cfg);
  return lo + Math.floor(uniform01 * (hi - lo + 1));
}

export type FailureReason =
  | "expired"
  | "declined"
  | "io"
  | "async-snapshot"
  | "subsumed"
  | "min-pause"
  | "too-many-concurrent"
  | "tasks-not-ready"
  | "job-failover"
  | "job-finished"
  | "jobmanager-lost"
  | "finalize-failed";

/** Reasons Flink counts toward the tolerable failure number. */
export function isCountedFailure(reason: FailureReason): boolean {
  return reason === "expired" || reason === "declined" || reason === "io" || reason === "async-snapshot" || reason === "finalize-failed";
}

/**
 * Flink's CheckpointFailureManager: each checkpoint id is counted once, only if newer than the
 * last success; a newer success resets the count; the job fails when the count exceeds the
 * tolerable number.
 */
export class CheckpointFailureManager {
  private count = 0;
  private lastSucceededId = 0;
  private readonly countedIds = new Set<number>();

  constructor(readonly tolerable: number) {}

  get failureCount(): number {
    return this.count;
  }

  /** Returns true when the job must fail. */
  onFailure(id: number, reason: FailureReason): { counted: boolean; failJob: boolean } {
    if (!isCountedFailure(reason) || id <= this.lastSucceededId || this.countedIds.has(id)) {
      return { counted: false, failJob: false };
    }
    this.countedIds.add(id);
    this.count++;
    return { counted: true, failJob: this.count > this.tolerable };
  }

  /**
   * The job fails because the count exceeded the tolerable number: Flink clears the count before
   * failing the job (CheckpointFailureManager.checkFailureAgainstCounter), so the next attempt
   * again tolerates `tolerable` failures. Other failovers keep the count.
   */
  onJobFailed(): void {
    this.countedIds.clear();
    this.count = 0;
  }

  onSuccess(id: number): void {
    if (id <= this.lastSucceededId) return;
    this.lastSucceededId = id;
    this.count = 0;
    for (const c of [...this.countedIds]) if (c <= id) this.countedIds.delete(c);
  }
}
