/**
 * The summary trace events the engine, the broker and the fault injector emit: their kinds and
 * data. Checkers and reports rely on these names; keep them stable.
 *
 * kind                    node      data
 * ----------------------  --------  ------------------------------------------------------------
 * job-status              jm        { status: JobStatus, attempt, reason? }
 * checkpoint-triggered    jm        { id, attempt }
 * checkpoint-completed    jm        { id, attempt, durationMs, stateBytes }
 * checkpoint-aborted      jm        { id, attempt, reason, counted: boolean }
 * checkpoint-notify       jm        { id }                     (notifications sent to tasks)
 * checkpoint-failures     jm        { count, tolerable }       (the failure counter changed)
 * alignment-started       tm-i      { task, id }               (first barrier of id at a multi-input task)
 * alignment-completed     tm-i      { task, id, durationMs }
 * alignment-cancelled     tm-i      { task, id }               (an upstream task gave the checkpoint up: channels unblocked)
 * snapshot                tm-i      { task, id, bytes }
 * task-failed             tm-i      { task, attempt, reason }
 * failover                jm        { attempt, reason, restartDelayMs }
 * restore                 jm        { checkpointId: number|null, attempt }
 * txn-opened              broker    { tid, epoch }
 * txn-committed           broker    { tid, epoch, records, digest, checkpointId }  (visible to readers)
 * txn-aborted             broker    { tid, epoch, records }
 * fenced                  broker    { tid, epoch, currentEpoch, op }
 * sink-write              broker    { topic, records, digest }  (non-transactional sink writes)
 * offsets-committed       broker    { group, checkpointId }
 * fault                   <target>  { fault, ...the fault's fields }
 * fault-end               <target>  { fault }
 * crash / restart         <node>    {}
 * job-finished            jm        { attempt }
 */
export const TRACE_KINDS = [
  "job-status",
  "checkpoint-triggered",
  "checkpoint-completed",
  "checkpoint-aborted",
  "checkpoint-notify",
  "checkpoint-failures",
  "alignment-started",
  "alignment-completed",
  "alignment-cancelled",
  "snapshot",
  "task-failed",
  "failover",
  "restore",
  "txn-opened",
  "txn-committed",
  "txn-aborted",
  "fenced",
  "sink-write",
  "offsets-committed",
  "fault",
  "fault-end",
  "crash",
  "restart",
  "job-finished",
] as const;
export type TraceKind = (typeof TRACE_KINDS)[number];
