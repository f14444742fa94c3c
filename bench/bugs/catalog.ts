/**
 * A catalog of checkpointing bugs, as data: each is one exact text replacement in the real engine
 * code, modelled on a bug class that Flink (or its Kafka connector) has really shipped. The engine
 * carries no bug switches; the benchmark applies one entry to a temporary copy of src/ (apply.ts)
 * and runs the default property suites against it (detect.ts).
 *
 * `find` must occur exactly once in `file` (properties/bug-catalog.test.ts keeps the catalog in
 * sync with the code; apply.ts refuses a stale entry).
 */

export type Bug = {
  /** Short kebab-case name. */
  readonly id: string;
  /** What the changed code does wrong, in one sentence. */
  readonly title: string;
  /** The real-world bug class (and Flink issue, where one is known) it models. */
  readonly models: string;
  /** Path relative to the project root. */
  readonly file: string;
  /** Exact text, occurring exactly once in `file`. */
  readonly find: string;
  readonly replace: string;
  /**
   * A scenario file (path from the project root) that passes on the real engine and fails with
   * this bug applied, and the check that fails: properties/bug-catalog.test.ts runs it, so the
   * checker is shown to catch the bug even where the generated suites rarely reach it.
   */
  readonly witness?: { readonly scenario: string; readonly check: string };
};

const CONNECTORS = "src/engine/runtime/connectors.ts";
const TASK = "src/engine/runtime/task.ts";
const JM = "src/engine/cluster/jobmanager.ts";
const DECIDER = "src/engine/checkpoint/decider.ts";
const KEYED = "src/engine/state/keyed.ts";
const BROKER = "src/external/broker.ts";
const STORAGE = "src/external/storage.ts";

