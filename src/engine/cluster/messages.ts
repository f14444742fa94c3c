/**
 * RPC messages between the JobManager and the TaskManagers (datagrams: they can be lost, delayed
 * or cut off like any message). `session` is the JobManager leader session (its incarnation):
 * TaskManagers ignore older sessions, and a newer one makes them drop the older one's tasks.
 */
import type { SubtaskRef } from "../runtime/graph.ts";

export type TaskDeployment = { readonly ref: SubtaskRef; readonly restorePath: string | null };

export type JmToTm =
  /** The answer to a "register", echoing its `sentAt`. */
  | { readonly t: "registered"; readonly session: number; readonly sentAt: number }
  /** `round` numbers the JobManager's heartbeat rounds; the reply echoes it. */
  | { readonly t: "hb"; readonly session: number; readonly round: number }
  | { readonly t: "deploy"; readonly session: number; readonly attempt: number; readonly tasks: readonly TaskDeployment[] }
  | { readonly t: "start"; readonly session: number; readonly attempt: number }
  | { readonly t: "cancel"; readonly session: number; readonly attempt: number }
  | { readonly t: "trigger"; readonly session: number; readonly attempt: number; readonly id: number }
  | { readonly t: "notify"; readonly session: number; readonly attempt: number; readonly id: number }
  /** Checkpoint `id` was aborted (expired, declined, failed to finalize): Flink's notifyCheckpointAborted. */
  | { readonly t: "aborted"; readonly session: number; readonly attempt: number; readonly id: number }
  | { readonly t: "failoverAck"; readonly session: number; readonly attempt: number };

type FromTm = { readonly tm: string; readonly session: number };

export type TmToJm =
  /**
   * `instance` changes when the TaskManager process restarts; `registration` counts the times it
   * lost the JobManager and registered again. Either change means its tasks are gone.
   */
  | {
      readonly t: "register";
      readonly tm: string;
      readonly instance: number;
      readonly registration: number;
      readonly slots: number;
      /** When the TaskManager sent it, on its own clock: it only takes an answer that is not stale. */
      readonly sentAt: number;
    }
  /**
   * Heartbeat reply. Reports that must not be lost ride on every reply until they are moot: task
   * failures, and the tasks of the current attempt whose data ended or that finished. `started`
   * says whether `attempt`'s tasks were started when the TaskManager answered heartbeat round
   * `round`: the JobManager repeats a "start" that a reply to a later round says was lost.
   */
  | (FromTm & {
      readonly t: "hbr";
      readonly failures: ReadonlyArray<{ attempt: number; task: string; reason: string }>;
      readonly attempt: number;
      readonly round: number;
      readonly started: boolean;
      readonly ended: readonly string[];
      readonly finished: readonly string[];
    })
  | (FromTm & { readonly t: "deployed"; readonly attempt: number })
  /** Every task of `attempt` on this TaskManager is cancelled (terminal, connections closed). */
  | (FromTm & { readonly t: "cancelled"; readonly attempt: number })
  | (FromTm & {
      readonly t: "ack";
      readonly attempt: number;
      readonly id: number;
      readonly task: string;
      readonly stateName: string;
      readonly bytes: number;
      readonly alignmentMs: number;
    })
  | (FromTm & { readonly t: "decline"; readonly attempt: number; readonly id: number; readonly task: string; readonly reason: string })
  | (FromTm & { readonly t: "endOfData"; readonly attempt: number; readonly task: string })
  | (FromTm & { readonly t: "finished"; readonly attempt: number; readonly task: string })
  | (FromTm & { readonly t: "failed"; readonly attempt: number; readonly task: string; readonly reason: string });
