/**
 * Sweeps as people run them: each test spawns bin/streamsim.js. Same seeds, same verdicts and
 * trace hashes whatever the worker count or the sharding.
 */
import { describe, expect, test } from "vitest";
import type { RunSet } from "../report/index.ts";
import { cliHarness } from "./spawn-harness.ts";

const { streamsim, readSet } = cliHarness("streamsim-sweep-");

/** Run id -> verdict and trace hash: what must not depend on workers or shards. */
function verdicts(set: RunSet): Record<string, string> {
  return Object.fromEntries(set.runs.map((r) => [r.id, `${r.verdict} ${r.traceHash}`]));
}

describe("streamsim sweep", () => {
  test("a sweep gives the same verdicts and trace hashes with 1 and 2 workers", async () => {
    const common = ["sweep", "--runs", "20", "--seed", "7", "--shrink-runs", "3", "--json"];
    const [one, two] = await Promise.all([
      streamsim([...common, "--workers", "1", "--out", "sweep-w1"]),
      streamsim([...common, "--workers", "2", "--out", "sweep-w2"]),
    ]);
    expect(one.stderr).toBe("");
    const a = readSet("sweep-w1");
    const b = readSet("sweep-w2");
    expect(one.code).toBe(a.totals.unexpected === 0 ? 0 : 1);
    expect(two.code).toBe(one.code);
    expect(a.runs).toHaveLength(20);
    expect(verdicts(b)).toEqual(verdicts(a));
    const json = JSON.parse(one.stdout) as { totals: { runs: number }; runs: Array<{ id: string; traceHash: string }> };
    expect(json.totals.runs).toBe(20);
    // --json lists every run, read back from results.json.
    expect(json.runs.map((r) => `${r.id} ${r.traceHash}`)).toEqual(a.runs.map((r) => `${r.id} ${r.traceHash}`));
    expect(Object.keys(json.runs[0] ?? {})).toEqual(["id", "seed", "verdict", "asExpected", "traceHash"]);
  });

  // Compares with the whole sweep the previous test wrote (tests in a file run in order).
  test("the shards of a sweep merge into the same report as the whole sweep", async () => {
    const common = ["sweep", "--runs", "20", "--seed", "7", "--shrink-runs", "3", "--workers", "0"];
    const [s1, s2] = await Promise.all([
      streamsim([...common, "--shard", "1/2", "--out", "shard-1"]),
      streamsim([...common, "--shard", "2/2", "--out", "shard-2"]),
    ]);
    expect(s1.code).toBe(readSet("shard-1").totals.unexpected === 0 ? 0 : 1);
    expect(s2.code).toBe(readSet("shard-2").totals.unexpected === 0 ? 0 : 1);
    expect(readSet("shard-1").runs.map((r) => r.id)).toEqual(["run-0", "run-2", "run-4", "run-6", "run-8", "run-10", "run-12", "run-14", "run-16", "run-18"]);
    const merged = await streamsim(["report", "--merge", "shard-1/results.json", "shard-2/results.json", "--out", "merged"]);
    expect(merged.stderr).toBe("");
    const set = readSet("merged");
    expect(set.runs).toHaveLength(20);
    expect(set.seed).toBe(7);
    const whole = readSet("sweep-w1");
    expect(verdicts(set)).toEqual(verdicts(whole));
    expect(merged.code).toBe(whole.totals.unexpected === 0 ? 0 : 1);
    const again = await streamsim(["report", "--merge", "shard-1/results.json", "shard-1/results.json", "--out", "merged-twice"]);
    expect(again.code).toBe(2);
    expect(again.stderr.trimEnd().split("\n")).toHaveLength(1);
  });

  test("replay --seed regenerates a sweep's run and reproduces its trace hash", async () => {
    const run = readSet("sweep-w1").runs.find((r) => r.asExpected && r.counterexamplePath === undefined);
    expect(run).toBeDefined();
    const r = await streamsim(["replay", "--seed", String(run?.seed), "--json"]);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout) as { runs: Array<{ traceHash: string; verdict: string }> };
    expect(json.runs[0]?.traceHash).toBe(run?.traceHash);
    expect(json.runs[0]?.verdict).toBe("pass");
  });
});
