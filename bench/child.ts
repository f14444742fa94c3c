/**
 * Measuring a bench setting in a fresh process (its own V8 flags, its own JIT warm-up), and
 * settings taking turns: shared by bench/runs.ts and bench/sweep.ts.
 *
 * The parent starts `bench/run.ts <bench>` again with the setting's node flags and a job in the
 * environment (STREAMSIM_BENCH_CHILD: the setting's payload and a file); the bench's `main()` sees
 * the job through `childJob()`, measures, and writes its result there with `finishChild`.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const CHILD_ENV = "STREAMSIM_BENCH_CHILD";

type Job<P> = { readonly payload: P; readonly out: string };

/** In a child started by `measureInChild`, its job; undefined in the parent. */
export function childJob<P>(): Job<P> | undefined {
  const job = process.env[CHILD_ENV];
  return job === undefined ? undefined : (JSON.parse(job) as Job<P>);
}

/** The child's side: hand its result to the parent. */
export function finishChild(job: Job<unknown>, result: unknown): void {
  writeFileSync(job.out, JSON.stringify(result));
}

/** Runs `bench` in a fresh node with `nodeFlags` on `payload` and returns what the child finished with. */
export function measureInChild<T>(bench: string, nodeFlags: readonly string[], label: string, payload: unknown): T {
  const dir = mkdtempSync(join(tmpdir(), `streamsim-bench-${bench}-`));
  const out = join(dir, "measured.json");
  try {
    const args = [...nodeFlags, "--import", new URL("../bin/typescript.js", import.meta.url).href, new URL("./run.ts", import.meta.url).pathname, bench];
    const r = spawnSync(process.execPath, args, {
      stdio: ["ignore", "inherit", "inherit"],
      env: { ...process.env, [CHILD_ENV]: JSON.stringify({ payload, out } satisfies Job<unknown>) },
    });
    if (r.status !== 0) throw new Error(`the child measuring "${label}" exited with ${r.status ?? r.signal}`);
    return JSON.parse(readFileSync(out, "utf8")) as T;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Measures every setting `passes` times, the settings taking turns, so that a burst of load from
 * elsewhere on a shared machine does not fall on one setting only. Returns, per setting, its
 * measurements in pass order.
 */
export function takeTurns<S, M>(settings: readonly S[], passes: number, measure: (setting: S) => M): M[][] {
  const byPass = Array.from({ length: passes }, () => settings.map(measure));
  return settings.map((_, i) => byPass.map((p) => p[i] as M));
}
