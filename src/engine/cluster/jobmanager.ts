/**
 * The JobManager: schedules the job onto TaskManager slots, watches heartbeats, fails over with
 * the restart strategy, and runs the checkpoint coordinator.
 *
 * Coordinator (Flink's CheckpointCoordinator): periodic triggers through the pure decider (min
 * pause from the last completion, max concurrent, one trigger at a time); ids leased from a counter
 * in checkpoint storage so they only increase, across restores and JobManager failovers; a
 * checkpoint completes when every subtask acknowledged and its metadata is written (last,
 * atomically); older pending checkpoints are then subsumed, old completed ones beyond the retained
 * number deleted, and only then are tasks notified. Expired, declined and I/O failures count
 * toward the tolerable number; exceeding it is a job failure, handled by the restart strategy.
 *
 * A JobManager crash loses all of this; the restarted JobManager recovers the completed
 * checkpoints from storage (ignoring any whose metadata is missing or torn) and redeploys.
 */
import { StorageClient } from "../../external/storage.ts";
import type { Random } from "../../sim/random.ts";
import type { SimNode, Timer } from "../../sim/scheduler.ts";
import { effectiveRestartStrategy } from "../config.ts";
import {
  CheckpointFailureManager,
  decideTrigger,
  minPauseDelayMs,
  effectiveIntervalMs,
  initialTriggerDelayMs,
  type FailureReason,
} from "../checkpoint/decider.ts";
import type { CheckpointStats, JobStatus } from "../result.ts";
import { subtaskName } from "../runtime/graph.ts";
import type { JmToTm, TaskDeployment, TmToJm } from "./messages.ts";
import { createRestartStrategy, type RestartStrategy } from "./restart.ts";
import type { ClusterShared } from "./taskmanager.ts";

/** What outlives a JobManager crash: the run's observations (as a history server would keep them). */
export class JobObserver {
  status: JobStatus = "CREATED";
  failureReason: string | null = null;
  attemptCounter = 0;
  /** `${session}.${attempt}` of the attempt that finished the job. */
  finishedAttempt: string | null = null;
  readonly stats = new Map<number, CheckpointStats & { alignmentMs: Record<string, number> }>();
  readonly restores: Array<{ timeMs: number; checkpointId: number | null; attempt: number }> = [];
  terminal(): boolean {
    return this.status === "FINISHED" || this.status === "FAILED";
  }
}

type CompletedCheckpoint = { readonly id: number; readonly states: Readonly<Record<string, string>> };

type Pending = {
  readonly id: number;
  readonly attempt: number;
  readonly triggerMs: number;
  readonly acks: Map<string, { stateName: string; bytes: number; alignmentMs: number }>;
  timer: Timer | undefined;
  finalizing: boolean;
};

const LEASE = 100;

/** The least time from a failover to the redeployment, whatever the restart strategy's delay. */
const MIN_REDEPLOY_MS = 1;

export class JobManager {
  readonly node: SimNode;
  private session = 0;
  private readonly tms = new Map<string, { slots: number; lastSeen: number; instance: number; registration: number }>();
  private attempt = -1;
  private startedAttempt = -1;
  /** Heartbeat rounds sent so far, and per TaskManager the last round sent before its "start". */
  private heartbeatRound = 0;
  private startRound = new Map<string, number>();
  private deployedOn: string[] = [];
  private deployedAcks = new Set<string>();
  private deployTimer: Timer | undefined;
  private waitingSince: number | undefined;
  private endOfData = new Set<string>();
  private finished = new Set<string>();
  private totalTasks = 0;
  private storage!: StorageClient;
  private random!: Random;
  private restart!: RestartStrategy;
  private recovered = false;
  private restartPending = false;
  /**
   * A failover waits until every TaskManager of the failed attempt confirmed that its tasks are
   * cancelled (or was declared lost), as Flink restarts only once all tasks are terminal: a task
   * still opening could otherwise act on the outside world (initTransactions) after the new
   * attempt started.
   */
  private cancelling: { attempt: number; tms: Set<string>; delayOver: boolean } | undefined;
  /** Metadata writes in flight and discards of checkpoints that did not complete: a restart waits for them (see finalize). */
  private discarding = 0;
  // coordinator
  private completed: CompletedCheckpoint[] = [];
  private pending = new Map<number, Pending>();
  private nextId = 1;
  private leasedUpTo = 0;
  private triggerInProgress = false;
  /** Identifies the trigger in progress; a failover invalidates it. */
  private triggerToken = 0;
  private queued: "none" | "periodic" | "forced" = "none";
  private periodicTimer: Timer | undefined;
  private lastCompletionMs: number | undefined;
  private failures!: CheckpointFailureManager;
  private schedulerOn = false;

