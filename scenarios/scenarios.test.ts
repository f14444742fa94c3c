/**
 * Replays every scenario under scenarios/ and scenarios/regressions/ against what it declares:
 * the verdict, the failing check, the final job status and, when recorded, the trace hash.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { expectationMismatches } from "../src/report/record.ts";
import { runAndJudge } from "../src/runner/check.ts";
import { parseScenario } from "../src/scenario-schema.ts";

const here = fileURLToPath(new URL(".", import.meta.url));

function scenarioFiles(dir: string): string[] {
  const abs = join(here, dir);
  if (!existsSync(abs)) return [];
  return readdirSync(abs)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => join(dir, f));
}

const builtins = scenarioFiles(".");
const regressions = scenarioFiles("regressions");

function load(file: string) {
  const parsed = parseScenario(readFileSync(join(here, file), "utf8"), `scenarios/${file}`);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.scenario;
}

describe("built-in scenarios", () => {
  test("there are built-in scenarios to replay", () => {
    expect(builtins.length).toBeGreaterThanOrEqual(10);
  });

  test.each(builtins)("%s says what it shows and what it expects, with a recorded trace hash", (file) => {
    const s = load(file);
    expect(s.description ?? "").not.toBe("");
    expect(s.expect).toBeDefined();
    expect(s.expect?.traceHash).toMatch(/^[0-9a-f]{16}$/);
    expect(`${s.name}.json`).toBe(file.replace(/^\.\//, "").replace(/^.*\//, ""));
  });

  test.each(builtins)("%s behaves as it declares", (file) => {
    const s = load(file);
    const checked = runAndJudge(s);
    expect(expectationMismatches(s.expect, checked), checked.judgement.summary).toEqual([]);
  });
});

describe.skipIf(regressions.length === 0)("regression scenarios", () => {
  test.each(regressions)("%s behaves as it declares", (file) => {
    const s = load(file);
    const checked = runAndJudge(s);
    expect(expectationMismatches(s.expect, checked), checked.judgement.summary).toEqual([]);
  });
});
