import { describe, expect, test } from "vitest";
import { defaultCheckpointConfig, type CheckpointConfigData } from "../config.ts";
import { createRestartStrategy } from "../cluster/restart.ts";
import {
  CheckpointFailureManager,
  decideTrigger,
  effectiveIntervalMs,
  initialTriggerDelayMs,
  isCountedFailure,
  minPauseDelayMs,
  type DeciderView,
} from "./decider.ts";

const cfg = (c: Partial<CheckpointConfigData> = {}): CheckpointConfigData => ({ ...defaultCheckpointConfig, intervalMs: 100, ...c });
const view = (v: Partial<DeciderView> = {}): DeciderView => ({ nowMs: 1000, pendingCount: 0, triggerInProgress: false, lastCompletionMs: undefined, ...v });

describe("decideTrigger (CheckpointRequestDecider)", () => {
  test("triggers when nothing stands in the way", () => {
    expect(decideTrigger(cfg(), view(), true)).toEqual({ action: "trigger" });
  });

  test("queues while another trigger is in progress", () => {
    expect(decideTrigger(cfg({ maxConcurrent: 3 }), view({ triggerInProgress: true }), true)).toEqual({ action: "queue", reason: "trigger-in-progress" });
  });

  test("queues at max concurrent pending checkpoints, and not below it", () => {
    expect(decideTrigger(cfg({ maxConcurrent: 2 }), view({ pendingCount: 2 }), true)).toEqual({ action: "queue", reason: "too-many-concurrent" });
    expect(decideTrigger(cfg({ maxConcurrent: 2 }), view({ pendingCount: 1 }), true)).toEqual({ action: "trigger" });
  });

  test("minPauseDelayMs: what is left of the min pause after the last completion, none before a first completion", () => {
    expect(minPauseDelayMs(cfg({ minPauseMs: 300 }), 800, 1000)).toBe(100);
    expect(minPauseDelayMs(cfg({ minPauseMs: 300 }), 800, 1200)).toBeLessThanOrEqual(0);
    expect(minPauseDelayMs(cfg({ minPauseMs: 300 }), undefined, 1000)).toBe(0);
  });

  test("the min pause counts from the last completion: too early gives the remaining delay", () => {
    const c = cfg({ minPauseMs: 300 });
    expect(decideTrigger(c, view({ nowMs: 1000, lastCompletionMs: 800 }), true)).toEqual({ action: "delay", delayMs: 100 });
    expect(decideTrigger(c, view({ nowMs: 1100, lastCompletionMs: 800 }), true)).toEqual({ action: "trigger" });
    expect(decideTrigger(c, view({ nowMs: 1000, lastCompletionMs: undefined }), true)).toEqual({ action: "trigger" });
  });

  test("a forced (non-periodic) request does not wait for the min pause, but still for concurrency", () => {
    const c = cfg({ minPauseMs: 300 });
    expect(decideTrigger(c, view({ nowMs: 1000, lastCompletionMs: 900 }), false)).toEqual({ action: "trigger" });
    expect(decideTrigger(c, view({ pendingCount: 1 }), false)).toEqual({ action: "queue", reason: "too-many-concurrent" });
  });
});

describe("intervals", () => {
  test("an interval below the min pause is raised to the min pause", () => {
    expect(effectiveIntervalMs(cfg({ intervalMs: 100, minPauseMs: 500 }))).toBe(500);
    expect(effectiveIntervalMs(cfg({ intervalMs: 700, minPauseMs: 500 }))).toBe(700);
  });

  test("the first trigger comes between the min pause and the interval", () => {
    const c = cfg({ intervalMs: 1000, minPauseMs: 200 });
    expect(initialTriggerDelayMs(c, 0)).toBe(200);
    expect(initialTriggerDelayMs(c, 0.999999)).toBe(1000);
    const mid = initialTriggerDelayMs(c, 0.5);
    expect(mid).toBeGreaterThan(200);
    expect(mid).toBeLessThan(1000);
  });
});