  constructor(
    private readonly c: ClusterShared,
    readonly observer: JobObserver,
  ) {
    this.node = c.sim.scheduler.node("jm");
    this.node.onRestart(() => this.boot());
    this.boot();
  }

  private get cfg() {
    return this.c.job.checkpoint;
  }
  private get checkpointing(): boolean {
    return this.cfg.intervalMs > 0;
  }

  private boot(): void {
    const { sim } = this.c;
    this.session = this.node.incarnation;
    this.tms.clear();
    this.attempt = -1;
    this.deployedOn = [];
    this.pending = new Map();
    this.completed = [];
    this.triggerInProgress = false;
    this.queued = "none";
    this.schedulerOn = false;
    this.recovered = false;
    this.restartPending = false;
    this.cancelling = undefined;
    this.discarding = 0;
    this.random = sim.random.fork(`jm/${this.session}`);
    this.restart = createRestartStrategy(effectiveRestartStrategy(this.c.job.restart, this.cfg));
    this.failures = new CheckpointFailureManager(this.cfg.tolerableFailures);
    this.storage = new StorageClient(sim.network, sim.scheduler, this.node, this.c.storage);
    sim.network.listen("jm", "jm", (p) => this.onMessage(p as TmToJm));
    if (this.observer.terminal()) return;
    // A new leader session runs a new attempt of the job.
    if (this.session > 0) {
      this.observer.attemptCounter++;
      this.setStatus("RESTARTING");
    }
    // Checkpoints the previous JobManager left pending died with it.
    for (const st of [...this.observer.stats.values()])
      if (st.status === "IN_PROGRESS")
        this.observer.stats.set(st.id, { ...st, status: "FAILED", failureReason: "jobmanager-lost: the JobManager crashed while it was pending" });
    this.heartbeatLoop();
    this.recover();
  }

  // ---- recovery of the completed-checkpoint store ------------------------------------------

  private recover(): void {
    const retry = (): void => {
      this.c.sim.scheduler.schedule(this.c.cluster.heartbeatIntervalMs, () => this.recover(), this.node);
    };
    this.storage.readCounter((err, counter) => {
      if (err) return retry();
      this.storage.listCheckpoints((err2, ids) => {
        if (err2) return retry();
        const top = Math.max(counter ?? 0, ...(ids ?? []));
        this.nextId = top + 1;
        this.leasedUpTo = top;
        const candidates = [...(ids ?? [])].sort((a, b) => b - a);
        const found: CompletedCheckpoint[] = [];
        const next = (i: number): void => {
          if (i >= candidates.length || found.length >= this.cfg.retained) {
            this.completed = found.reverse();
            this.recovered = true;
            this.c.sim.trace.emit("jm", "jm-recovered", { session: this.session, checkpoints: this.completed.map((c) => c.id), nextId: this.nextId });
            this.tryDeploy();
            return;
          }
          const id = candidates[i] as number;
          this.storage.read(`/checkpoints/chk-${id}/_metadata`, (e, text) => {
            if (e?.code === "ECONNRESET" || e?.code === "ETIMEDOUT" || e?.code === "ECONNREFUSED") return retry();
            if (!e && text !== undefined) {
              const meta = JSON.parse(text) as { id: number; states: Record<string, string> };
              found.push({ id: meta.id, states: meta.states });
            }
            next(i + 1);
          });
        };
        next(0);
      });
    });
  }

  // ---- membership and heartbeats -----------------------------------------------------------

  private send(tm: string, msg: JmToTm): void {
    const kind = msg.t === "notify" ? "notifyCheckpointComplete" : msg.t === "trigger" ? "triggerCheckpoint" : msg.t === "hb" ? "heartbeat" : undefined;
    if (kind !== undefined && (this.c.droppedRpcs.get(kind) ?? 0) > 0) return;
    this.c.sim.network.send("jm", tm, "tm", msg);
  }

