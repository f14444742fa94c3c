/**
 * Determinism: a run is a pure function of its scenario. The same generated scenario run twice in
 * one process, or saved as a file and run in a second process, gives the same trace hash (and the
 * same output); the same scenario with another seed gives another trace.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import fc from "fast-check";
import { afterAll, describe, expect, test } from "vitest";
import { runScenario } from "../src/engine/cluster/job.ts";
import type { Scenario } from "../src/scenario.ts";
import { serializeScenario } from "../src/scenario-schema.ts";
import { canonicalJson } from "../src/sim/trace.ts";
import { propertySeed } from "../src/testing/property.ts";
import { boundedScenarioArb } from "./arbitraries.ts";

const ROOT = resolve(import.meta.dirname, "..");
const seed = propertySeed();
const dir = mkdtempSync(join(tmpdir(), "streamsim-determinism-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const outputOf = (s: Scenario): string => {
  const r = runScenario(s);
  return canonicalJson({ hash: r.traceHash, status: r.status, sinks: r.sinks, end: r.endTimeMs });
};

describe("determinism", () => {
  test("the same generated scenario run twice gives the same trace hash, output and end time", () => {
    fc.assert(
      fc.property(boundedScenarioArb({ faults: "normal" }), (s) => {
        expect(outputOf(s)).toBe(outputOf(s));
      }),
      { numRuns: 40, seed },
    );
  });

  test("a scenario saved as a file gives the same trace hash in a second worker process", () => {
    const scenarios = fc.sample(boundedScenarioArb({ faults: "heavy" }), { numRuns: 6, seed });
    const files = scenarios.map((s, i) => {
      const f = join(dir, `scenario-${i}.json`);
      writeFileSync(f, serializeScenario(s));
      return f;
    });
    const here = scenarios.map((s) => runScenario(s).traceHash);
    // A tiny script in a fresh Node process (streamsim's loader, bin/typescript.js, loads the
    // TypeScript sources): parse each file and run it.
    const script = join(dir, "hashes.ts");
    const src = (p: string): string => JSON.stringify(pathToFileURL(join(ROOT, p)).href);
    writeFileSync(
      script,
      [
        `import { readFileSync } from "node:fs";`,
        `import { runScenario } from ${src("src/engine/cluster/job.ts")};`,
        `import { parseScenario } from ${src("src/scenario-schema.ts")};`,
        `const hashes = process.argv.slice(2).map((f) => {`,
        `  const p = parseScenario(readFileSync(f, "utf8"), f);`,
        `  if (!p.ok) throw new Error(p.error);`,
        `  return runScenario(p.scenario).traceHash;`,
        `});`,
        `process.stdout.write(JSON.stringify(hashes));`,
      ].join("\n"),
    );
    const child = spawnSync(process.execPath, ["--import", pathToFileURL(join(ROOT, "bin/typescript.js")).href, script, ...files], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
    expect(child.stderr).toBe("");
    expect(child.status).toBe(0);
    expect(JSON.parse(child.stdout)).toEqual(here);
  });

  test("the same scenario with a different seed gives a different trace", () => {
    fc.assert(
      fc.property(boundedScenarioArb({ faults: "light" }), fc.integer({ min: 1, max: 1_000_000 }), (s, delta) => {
        // Latencies drawn from a range make the seed matter (a cluster with fixed latencies may not use it).
        const ranged: Scenario = { ...s, cluster: { ...s.cluster, networkLatencyMsMin: 0.5, networkLatencyMsMax: 2, storageLatencyMsMin: 0.5, storageLatencyMsMax: 3 } };
        const other: Scenario = { ...ranged, seed: (ranged.seed + delta) % 0x8000_0000 };
        expect(runScenario(other).traceHash).not.toBe(runScenario(ranged).traceHash);
      }),
      { numRuns: 30, seed },
    );
  });
});