describe("CheckpointFailureManager", () => {
  test("Flink counts expired, declined, I/O and finalize failures, not subsumed, failover or finished", () => {
    for (const r of ["expired", "declined", "io", "async-snapshot", "finalize-failed"] as const) expect(isCountedFailure(r)).toBe(true);
    for (const r of ["subsumed", "min-pause", "too-many-concurrent", "tasks-not-ready", "job-failover", "job-finished", "jobmanager-lost"] as const)
      expect(isCountedFailure(r)).toBe(false);
  });

  test("the job fails when the count exceeds the tolerable number, not when it reaches it", () => {
    const m = new CheckpointFailureManager(2);
    expect(m.onFailure(1, "expired")).toEqual({ counted: true, failJob: false });
    expect(m.onFailure(2, "declined")).toEqual({ counted: true, failJob: false });
    expect(m.onFailure(3, "io")).toEqual({ counted: true, failJob: true });
    expect(m.failureCount).toBe(3);
  });

  test("each checkpoint id is counted once", () => {
    const m = new CheckpointFailureManager(0);
    expect(m.onFailure(5, "declined").counted).toBe(true);
    expect(m.onFailure(5, "expired")).toEqual({ counted: false, failJob: false });
    expect(m.failureCount).toBe(1);
  });

  test("a newer success resets the count; failures of ids older than the last success are not counted", () => {
    const m = new CheckpointFailureManager(1);
    m.onFailure(1, "expired");
    m.onSuccess(2);
    expect(m.failureCount).toBe(0);
    expect(m.onFailure(1, "expired")).toEqual({ counted: false, failJob: false });
    expect(m.onFailure(2, "declined")).toEqual({ counted: false, failJob: false });
    expect(m.onFailure(3, "expired")).toEqual({ counted: true, failJob: false });
  });

  test("an older success does not reset the count", () => {
    const m = new CheckpointFailureManager(5);
    m.onSuccess(4);
    m.onFailure(5, "expired");
    m.onFailure(6, "expired");
    m.onSuccess(3);
    expect(m.failureCount).toBe(2);
  });

  test("failing the job for the threshold clears the count, as Flink does before failJob, so the next attempt tolerates as many again", () => {
    const m = new CheckpointFailureManager(1);
    m.onFailure(1, "expired");
    expect(m.onFailure(2, "declined").failJob).toBe(true);
    m.onJobFailed();
    expect(m.failureCount).toBe(0);
    expect(m.onFailure(3, "expired")).toEqual({ counted: true, failJob: false });
    expect(m.onFailure(4, "expired")).toEqual({ counted: true, failJob: true });
  });

  test("a repeated success of the same checkpoint does not reset the count again", () => {
    const m = new CheckpointFailureManager(5);
    m.onSuccess(3);
    m.onFailure(4, "expired");
    m.onSuccess(3);
    expect(m.failureCount).toBe(1);
  });

  test("uncounted reasons never fail the job", () => {
    const m = new CheckpointFailureManager(0);
    expect(m.onFailure(1, "subsumed")).toEqual({ counted: false, failJob: false });
    expect(m.failureCount).toBe(0);
  });
});

