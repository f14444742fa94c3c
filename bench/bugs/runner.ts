/**
 * The detection runner: an unmodified snapshot of the project is copied once (the control, and the
 * baseline of differential detection); for each catalog bug a copy of that snapshot with the bug
 * applied (apply.ts), and `npx tsx bench/bugs/detect.ts` run in it as a child process. Every copy
 * comes from the one snapshot, so edits to the working tree during a long run change nothing.
 * Child processes run `jobs` at a time, each in its own process group, killed if this process is
 * interrupted.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { prepareCopy } from "./apply.ts";
import type { Bug } from "./catalog.ts";
import type { DetectionReport } from "./detect.ts";

export type RunnerOptions = {
  readonly root: string;
  readonly seeds: readonly number[];
  readonly maxRuns: number;
  readonly shrinkRuns: number;
  readonly shrinkSeconds: number;
  /** Budget of detect.ts's second shrinking pass (--minimize-runs, --minimize-seconds). */
  readonly minimizeRuns: number;
  readonly minimizeSeconds: number;
  /** Child processes at a time. */
  readonly jobs: number;
  /** Kill a child after this long, in milliseconds. */
  readonly childTimeoutMs: number;
  /** A targeted arbitrary of targeted.ts instead of the default suites. */
  readonly suite?: string;
  /** Called when a bug's report is in (or its child failed). */
  readonly onDone?: (id: string, outcome: BugOutcome) => void;
};

export type BugOutcome = { readonly ok: true; readonly report: DetectionReport; readonly wallSeconds: number } | { readonly ok: false; readonly error: string };

/** Process groups of the children still running, and the temporary directories in use. */
const running = new Set<number>();
const tempDirs = new Set<string>();
let cleanupInstalled = false;

function killGroup(pid: number): void {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // already gone
  }
}

/** On Ctrl-C or termination, take this run's children down too (they are detached process groups). */
function installCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.on("exit", () => {
    for (const pid of running) killGroup(pid);
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  });
  for (const sig of ["SIGINT", "SIGTERM"] as const)
    process.once(sig, () => {
      for (const pid of running) killGroup(pid);
      process.exit(130);
    });
}

/** Run detect.ts in `dir`; resolves with its report or the reason it failed. */
export function runDetect(dir: string, args: readonly string[], timeoutMs: number): Promise<BugOutcome> {
  installCleanup();
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn("npx", ["tsx", "bench/bugs/detect.ts", ...args], { cwd: dir, stdio: ["ignore", "pipe", "pipe"], detached: true });
    const pid = child.pid;
    if (pid !== undefined) running.add(pid);
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => {
      // The child's own process group (npx, tsx, node): this run's processes only.
      if (pid !== undefined) killGroup(pid);
    }, timeoutMs);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (pid !== undefined) running.delete(pid);
      const line = out.trim().split("\n").pop() ?? "";
      if (code === 0 && line.startsWith("{")) {
        resolve({ ok: true, report: JSON.parse(line) as DetectionReport, wallSeconds: (performance.now() - started) / 1000 });
        return;
      }
      const tail = err
        .split("\n")
        .filter((l) => l.trim() !== "" && !l.includes("nodedir"))
        .slice(-5)
        .join(" | ");
      resolve({ ok: false, error: signal !== null ? `killed by ${signal} after ${timeoutMs} ms` : `exit ${code}: ${tail}` });
    });
  });
}

/**
 * Detection for every bug given (null: the control, the unmodified engine). Returns the outcomes
 * by id ("control" for null), in the order given.
 */
export async function runDetection(bugs: ReadonlyArray<Bug | null>, o: RunnerOptions): Promise<Map<string, BugOutcome>> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), "streamsim-bugs-"));
  tempDirs.add(tmp);
  const results = new Map<string, BugOutcome>();
  try {
    const base = path.join(tmp, "base");
    prepareCopy(o.root, base, null);
    const common = [
      "--seeds", o.seeds.join(","),
      "--max-runs", String(o.maxRuns),
      "--shrink-runs", String(o.shrinkRuns),
      "--shrink-seconds", String(o.shrinkSeconds),
      "--minimize-runs", String(o.minimizeRuns),
      "--minimize-seconds", String(o.minimizeSeconds),
      ...(o.suite !== undefined ? ["--suite", o.suite] : []),
    ];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < bugs.length) {
        const bug = bugs[next++] as Bug | null;
        const id = bug?.id ?? "control";
        let outcome: BugOutcome;
        if (bug === null) outcome = await runDetect(base, common, o.childTimeoutMs);
        else {
          const dir = path.join(tmp, id);
          try {
            prepareCopy(base, dir, bug);
            outcome = await runDetect(dir, [...common, "--baseline", path.join(base, "src", "runner", "check.ts")], o.childTimeoutMs);
          } catch (e) {
            outcome = { ok: false, error: (e as Error).message };
          }
          rmSync(dir, { recursive: true, force: true });
        }
        results.set(id, outcome);
        o.onDone?.(id, outcome);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, o.jobs) }, () => worker()));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    tempDirs.delete(tmp);
  }
  return new Map(bugs.map((b) => [b?.id ?? "control", results.get(b?.id ?? "control") as BugOutcome]));
}
