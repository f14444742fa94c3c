/**
 * The worker thread's task: a batch of tasks in, their results out (see task.ts). Loaded by
 * worker-entry.mjs, which registers the TypeScript loader first.
 */
import type { Task, TaskResult } from "./task.ts";
import { runTasks } from "./task.ts";

export default function work(batch: readonly Task[]): TaskResult[] {
  return runTasks(batch);
}