export const BUGS: readonly Bug[] = [
  // ---- two-phase-commit sink -------------------------------------------------------------------
  {
    id: "2pc-commit-on-snapshot",
    title: "The 2PC sink commits the pre-committed transaction at the barrier, before the checkpoint completed.",
    models: "Committing in snapshotState/preCommit instead of notifyCheckpointComplete (the mistake TwoPhaseCommitSinkFunction, FLINK-7210, exists to prevent): a failure before completion restores an older checkpoint and replays records already committed.",
    file: CONNECTORS,
    find: "    const captured = this.pending.slice();",
    replace: "    this.commitUpTo = Math.max(this.commitUpTo, id);\n    this.commitPending();\n    const captured = this.pending.slice();",
  },
  {
    id: "2pc-commit-only-latest",
    title: "On notifyCheckpointComplete(n) the 2PC sink commits only the transaction of checkpoint n and forgets older pending ones.",
    models: "Notifications are not guaranteed (subsumed, lost): a sink must commit every pending transaction up to n. Cf. FLINK-10377 (a late/skipped notification in TwoPhaseCommitSinkFunction.notifyCheckpointComplete).",
    file: CONNECTORS,
    find: "    this.commitUpTo = Math.max(this.commitUpTo, id);\n    this.commitPending();\n  }",
    replace: "    this.commitUpTo = Math.max(this.commitUpTo, id);\n    this.pending = this.pending.filter((p) => p.checkpointId >= id);\n    this.commitPending();\n  }",
  },
  {
    id: "2pc-commit-exact-id-only",
    title: "The 2PC sink commits a pending transaction only when notified of exactly its checkpoint, so a lost or subsumed notification leaves it uncommitted forever.",
    models: "Lost completion notification: no commit of older pending transactions on a newer notify (the subsumed-notification case of FLINK-10377); the job cannot finish and the transaction stays open.",
    file: CONNECTORS,
    find: "if (p === undefined || p.checkpointId > this.commitUpTo) return;",
    replace: "if (p === undefined || p.checkpointId !== this.commitUpTo) return;",
  },
  {
    id: "2pc-snapshot-drops-older-pending",
    title: "The 2PC sink's snapshot stores only the transaction pre-committed for this checkpoint, not older ones still pending.",
    models: "Pending-commit transactions missing from the operator state (TwoPhaseCommitSinkFunction keeps the whole pendingCommitTransactions map in state for this reason): after a restore the older transactions are never committed.",
    file: CONNECTORS,
    find: "    const captured = this.pending.slice();",
    replace: "    const captured = this.pending.filter((p) => p.checkpointId === id);",
  },
  {
    id: "2pc-recovered-pending-aborted",
    title: "On restore the 2PC sink aborts the restored pending transactions (by re-initialising their ids) instead of committing them.",
    models: "recoverAndCommit replaced by recoverAndAbort: the checkpoint completed, so its transactions must be committed on recovery (cf. FLINK-7784, FLINK-8086 on committing recovered transactions).",
    file: CONNECTORS,
    find: "this.broker.commit(p.tid, p.epoch, p.txnSeq, p.checkpointId, (err) => {",
    replace: "this.broker.initTransactions(p.tid, (err) => {",
  },
  {
    id: "2pc-lingering-txn-not-aborted",
    title: "The 2PC sink's snapshot records a transactional-id counter one too high, so recovery skips the transaction the failed attempt opened after the barrier.",
    models: "Lingering transactions not aborted on recovery (Kafka producer id pools / FLINK-8132, FLINK-13535): the previous attempt's open transaction stays open and its zombie is never fenced.",
    file: CONNECTORS,
    find: "      nextK: resumeK,",
    replace: "      nextK: resumeK + 1,",
  },
  {
    id: "broker-no-fencing",
    title: "The broker accepts writes and commits from a producer with an old epoch (no fencing).",
    models: "Missing producer fencing (Kafka KIP-98 epochs): a zombie sink left over from a failed attempt keeps writing into the transactional id the new attempt took over.",
    file: BROKER,
    find: "    if (epoch < st.epoch) {",
    replace: "    if (epoch < st.epoch && op === \"abort\") {",
  },
  // ---- barriers, alignment, sources -------------------------------------------------------------
  {
    id: "alignment-skipped",
    title: "EXACTLY_ONCE tasks with several inputs do not block a channel after its barrier, so records after barrier n enter snapshot n.",
    models: "Barrier alignment skipped (at-least-once alignment used in exactly-once mode): after a restore those records are processed twice.",
    file: TASK,
    find: "if (this.opts.mode === \"EXACTLY_ONCE\" && n > 1) ch.blocked = true;",
    replace: "if (this.opts.mode === \"EXACTLY_ONCE\" && n > 1) ch.blocked = false;",
  },
  {
    id: "older-barrier-joins-alignment",
    title: "A task aligning checkpoint n+1 counts a late barrier n on another channel as that channel's barrier n+1.",
    models:
      "Barrier handling that only compares ids with the last finished checkpoint (Flink's SingleCheckpointBarrierHandler ignores a barrier older than the pending one): with concurrent checkpoints and a trigger lost to some sources, the alignment completes before the channel's real barrier and the snapshot misses data the sources' offsets already cover (found by a 1,000,000-run sweep, session 8).",
    file: TASK,
    find: "    if (a !== undefined && id < a.id) return;\n",
    replace: "",
    witness: { scenario: "scenarios/regressions/aligned-task-counts-older-barrier-after-partition.json", check: "exactlyOnce" },
  },
  {
    id: "barrier-overtakes-queued-buffers",
    title: "An aligned barrier jumps ahead of the output buffers still queued for credit.",
    models: "A barrier overtaking in-flight data without that data being stored in the snapshot (what unaligned checkpoints must persist, FLIP-76): records queued before the barrier are in neither the downstream snapshot nor the replay.",
    file: TASK,
    find: "    this.broadcastElement({ k: BARRIER, id });",
    replace: "    for (const chans of this.outputChannels) for (const c of chans) c.queue.unshift([{ k: BARRIER, id }]);",
  },
  {
    id: "source-offset-off-by-one",
    title: "The source's snapshot stores the offset of the last emitted record instead of the next one to read.",
    models: "Kafka offset off by one: FLINK-4618 (the consumer re-read the last committed record on startup); after a restore the last record before the barrier is emitted again.",
    file: CONNECTORS,
    find: "    const offsets = this.partitions.map((p) => [p, this.offsets.get(p) ?? 0] as [number, number]);",
    replace: "    const offsets = this.partitions.map((p) => [p, Math.max(0, (this.offsets.get(p) ?? 0) - 1)] as [number, number]);",
  },
  {
    id: "source-restored-offsets-ignored",
    title: "The source's open() resets every partition to offset 0, overwriting the offsets it restored.",
    models: "Start position determined in open() over the restored state (FLINK-5849: start offsets vs. restored offsets in FlinkKafkaConsumer): the job replays its whole input after every restore.",
    file: CONNECTORS,
    find: "        if (!this.offsets.has(p)) this.offsets.set(p, 0);",
    replace: "        this.offsets.set(p, 0);",
  },
  // ---- the coordinator and recovery ------------------------------------------------------------
  {
    id: "restore-oldest-retained",
    title: "Failover restores the oldest retained completed checkpoint instead of the latest.",
    models: "Recovery picks a not-latest completed checkpoint: FLINK-6284 (incorrect sorting of completed checkpoints in ZooKeeperCompletedCheckpointStore).",
    file: JM,
    find: "    const latest = this.completed[this.completed.length - 1];",
    replace: "    const latest = this.completed[0];",
  },
  {
    id: "recover-incomplete-checkpoint",
    title: "A recovering JobManager takes a checkpoint directory without metadata (a pending or aborted checkpoint) for a completed one.",
    models: "Restore from the latest triggered instead of the latest completed checkpoint (a checkpoint counted as complete without its metadata; cf. FLINK-5940 on recovering the completed-checkpoint store).",
    file: JM,
    find: "            if (!e && text !== undefined) {",
    replace: "            if (e?.code === \"ENOENT\") found.push({ id, states: {} });\n            if (!e && text !== undefined) {",
  },
  {
    id: "checkpoint-id-reused-after-restore",
    title: "After a failover the coordinator restarts checkpoint ids right after the restored checkpoint.",
    models: "Checkpoint id counter not persisted across restores (Flink's CheckpointIDCounter exists so ids only increase): ids of checkpoints triggered by the failed attempt are reused.",
    file: JM,
    find: "      const checkpointId = latest?.id ?? null;",
    replace: "      const checkpointId = latest?.id ?? null;\n      this.nextId = (latest?.id ?? 0) + 1;",
  },
  {
    id: "state-not-fsynced",
    title: "Checkpoint storage acknowledges a state file before it is fsynced, so the metadata can be durable while the state is not.",
    models: "Metadata written before the state files are durable (the classic missing-fsync bug): a storage crash leaves a checkpoint that looks complete but whose state is gone.",
    file: STORAGE,
    find: "          { op: \"fsync\", path },\n",
    replace: "",
  },
  {
    id: "complete-with-missing-ack",
    title: "The coordinator completes a checkpoint when all but one subtask acknowledged.",
    models: "Wrong count of not-yet-acknowledged tasks (PendingCheckpoint's acknowledgement bookkeeping): the checkpoint lacks one subtask's state, which then restores from scratch.",
    file: JM,
    find: "    if (p.acks.size === this.totalTasks) this.finalize(p);",
    replace: "    if (p.acks.size >= this.totalTasks - 1) this.finalize(p);",
  },
  {
    id: "notify-before-metadata",
    title: "The coordinator notifies the tasks of completion before the checkpoint's metadata is written.",
    models: "notifyCheckpointComplete sent before the checkpoint is durably in the completed-checkpoint store: sinks commit for a checkpoint that may still fail to finalize.",
    file: JM,
    find: "    this.storage.writeMetadata(p.id, JSON.stringify({ id: p.id, states }), (err) => {",
    replace:
      "    for (const tm of this.deployedOn) this.send(tm, { t: \"notify\", session: this.session, attempt: this.attempt, id: p.id });\n    this.storage.writeMetadata(p.id, JSON.stringify({ id: p.id, states }), (err) => {",
  },
  {
    id: "retained-deletes-latest",
    title: "The coordinator keeps one completed checkpoint fewer than `retained`, deleting the one that just completed when retained is 1.",
    models: "Off-by-one in discarding subsumed completed checkpoints (the completed-checkpoint store's retained count): recovery finds no checkpoint and starts from scratch.",
    file: JM,
    find: "    while (this.completed.length > this.cfg.retained) {",
    replace: "    while (this.completed.length >= this.cfg.retained) {",
  },
  {
    id: "min-pause-ignored",
    title: "The trigger decision ignores the minimum pause after the last completion.",
    models: "FLINK-18856 (CheckpointRequestDecider ignored minPauseBetweenCheckpoints).",
    file: DECIDER,
    find: "  return lastCompletionMs + cfg.minPauseMs - nowMs;",
    replace: "  return lastCompletionMs - nowMs;",
  },
  {
    id: "max-concurrent-off-by-one",
    title: "The trigger decision allows one more concurrent checkpoint than maxConcurrent.",
    models: "Max concurrent checkpoints not enforced (FLINK-3051 introduced the limit; off-by-one in the pending count).",
    file: DECIDER,
    find: "if (v.pendingCount >= cfg.maxConcurrent)",
    replace: "if (v.pendingCount > cfg.maxConcurrent)",
  },
  {
    id: "timeout-ignored",
    title: "A pending checkpoint expires only after ten times its timeout.",
    models: "Checkpoint timeout not enforced (the canceller not scheduled or scheduled with the wrong unit).",
    file: JM,
    find: "      p.timer = this.c.sim.scheduler.schedule(this.cfg.timeoutMs, () => {",
    replace: "      p.timer = this.c.sim.scheduler.schedule(this.cfg.timeoutMs * 10, () => {",
  },
  {
    id: "tolerable-counter-not-reset",
    title: "A successful checkpoint does not reset the count of failed checkpoints.",
    models: "CheckpointFailureManager's continuous-failure counter not reset on success (FLINK-12364 introduced it; FLINK-17351 fixed what it counts): the job fails over on failures that were not consecutive.",
    file: DECIDER,
    find: "    this.lastSucceededId = id;\n    this.count = 0;",
    replace: "    this.lastSucceededId = id;",
  },
  {
    id: "tolerable-never-checked",
    title: "Counted checkpoint failures never fail the job, whatever tolerableFailures says.",
    models: "The tolerable-failure threshold never checked (FLINK-10074/FLINK-12364: execution.checkpointing.tolerable-failed-checkpoints).",
    file: DECIDER,
    find: "failJob: this.count > this.tolerable",
    replace: "failJob: false",
  },
  // ---- state -------------------------------------------------------------------------------------
  {
    id: "keyed-state-wrong-subtask",
    title: "Failover restores each subtask from the state of the next subtask of the same vertex.",
    models: "Keyed state restored to the wrong subtask (key-group range to subtask assignment mixed up on restore, cf. KeyGroupRangeAssignment).",
    file: JM,
    find: "      const stateName = latest?.states[name];",
    replace:
      "      const stateName = latest?.states[subtaskName({ ...ref, subtask: (ref.subtask + 1) % this.c.graph.vertex(ref.vertex).parallelism })];",
  },
  {
    id: "window-contents-not-snapshotted",
    title: "The keyed state snapshot leaves out the window contents (the \"windows\" map state).",
    models: "Window contents left out of the snapshot (operator state not registered with the backend, so not checkpointed).",
    file: KEYED,
    find: "      const names = tables.filter(([, t]) => t.has(k)).map(([n]) => n);",
    replace: "      const names = tables.filter(([n, t]) => n !== \"windows\" && t.has(k)).map(([n]) => n);",
  },
  {
    id: "timers-not-snapshotted",
    title: "The keyed state snapshot leaves out the event-time timers.",
    models: "Timers not checkpointed with the keyed state (FLINK-6719 documents that they must be; the timer service snapshot is separate from keyed state): restored windows never fire.",
    file: KEYED,
    find: "      eventTimers: [...this.eventTimers.values()].sort(byTsKey),",
    replace: "      eventTimers: [],",
  },
  {
    id: "at-least-once-sink-no-flush",
    title: "The at-least-once sink acknowledges the checkpoint without waiting for its writes.",
    models: "Producer not flushed on checkpoint: FLINK-5728 / FLINK-4027 (FlinkKafkaProducer flushOnCheckpoint); a failed in-flight write is lost although the checkpoint covers it.",
    file: CONNECTORS,
    find: "    this.writes.waitFor(this.barrierWrites.get(id) ?? this.writes.issued, done);",
    replace: "    done();",
  },
];
