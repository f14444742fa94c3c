/**
 * The streamsim command as people run it: each test spawns bin/streamsim.js and checks exit codes,
 * what it prints and what it writes.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { cliHarness } from "./spawn-harness.ts";

const SCENARIOS = fileURLToPath(new URL("../../scenarios/", import.meta.url));
const { work, streamsim, readSet } = cliHarness("streamsim-cli-");


describe("streamsim", () => {
  test("a misspelt flag exits 2 with one line that names the flag and suggests the right one", async () => {
    const r = await streamsim(["sweep", "--rusn", "3"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain("--rusn");
    expect(lines[0]).toContain("--runs");
  });

  test("a scenario file with a bad field exits 2 with one line naming the file and the field", async () => {
    const text = readFileSync(join(SCENARIOS, "seed-config.json"), "utf8").replace('"timeoutMs": 60000', '"timeoutMs": -5');
    writeFileSync(join(work, "bad.json"), text);
    const r = await streamsim(["run", "bad.json"]);
    expect(r.code).toBe(2);
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^bad\.json: config\.checkpoint\.timeoutMs must be at least 10, got -5$/);
    expect(r.stderr).not.toMatch(/\bat .*\.ts:\d+/);
  });

  test("running a built-in scenario prints the seed, the checkpoint table, the verdict and the hash, writes reports, exits 0", async () => {
    const r = await streamsim(["run", "seed-config-backpressure", "--out", "run-out"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines[0]).toMatch(/^scenario\s+seed-config-backpressure/);
    expect(lines[1]).toMatch(/^seed\s+\d+$/);
    expect(r.stdout).toMatch(/^checkpoint\s+status\s+triggered\s+duration\s+state\s+max alignment\s+failure reason$/m);
    expect(r.stdout).toMatch(/^2\s+EXPIRED\s+/m);
    expect(r.stdout).toMatch(/^verdict: exactly-once held; 1 of 2 checkpoints expired \(tolerable: 0\) -> job FAILED at [\d.]+ ms$/m);
    expect(r.stdout).toMatch(/^trace hash [0-9a-f]{16}$/m);
    const set = readSet("run-out");
    expect(set.runs).toHaveLength(1);
    expect(set.runs[0]?.timeline?.length).toBeGreaterThan(0);
  });

  test("replaying a scenario file reproduces it and says the trace hash matches the recording", async () => {
    const file = join(SCENARIOS, "plain-sink-duplicates.json");
    const recorded = (JSON.parse(readFileSync(file, "utf8")) as { expect: { traceHash: string } }).expect.traceHash;
    const r = await streamsim(["replay", file]);
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n")[0]).toBe(
      `replayed 1 run: exactly-once VIOLATED (as recorded); trace hash ${recorded} matches the recording`,
    );
  });

  test("the built-in scenarios are listed one line each", async () => {
    const r = await streamsim(["scenarios", "--json"]);
    expect(r.code).toBe(0);
    const listed = (JSON.parse(r.stdout) as Array<{ name: string }>).map((x) => x.name);
    const files = readdirSync(SCENARIOS)
      .filter((f) => f.endsWith(".json"))
      .map((f) => f.slice(0, -5))
      .sort();
    expect(listed).toEqual(files);
  });
});