  private heartbeatLoop(): void {
    const { heartbeatIntervalMs, heartbeatTimeoutMs } = this.c.cluster;
    const now = this.c.sim.now;
    for (const [tm, info] of [...this.tms.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (now - info.lastSeen > heartbeatTimeoutMs) {
        this.tms.delete(tm);
        this.c.sim.trace.emit("jm", "tm-lost", { tm });
        if (this.cancelling?.tms.delete(tm) === true) this.maybeRestart();
        if (this.deployedOn.includes(tm)) this.handleFailure(this.attempt, `TaskManager ${tm} lost (no heartbeat for ${heartbeatTimeoutMs} ms)`);
        continue;
      }
      this.send(tm, { t: "hb", session: this.session, round: this.heartbeatRound });
    }
    this.heartbeatRound++;
    if (this.waitingSince !== undefined && now - this.waitingSince > 10 * heartbeatTimeoutMs) {
      this.waitingSince = undefined;
      this.noResources();
    }
    this.c.sim.scheduler.schedule(heartbeatIntervalMs, () => this.heartbeatLoop(), this.node);
  }

  private onMessage(m: TmToJm): void {
    if (this.observer.terminal()) return;
    if (m.t === "register") {
      const known = this.tms.get(m.tm);
      this.tms.set(m.tm, { slots: m.slots, lastSeen: this.c.sim.now, instance: m.instance, registration: m.registration });
      // A new process, or a process that lost us and cancelled everything, has no tasks left.
      const renewed = known !== undefined && (known.instance !== m.instance || known.registration !== m.registration);
      if (renewed && this.cancelling?.tms.delete(m.tm) === true) this.maybeRestart();
      if (renewed && this.deployedOn.includes(m.tm)) {
        const why = known.instance !== m.instance ? "restarted" : "lost the JobManager and cancelled its tasks";
        this.c.sim.trace.emit("jm", "tm-lost", { tm: m.tm, reason: why });
        this.handleFailure(this.attempt, `TaskManager ${m.tm} ${why}`);
      }
      this.send(m.tm, { t: "registered", session: this.session, sentAt: m.sentAt });
      this.tryDeploy();
      return;
    }
    if (m.session !== this.session) return;
    const info = this.tms.get(m.tm);
    if (info !== undefined) info.lastSeen = this.c.sim.now;
    switch (m.t) {
      case "hbr":
        for (const f of m.failures) this.handleFailure(f.attempt, `${f.task} failed: ${f.reason}`);
        if (m.attempt === this.attempt) {
          // A "start" is a datagram like any other: one lost to a partition left the TaskManager's
          // tasks deployed but idle, every checkpoint expiring, and the job never finishing
          // (scenarios/regressions/liveness-jm-tm-partition-at-start.json). Repeat it when the
          // reply is to a heartbeat sent after the "start" (an earlier one's reply says nothing).
          if (!m.started && this.startedAttempt === this.attempt && m.round >= (this.startRound.get(m.tm) ?? Infinity)) {
            this.c.sim.trace.emit("jm", "start-resent", { tm: m.tm, attempt: this.attempt });
            this.sendStart(m.tm);
          }
          for (const t of m.ended) this.onEndOfData(t);
          for (const t of m.finished) this.onTaskFinished(t);
        }
        return;
      case "cancelled":
        if (this.cancelling !== undefined && m.attempt === this.cancelling.attempt) {
          this.cancelling.tms.delete(m.tm);
          this.maybeRestart();
        }
        return;
      case "deployed":
        if (m.attempt !== this.attempt) return;
        this.deployedAcks.add(m.tm);
        if (this.deployedOn.every((t) => this.deployedAcks.has(t))) this.startJob();
        return;
      case "failed":
        this.handleFailure(m.attempt, `${m.task} failed: ${m.reason}`);
        return;
      case "ack":
        return this.onAck(m);
      case "decline":
        return this.onDecline(m);
      case "endOfData":
        if (m.attempt === this.attempt) this.onEndOfData(m.task);
        return;
      case "finished":
        if (m.attempt === this.attempt) this.onTaskFinished(m.task);
        return;
    }
  }

  private onEndOfData(task: string): void {
    if (this.endOfData.has(task)) return;
    this.endOfData.add(task);
    // The final checkpoint: requested now, still subject to the min pause and max concurrent.
    if (this.endOfData.size === this.totalTasks && this.checkpointing) this.request(true);
  }

  private onTaskFinished(task: string): void {
    if (this.finished.has(task) || this.observer.terminal()) return;
    this.finished.add(task);
    if (this.finished.size === this.totalTasks) this.finishJob();
  }

  // ---- scheduling -----------------------------------------------------------------------------

  private setStatus(status: JobStatus, reason?: string): void {
    this.observer.status = status;
    if (reason !== undefined && status === "FAILED") this.observer.failureReason = reason;
    this.c.sim.trace.emit("jm", "job-status", { status, attempt: this.observer.attemptCounter, reason });
  }

  private tryDeploy(): void {
    if (!this.recovered || this.restartPending || this.attempt >= 0 || this.observer.terminal()) return;
    const need = this.c.graph.slotsNeeded();
    const tms = [...this.tms.keys()].sort();
    const capacity = tms.reduce((s, t) => s + (this.tms.get(t)?.slots ?? 0), 0);
    if (capacity < need) {
      this.waitingSince ??= this.c.sim.now;
      return;
    }
    this.waitingSince = undefined;
    // Slot sharing: slot i holds subtask i of every vertex; slots go round robin over TaskManagers.
    const used = new Map<string, number>();
    const slotTm: string[] = [];
    for (let i = 0, k = 0; i < need; k++) {
      const tm = tms[k % tms.length] as string;
      if ((used.get(tm) ?? 0) < (this.tms.get(tm)?.slots ?? 0)) {
        used.set(tm, (used.get(tm) ?? 0) + 1);
        slotTm.push(tm);
        i++;
      }
    }
    const latest = this.completed[this.completed.length - 1];
    const byTm = new Map<string, TaskDeployment[]>();
    for (const ref of this.c.graph.subtasks()) {
      const tm = slotTm[ref.subtask] as string;
      const name = subtaskName(ref);
      const stateName = latest?.states[name];
      const restorePath = latest !== undefined && stateName !== undefined ? `/checkpoints/chk-${latest.id}/${stateName}` : null;
      if (!byTm.has(tm)) byTm.set(tm, []);
      byTm.get(tm)?.push({ ref, restorePath });
    }
    this.attempt = this.observer.attemptCounter;
    const isRestore = this.attempt > 0 || this.session > 0;
    this.deployedOn = [...byTm.keys()].sort();
    this.deployedAcks = new Set();
    this.endOfData = new Set();
    this.finished = new Set();
    this.totalTasks = this.c.graph.subtasks().length;
    if (isRestore) {
      const checkpointId = latest?.id ?? null;
      this.observer.restores.push({ timeMs: this.c.sim.now, checkpointId, attempt: this.attempt });
      this.c.sim.trace.emit("jm", "restore", { checkpointId, attempt: this.attempt });
    }
    for (const tm of this.deployedOn) this.send(tm, { t: "deploy", session: this.session, attempt: this.attempt, tasks: byTm.get(tm) ?? [] });
    const attempt = this.attempt;
    this.deployTimer = this.c.sim.scheduler.schedule(10 * this.c.cluster.heartbeatTimeoutMs, () => {
      if (this.attempt === attempt && this.startedAttempt !== attempt) this.handleFailure(attempt, "deployment timed out");
    }, this.node);
  }

  private startJob(): void {
    if (this.startedAttempt === this.attempt) return; // a duplicated "deployed"
    this.startedAttempt = this.attempt;
    this.c.sim.scheduler.cancel(this.deployTimer);
    this.startRound.clear();
    for (const tm of this.deployedOn) this.sendStart(tm);
    this.setStatus("RUNNING");
    if (this.checkpointing) this.startScheduler();
  }

  private sendStart(tm: string): void {
    this.startRound.set(tm, this.heartbeatRound);
    this.send(tm, { t: "start", session: this.session, attempt: this.attempt });
  }

  private noResources(): void {
    this.c.sim.trace.emit("jm", "no-resources", { need: this.c.graph.slotsNeeded() });
    this.handleFailure(this.attempt, "not enough task slots (NoResourceAvailable)", true);
  }

  /** A failure of the current attempt: cancel, then restart per the strategy, or fail the job. */
  private handleFailure(attempt: number, reason: string, beforeDeploy = false): void {
    if (this.observer.terminal()) return;
    if (!beforeDeploy && (attempt !== this.attempt || this.attempt < 0)) return;
    this.stopScheduler();
    this.abortAllPending("job-failover");
    this.c.sim.scheduler.cancel(this.deployTimer);
    const failed = Math.max(0, this.attempt);
    for (const tm of [...this.tms.keys()].sort()) {
      this.send(tm, { t: "cancel", session: this.session, attempt: failed });
      this.send(tm, { t: "failoverAck", session: this.session, attempt: failed });
    }
    this.cancelling = { attempt: failed, tms: new Set([...this.tms.keys()].sort()), delayOver: false };
    this.resendCancel(failed);
    this.attempt = -1;
    this.deployedOn = [];
    const decision = this.restart.onFailure(this.c.sim.now, this.random.float());
    if (!decision.restart) {
      this.setStatus("FAILED", `${reason}; ${decision.reason}`);
      return;
    }
    this.observer.attemptCounter++;
    this.c.sim.trace.emit("jm", "failover", { attempt: this.observer.attemptCounter, reason, restartDelayMs: decision.delayMs });
    this.setStatus("RESTARTING");
    this.restartPending = true;
    const c = this.cancelling;
    // A redeployment takes time even with no restart delay (scheduling, deployment): without this
    // floor, a zero restart delay on a zero-latency network could fail over forever in one instant.
    this.c.sim.scheduler.schedule(Math.max(decision.delayMs, MIN_REDEPLOY_MS), () => {
      if (c !== undefined) c.delayOver = true;
      this.maybeRestart();
    }, this.node);
  }

  /** Restart once the restart delay is over and every task of the failed attempt is cancelled. */
  private maybeRestart(): void {
    const c = this.cancelling;
    if (!this.restartPending || c === undefined || !c.delayOver || c.tms.size > 0 || this.discarding > 0) return;
    this.cancelling = undefined;
    this.restartPending = false;
    this.tryDeploy();
  }

  /** Cancel requests are datagrams: repeat them until confirmed (or the TaskManager is lost). */
  private resendCancel(attempt: number): void {
    this.c.sim.scheduler.schedule(this.c.cluster.heartbeatIntervalMs, () => {
      const c = this.cancelling;
      if (c === undefined || c.attempt !== attempt || c.tms.size === 0) return;
      for (const tm of [...c.tms].sort()) {
        if (!this.tms.has(tm)) c.tms.delete(tm);
        else this.send(tm, { t: "cancel", session: this.session, attempt });
      }
      this.maybeRestart();
      this.resendCancel(attempt);
    }, this.node);
  }

  private finishJob(): void {
    this.observer.finishedAttempt = `${this.session}.${this.attempt}`;
    this.stopScheduler();
    this.abortAllPending("job-finished");
    this.setStatus("FINISHED");
    this.c.sim.trace.emit("jm", "job-finished", { attempt: this.attempt });
  }

  // ---- checkpoint coordinator -----------------------------------------------------------------

  private startScheduler(): void {
    this.schedulerOn = true;
    this.lastCompletionMs = undefined;
    this.schedulePeriodic(initialTriggerDelayMs(this.cfg, this.random.float()));
  }

  private schedulePeriodic(delayMs: number): void {
    this.c.sim.scheduler.cancel(this.periodicTimer);
    this.periodicTimer = this.c.sim.scheduler.schedule(delayMs, () => {
      if (!this.schedulerOn) return;
      this.schedulePeriodic(effectiveIntervalMs(this.cfg));
      this.request(true);
    }, this.node);
  }

  private stopScheduler(): void {
    this.schedulerOn = false;
    this.queued = "none";
    this.c.sim.scheduler.cancel(this.periodicTimer);
  }

  private request(periodic: boolean): void {
    if (!this.schedulerOn || this.observer.status !== "RUNNING") return;
    const d = decideTrigger(
      this.cfg,
      { nowMs: this.c.sim.now, pendingCount: this.pending.size, triggerInProgress: this.triggerInProgress, lastCompletionMs: this.lastCompletionMs },
      periodic,
    );
    if (d.action === "trigger") return this.trigger();
    if (d.action === "delay") return this.schedulePeriodic(d.delayMs);
    if (this.queued !== "forced") this.queued = periodic ? "periodic" : "forced";
  }

  private retryQueued(): void {
    const q = this.queued;
    if (q === "none") return;
    this.queued = "none";
    this.request(q === "periodic");
  }

  private trigger(): void {
    this.triggerInProgress = true;
    const token = ++this.triggerToken;
    const id = this.nextId++;
    const attempt = this.attempt;
    const go = (): void => {
      // A trigger of an attempt that has failed over since must not touch the current one.
      if (token !== this.triggerToken) return;
      this.triggerInProgress = false;
      if (attempt !== this.attempt || !this.schedulerOn) return;
      // A checkpoint may have completed while the id lease was being written: the min pause then
      // counts from that completion (the decision was taken before it). Skip this id and wait.
      const wait = minPauseDelayMs(this.cfg, this.lastCompletionMs, this.c.sim.now);
      if (wait > 0) {
        this.schedulePeriodic(wait);
        return;
      }
      const p: Pending = { id, attempt, triggerMs: this.c.sim.now, acks: new Map(), timer: undefined, finalizing: false };
      this.pending.set(id, p);
      this.observer.stats.set(id, {
        id,
        status: "IN_PROGRESS",
        triggerTimeMs: p.triggerMs,
        durationMs: null,
        stateBytes: null,
        alignmentMs: {},
        acknowledged: 0,
        total: this.totalTasks,
        failureReason: null,
        attempt: this.observer.attemptCounter,
      });
      this.c.sim.trace.emit("jm", "checkpoint-triggered", { id, attempt: this.observer.attemptCounter });
      p.timer = this.c.sim.scheduler.schedule(this.cfg.timeoutMs, () => {
        if (this.pending.get(id) === p) this.abort(p, "expired", `expired after ${this.cfg.timeoutMs} ms`);
      }, this.node);
      for (const tm of this.deployedOn) this.send(tm, { t: "trigger", session: this.session, attempt, id });
    };
    if (id <= this.leasedUpTo) return go();
    this.storage.writeCounter(id + LEASE - 1, (err) => {
      if (token !== this.triggerToken) return;
      if (err) {
        this.triggerInProgress = false;
        this.c.sim.trace.emit("jm", "checkpoint-aborted", { id, attempt: this.observer.attemptCounter, reason: "io", counted: false });
        this.retryQueued();
        return;
      }
      this.leasedUpTo = Math.max(this.leasedUpTo, id + LEASE - 1);
      go();
    });
  }

  private onAck(m: Extract<TmToJm, { t: "ack" }>): void {
    const p = this.pending.get(m.id);
    if (p === undefined || m.attempt !== p.attempt || p.finalizing) return;
    p.acks.set(m.task, { stateName: m.stateName, bytes: m.bytes, alignmentMs: m.alignmentMs });
    const st = this.observer.stats.get(m.id);
    if (st !== undefined) {
      st.alignmentMs[m.task] = m.alignmentMs;
      this.observer.stats.set(m.id, { ...st, acknowledged: p.acks.size });
    }
    if (p.acks.size === this.totalTasks) this.finalize(p);
  }

  private finalize(p: Pending): void {
    p.finalizing = true;
    const states: Record<string, string> = {};
    // Task names are distinct, so the default sort (UTF-16 code units) is the `<` order.
    for (const task of [...p.acks.keys()].sort()) states[task] = (p.acks.get(task) as { stateName: string }).stateName;
    const session = this.session;
    this.discarding++;
    this.storage.writeMetadata(p.id, JSON.stringify({ id: p.id, states }), (err) => {
      if (this.session !== session) return;
      const live = this.pending.get(p.id) === p;
      if (live && !err) {
        this.discarding--;
        this.complete(p, states);
        return;
      }
      if (live) this.abort(p, "finalize-failed", `metadata write failed: ${err?.code ?? "unknown"}`);
      // Not completed (expired, aborted by a failover, or its write failed): discard it, since the
      // metadata may have landed (a failed reply does not mean a failed write), so a recovering
      // JobManager never mistakes it for a completed checkpoint. A restart waits for this: restoring
      // an older checkpoint (or none) and then crashing before the discard would let the next
      // JobManager resurrect it, with transactions the restore has since fenced. A failed delete
      // (storage unreachable, a disk error) is retried every heartbeat interval until it succeeds:
      // going on without it let a later JobManager restore this aborted checkpoint, whose pending
      // transactions the restored older one had fenced, and fail over forever
      // (scenarios/regressions/aborted-checkpoint-resurrected-after-failed-discard.json).
      const discard = (): void =>
        this.storage.deleteCheckpoint(p.id, (derr) => {
          if (this.session !== session) return;
          if (derr) {
            this.c.sim.scheduler.schedule(this.c.cluster.heartbeatIntervalMs, discard, this.node);
            return;
          }
          this.discarding--;
          this.maybeRestart();
        });
      discard();
    });
  }

  private complete(p: Pending, states: Record<string, string>): void {
    this.pending.delete(p.id);
    this.failures.onSuccess(p.id);
    this.lastCompletionMs = this.c.sim.now;
    this.completed.push({ id: p.id, states });
    while (this.completed.length > this.cfg.retained) {
      const old = this.completed.shift() as CompletedCheckpoint;
      this.storage.deleteCheckpoint(old.id, () => {});
    }
    let bytes = 0;
    for (const a of p.acks.values()) bytes += a.bytes;
    const st = this.observer.stats.get(p.id);
    if (st !== undefined) this.observer.stats.set(p.id, { ...st, status: "COMPLETED", durationMs: this.c.sim.now - p.triggerMs, stateBytes: bytes });
    this.c.sim.trace.emit("jm", "checkpoint-completed", { id: p.id, attempt: this.observer.attemptCounter, durationMs: this.c.sim.now - p.triggerMs, stateBytes: bytes });
    for (const older of [...this.pending.values()].filter((o) => o.id < p.id).sort((a, b) => a.id - b.id)) {
      this.abort(older, "subsumed", `subsumed by checkpoint ${p.id}`, false);
    }
    this.c.sim.trace.emit("jm", "checkpoint-notify", { id: p.id });
    for (const tm of this.deployedOn) this.send(tm, { t: "notify", session: this.session, attempt: this.attempt, id: p.id });
    this.retryQueued();
  }

  private onDecline(m: Extract<TmToJm, { t: "decline" }>): void {
    const p = this.pending.get(m.id);
    if (p === undefined || m.attempt !== p.attempt || p.finalizing) return;
    const reason: FailureReason = m.reason.startsWith("subsumed") ? "subsumed" : "declined";
    this.abort(p, reason, `declined by ${m.task}: ${m.reason}`);
  }

  private abort(p: Pending, reason: FailureReason, detail: string, retry = true): void {
    if (this.pending.get(p.id) !== p) return;
    this.pending.delete(p.id);
    this.c.sim.scheduler.cancel(p.timer);
    const st = this.observer.stats.get(p.id);
    if (st !== undefined) this.observer.stats.set(p.id, { ...st, status: "FAILED", durationMs: this.c.sim.now - p.triggerMs, failureReason: `${reason}: ${detail}` });
    const r = this.failures.onFailure(p.id, reason);
    this.c.sim.trace.emit("jm", "checkpoint-aborted", { id: p.id, attempt: this.observer.attemptCounter, reason, counted: r.counted });
    // Tasks still aligning it give it up. No notice after a failover or the job's end (the tasks are
    // cancelled anyway), nor for one older than the latest completed checkpoint (every task took
    // the newer one's barrier, so none aligns it any more).
    const superseded = (this.completed.at(-1)?.id ?? 0) > p.id;
    if (reason !== "job-failover" && reason !== "job-finished" && !superseded && p.attempt === this.attempt)
      for (const tm of this.deployedOn) this.send(tm, { t: "aborted", session: this.session, attempt: this.attempt, id: p.id });
    if (r.counted) this.c.sim.trace.emit("jm", "checkpoint-failures", { count: this.failures.failureCount, tolerable: this.cfg.tolerableFailures });
    if (r.failJob) {
      this.failures.onJobFailed();
      this.handleFailure(this.attempt, `exceeded checkpoint tolerable failure threshold (${this.cfg.tolerableFailures}): checkpoint ${p.id} ${reason}`);
      return;
    }
    if (retry) this.retryQueued();
  }

  private abortAllPending(reason: FailureReason): void {
    for (const p of [...this.pending.values()].sort((a, b) => a.id - b.id)) this.abort(p, reason, reason === "job-finished" ? "the job finished" : "job failover", false);
    this.triggerInProgress = false;
    this.triggerToken++;
  }
}
