/**
 * For the command's own tests (cli.test.ts, sweep.test.ts): run bin/streamsim.js as people do, in a
 * fresh temporary working directory, and read the results it writes there.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { RunSet } from "../report/index.ts";

const BIN = fileURLToPath(new URL("../../bin/streamsim.js", import.meta.url));

export type Ran = { code: number; stdout: string; stderr: string };

export type CliHarness = {
  /** The working directory every command runs in. */
  readonly work: string;
  /** Runs `streamsim <args>` without colour; resolves with its exit code and output. */
  streamsim(args: readonly string[]): Promise<Ran>;
  /** The results.json a command wrote under `dir` (relative to `work`). */
  readSet(dir: string): RunSet;
};

export function cliHarness(prefix: string): CliHarness {
  const work = mkdtempSync(join(tmpdir(), prefix));
  return {
    work,
    streamsim: (args) =>
      new Promise((resolve) => {
        const env = { ...process.env, NO_COLOR: "1" };
        execFile(process.execPath, [BIN, ...args], { cwd: work, env, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
          const code = err === null ? 0 : typeof err.code === "number" ? err.code : -1;
          resolve({ code, stdout, stderr });
        });
      }),
    readSet: (dir) => JSON.parse(readFileSync(join(work, dir, "results.json"), "utf8")) as RunSet,
  };
}