describe("restart strategies", () => {
  test("none never restarts, and says so", () => {
    expect(createRestartStrategy({ kind: "none" }).onFailure(0, 0.5)).toEqual({ restart: false, reason: "restart strategy is none" });
  });

  test("the reasons for giving up name the limit", () => {
    const f = createRestartStrategy({ kind: "fixedDelay", attempts: 0, delayMs: 1 });
    expect(f.onFailure(0, 0.5)).toEqual({ restart: false, reason: "fixed-delay restart attempts exhausted (0)" });
    const r = createRestartStrategy({ kind: "failureRate", maxFailuresPerInterval: 1, intervalMs: 100, delayMs: 5 });
    r.onFailure(0, 0.5);
    expect(r.onFailure(99, 0.5)).toEqual({ restart: false, reason: "more than 1 failures within 100 ms" });
  });

  test("a failure exactly one interval after another is outside the failure-rate window", () => {
    const s = createRestartStrategy({ kind: "failureRate", maxFailuresPerInterval: 1, intervalMs: 100, delayMs: 5 });
    expect(s.onFailure(1000, 0.5).restart).toBe(true);
    expect(s.onFailure(1100, 0.5).restart).toBe(true);
  });

  test("exponential delay resets after exactly the quiet threshold, measured from the previous failure", () => {
    const s = createRestartStrategy({ kind: "exponentialDelay", initialBackoffMs: 10, maxBackoffMs: 1000, multiplier: 2, resetThresholdMs: 100, jitterFactor: 0 });
    expect(s.onFailure(1000, 0.5)).toEqual({ restart: true, delayMs: 10 });
    expect(s.onFailure(1050, 0.5)).toEqual({ restart: true, delayMs: 20 });
    expect(s.onFailure(1149, 0.5)).toEqual({ restart: true, delayMs: 40 });
    expect(s.onFailure(1249, 0.5)).toEqual({ restart: true, delayMs: 10 });
  });

  test("fixed delay restarts exactly `attempts` times, each after the delay", () => {
    const s = createRestartStrategy({ kind: "fixedDelay", attempts: 2, delayMs: 40 });
    expect(s.onFailure(0, 0.5)).toEqual({ restart: true, delayMs: 40 });
    expect(s.onFailure(10, 0.5)).toEqual({ restart: true, delayMs: 40 });
    expect(s.onFailure(20, 0.5).restart).toBe(false);
  });

  test("failure rate allows maxFailuresPerInterval within a sliding interval", () => {
    const s = createRestartStrategy({ kind: "failureRate", maxFailuresPerInterval: 2, intervalMs: 100, delayMs: 5 });
    expect(s.onFailure(0, 0.5).restart).toBe(true);
    expect(s.onFailure(50, 0.5).restart).toBe(true);
    expect(s.onFailure(60, 0.5).restart).toBe(false);
    // Failures older than the interval no longer count.
    const t = createRestartStrategy({ kind: "failureRate", maxFailuresPerInterval: 2, intervalMs: 100, delayMs: 5 });
    t.onFailure(0, 0.5);
    t.onFailure(50, 0.5);
    expect(t.onFailure(151, 0.5)).toEqual({ restart: true, delayMs: 5 });
  });

  test("exponential delay doubles up to the max, resets after a quiet threshold, and jitters within the factor", () => {
    const s = createRestartStrategy({ kind: "exponentialDelay", initialBackoffMs: 10, maxBackoffMs: 35, multiplier: 2, resetThresholdMs: 1000, jitterFactor: 0 });
    const delays = [0, 1, 2, 3].map((i) => s.onFailure(i, 0.5));
    expect(delays).toEqual([
      { restart: true, delayMs: 10 },
      { restart: true, delayMs: 20 },
      { restart: true, delayMs: 35 },
      { restart: true, delayMs: 35 },
    ]);
    expect(s.onFailure(2000, 0.5)).toEqual({ restart: true, delayMs: 10 });
    const j = createRestartStrategy({ kind: "exponentialDelay", initialBackoffMs: 100, maxBackoffMs: 100, multiplier: 2, resetThresholdMs: 1000, jitterFactor: 0.5 });
    expect(j.onFailure(0, 0)).toEqual({ restart: true, delayMs: 50 });
    const k = createRestartStrategy({ kind: "exponentialDelay", initialBackoffMs: 100, maxBackoffMs: 100, multiplier: 2, resetThresholdMs: 1000, jitterFactor: 0.5 });
    expect(k.onFailure(0, 1)).toEqual({ restart: true, delayMs: 150 });
  });
});
